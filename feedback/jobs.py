"""feedback's periodic jobs (declared in feedback.contributions; see core/jobs.py); each is idempotent for its date."""

from datetime import date


def post_purchase_invitations(run_date: date) -> dict:
    from feedback.services import invitations_for_fulfilled_orders

    return {"invited": invitations_for_fulfilled_orders(run_date=run_date)}
