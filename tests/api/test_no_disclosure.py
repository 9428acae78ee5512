"""Issue 16: an own-data-only key learns nothing about people and codes that are not its own."""

from api import services as api_services
from club import services as club_services


def test_it_answers_another_customers_coupon_exactly_like_a_code_that_does_not_exist(make_client, member, offer, admin_user):
    client = make_client("customers:write", "coupons:redeem", own_data_only=True)
    mine = api_services.partner_customer_create(partner=client.key.partner, email="mine@example.com")
    club_services.points_adjust(member=member, points=500, reason="gift", by=admin_user)
    someone_elses = club_services.offer_redeem(member=member, offer=offer)

    def validate(code):
        return client.post("/api/v1/coupons/validate/",
                           {"code": code, "order_value": "50", "customer": str(mine.public_id)}, format="json")

    theirs, missing = validate(someone_elses.code), validate("NO-SUCH-CODE")
    assert theirs.status_code == missing.status_code == 200
    assert theirs.json() == missing.json()
    assert theirs.json()["reason"] == "unknown" and theirs.json()["valid"] is False
