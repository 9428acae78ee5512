
import pytest

from club import services as club_services
from club.models import Coupon, CouponRedemption, Membership
from tests.api.helpers import assert_problem


def members_url(customer, suffix=""):
    return f"/api/v1/club/members/{customer.public_id}/{suffix}"


@pytest.fixture
def rich_member(member, admin_user):
    club_services.points_adjust(member=member, points=500, reason="welcome gift", by=admin_user)
    return member


def test_it_shows_a_members_card(api, rich_member, customer):
    response = api.get(members_url(customer))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == str(customer.public_id) and body["tier"] == "Bronze"
    assert body["balance"] == 500 and body["pending"] == 0
    assert body["expiring"] == {"points": 0, "on": None}
    assert body["progress"]["next_tier"] == "Silver" and 0 <= body["progress"]["percent"] <= 100


def test_a_customer_who_is_not_a_member_is_404(api, customer):
    assert_problem(api.get(members_url(customer)), 404)


def test_it_enrols_a_customer_once(api, customer, tiers):
    first = api.post("/api/v1/club/enroll/", {"customer": str(customer.public_id)}, format="json")
    assert first.status_code == 201, first.content
    again = api.post("/api/v1/club/enroll/", {"customer": str(customer.public_id)}, format="json")
    assert again.status_code == 200 and again.json()["member_number"] == first.json()["member_number"]
    assert Membership.objects.filter(customer=customer).count() == 1
    body = assert_problem(api.post("/api/v1/club/enroll/", {"customer": "nope"}, format="json"), 400)
    assert "customer" in body["errors"]


def test_redeeming_an_offer_gives_a_coupon_and_spends_the_points(api, rich_member, customer, offer):
    response = api.post(members_url(customer, "redeem/"), {"offer": str(offer.public_id)}, format="json", HTTP_IDEMPOTENCY_KEY="r1")
    assert response.status_code == 201, response.content
    assert response.json()["offer"] == str(offer.public_id) and response.json()["code"]
    assert api.get(members_url(customer)).json()["balance"] == 400
    replay = api.post(members_url(customer, "redeem/"), {"offer": str(offer.public_id)}, format="json", HTTP_IDEMPOTENCY_KEY="r1")
    assert replay.json() == response.json() and Coupon.objects.count() == 1


def test_redeeming_without_enough_points_is_409(api, member, customer, offer):
    body = assert_problem(api.post(members_url(customer, "redeem/"), {"offer": str(offer.public_id)}, format="json"), 409)
    assert body["type"].endswith("insufficient_points")


def test_redeeming_an_unknown_offer_is_400(api, rich_member, customer):
    assert "offer" in assert_problem(api.post(members_url(customer, "redeem/"), {"offer": "00000000-0000-4000-8000-000000000000"}, format="json"), 400)["errors"]
    assert "offer" in assert_problem(api.post(members_url(customer, "redeem/"), {"offer": "ten"}, format="json"), 400)["errors"]


def test_the_till_validates_and_redeems_a_coupon_once(api, rich_member, customer, offer):
    coupon = club_services.offer_redeem(member=rich_member, offer=offer)
    body = {"code": coupon.code, "customer": str(customer.public_id), "order_value": "200.00"}
    check = api.post("/api/v1/coupons/validate/", body, format="json")
    assert check.status_code == 200, check.content
    assert check.json()["valid"] is True and check.json()["discount"] == "20.00"

    first = api.post("/api/v1/coupons/redeem/", {**body, "reference": "till 3"}, format="json")
    assert first.status_code == 201, first.content
    assert first.json()["discount"] == "20.00" and first.json()["reference"] == "till 3"
    body = assert_problem(api.post("/api/v1/coupons/redeem/", {**body, "reference": "till 4"}, format="json"), 409)
    assert body["type"].endswith("coupon_redeemed")
    assert CouponRedemption.objects.count() == 1
    refused = api.post("/api/v1/coupons/validate/", {"code": coupon.code, "order_value": "5"}, format="json").json()
    assert refused["valid"] is False and refused["reason"] == "redeemed"


def test_it_shows_a_coupon_code_as_the_card_does_and_reads_it_in_any_usual_form(api, client, rich_member, customer, offer):
    coupon = club_services.offer_redeem(member=rich_member, offer=offer)
    shown = club_services.coupon_code_format(coupon.code)  # "ABCD-EFGH-JKMN", as on the club card
    assert shown.count("-") == 2
    listed = api.get(members_url(customer, "coupons/")).json()["results"]
    assert [row["code"] for row in listed] == [shown]
    assert shown in client.get(club_services.card_link(rich_member)).content.decode()
    for typed in (shown, coupon.code, shown.lower(), shown.replace("-", " ")):
        check = api.post("/api/v1/coupons/validate/", {"code": typed, "customer": str(customer.public_id),
                                                       "order_value": "200.00"}, format="json").json()
        assert check["valid"] is True, typed
    used = api.post("/api/v1/coupons/redeem/", {"code": shown.lower(), "customer": str(customer.public_id),
                                                "order_value": "200.00"}, format="json")
    assert used.status_code == 201 and used.json()["code"] == shown


def test_an_unknown_coupon_is_refused_with_a_reason(api, db):
    response = api.post("/api/v1/coupons/validate/", {"code": "NOPE-NOPE", "order_value": "10"}, format="json")
    assert response.json()["valid"] is False and response.json()["reason"] == "unknown"
    assert_problem(api.post("/api/v1/coupons/redeem/", {"code": "NOPE-NOPE", "order_value": "10"}, format="json"), 400)
    assert_problem(api.post("/api/v1/coupons/validate/", {"code": "X", "order_value": "1e999"}, format="json"), 400)


def test_an_own_data_only_key_gets_404_for_other_members(make_client, rich_member, customer, offer):
    client = make_client("club:read", "club:write", "coupons:redeem", own_data_only=True)
    assert_problem(client.get(members_url(customer)), 404)
    assert_problem(client.post(members_url(customer, "redeem/"), {"offer": str(offer.public_id)}, format="json"), 404)
    coupon = club_services.offer_redeem(member=rich_member, offer=offer)
    body = assert_problem(client.post("/api/v1/coupons/redeem/", {"code": coupon.code, "order_value": "10"}, format="json"), 400)
    assert "customer" in body["errors"]
    assert Coupon.objects.get(pk=coupon.pk).redeemed_at is None
