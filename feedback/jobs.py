"""feedback's periodic jobs (see crm/jobs.py); each is idempotent for its date."""

from datetime import date

from crm.jobs import register_job


def post_purchase_invitations(run_date: date) -> dict:
    from feedback.services import invitations_for_fulfilled_orders

    return {"invited": invitations_for_fulfilled_orders(run_date=run_date)}


def register() -> None:
    register_job("feedback.post_purchase_invitations", post_purchase_invitations, schedule={"minute": "0", "hour": "10"},
                 description="Invite customers to the surveys sent N days after an order is fulfilled (once per cooldown).")
