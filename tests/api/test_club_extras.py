"""A member's ledger, coupons and eligible offers, and custom earning events (`club/events/`)."""

from decimal import Decimal

import pytest

from api import services as api_services
from club import services as club_services
from club.codes import coupon_code_format
from club.models import EarningRule, Offer, PointsTransaction
from tests.api.helpers import assert_problem
from tests.factories import CustomerFactory

EVENTS_URL = "/api/v1/club/events/"


def members_url(customer, suffix=""):
    return f"/api/v1/club/members/{customer.public_id}/{suffix}"


@pytest.fixture
def rich_member(member, admin_user):
    club_services.points_adjust(member=member, points=500, reason="welcome gift", by=admin_user)
    return member


@pytest.fixture
def share_rule(db):
    return EarningRule.objects.create(
        name="Share on social media", kind=EarningRule.Kind.EVENT, event_name="social_share", points=20,
        limit=EarningRule.Limit.PER_DAY, limit_count=2,
    )


def event_body(for_customer, **overrides):
    return {"customer": str(for_customer.public_id), "event": "social_share", "reference": "post-1", **overrides}


# --- Ledger --------------------------------------------------------------------------------------


def test_the_ledger_lists_signed_points_newest_first(api, rich_member, customer, offer):
    club_services.offer_redeem(member=rich_member, offer=offer)
    response = api.get(members_url(customer, "ledger/"))
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert [(row["points"], row["kind"], row["source"]) for row in rows] == [(-100, "redeem", "offer"), (500, "adjust", "staff")]
    assert rows[0]["reason"] == "Offer: 10% off" and rows[0]["order"] is None and rows[0]["expires_at"] is None
    assert rows[1]["reason"] == "welcome gift" and rows[1]["created_at"]
    assert set(rows[0]) == {"id", "points", "kind", "source", "reason", "order", "source_ref", "shortfall",
                            "created_at", "expires_at"}


def test_points_earned_by_an_order_name_the_order_and_expire(api, member, customer):
    from django.utils import timezone

    from tests.api.helpers import order_body

    order = api.post("/api/v1/orders/", order_body(customer, placed_at=timezone.now().isoformat()), format="json").json()
    row = api.get(members_url(customer, "ledger/")).json()["results"][0]
    assert row["points"] == 250 and row["kind"] == "earn" and row["order"] == order["id"]
    assert row["expires_at"] > row["created_at"]


def test_the_ledger_pages_by_cursor_in_a_constant_number_of_queries(api, rich_member, customer, admin_user,
                                                                    django_assert_num_queries):
    for n in range(5):
        club_services.points_adjust(member=rich_member, points=n + 1, reason=f"bonus {n}", by=admin_user)
    api.get(members_url(customer, "ledger/"))
    # the page, with the customer and its membership; the call log (written at once in tests). The key is remembered
    # since the first call (api.keys) and staff adjustments have no facts to load.
    with django_assert_num_queries(2):
        first = api.get(members_url(customer, "ledger/?page_size=2")).json()
    with django_assert_num_queries(2):
        everything = api.get(members_url(customer, "ledger/?page_size=50")).json()
    assert len(first["results"]) == 2 and len(everything["results"]) == 6
    pages, url = [], first["next"]
    while url:
        page = api.get(url).json()
        pages.extend(page["results"])
        url = page["next"]
    assert [row["id"] for row in first["results"] + pages] == [row["id"] for row in everything["results"]]


# --- Coupons -------------------------------------------------------------------------------------


def test_the_coupons_list_shows_the_members_coupons_and_filters_usable_ones(api, rich_member, customer, offer):
    used = club_services.offer_redeem(member=rich_member, offer=offer)
    fresh = club_services.offer_redeem(member=rich_member, offer=offer)
    club_services.coupon_redeem(code=used.code, order_value=Decimal("100"), customer=customer)
    response = api.get(members_url(customer, "coupons/"))
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert [row["code"] for row in rows] == [coupon_code_format(fresh.code), coupon_code_format(used.code)]  # as the card shows it
    assert rows[0]["offer"] == str(offer.public_id) and rows[0]["redeemed_at"] is None and rows[1]["redeemed_at"]
    usable = api.get(members_url(customer, "coupons/?usable=true")).json()["results"]
    assert [row["code"] for row in usable] == [coupon_code_format(fresh.code)]
    body = assert_problem(api.get(members_url(customer, "coupons/?usable=perhaps")), 400)
    assert body["errors"]["usable"] == ["Must be a valid boolean."]


def test_the_coupons_list_runs_a_constant_number_of_queries(api, rich_member, customer, offer, django_assert_num_queries):
    for _n in range(4):
        club_services.offer_redeem(member=rich_member, offer=offer)
    api.get(members_url(customer, "coupons/"))
    # customer with its membership, coupons, call log; the key is remembered since the first call (api.keys)
    with django_assert_num_queries(3):
        assert len(api.get(members_url(customer, "coupons/?page_size=1")).json()["results"]) == 1
    with django_assert_num_queries(3):
        assert len(api.get(members_url(customer, "coupons/")).json()["results"]) == 4


# --- Offers --------------------------------------------------------------------------------------


def test_the_offers_are_those_the_member_may_redeem_with_their_points_cost(api, rich_member, customer, offer, tiers):
    expensive = Offer.objects.create(title="Free bag", kind=Offer.Kind.FIXED, value=Decimal("30"), points_cost=900)
    Offer.objects.create(title="Gold lounge", kind=Offer.Kind.PERCENT, value=Decimal("20"), points_cost=10, exclusive=True)
    Offer.objects.create(title="Silver deal", kind=Offer.Kind.PERCENT, value=Decimal("5"), min_tier=tiers["silver"])
    Offer.objects.create(title="Switched off", kind=Offer.Kind.PERCENT, value=Decimal("5"), is_active=False)
    response = api.get(members_url(customer, "offers/"))
    assert response.status_code == 200, response.content
    rows = response.json()
    assert [(row["id"], row["points_cost"], row["affordable"]) for row in rows] == [(str(offer.public_id), 100, True), (str(expensive.public_id), 900, False)]
    assert rows[0]["title"] == "10% off" and rows[0]["kind"] == "percent" and rows[0]["value"] == "10.00"
    assert rows[0]["coupon_valid_days"] > 0 and rows[0]["min_tier"] is None


def test_the_offers_list_runs_a_constant_number_of_queries(api, rich_member, customer, tiers, django_assert_num_queries):
    def offers(count):
        for n in range(count):
            Offer.objects.create(title=f"Offer {n}", kind=Offer.Kind.PERCENT, value=Decimal("5"), points_cost=n,
                                 min_tier=tiers["bronze"])

    offers(1)
    api.get(members_url(customer, "offers/"))
    # customer with its membership, offers, call log; the key is remembered since the first call (api.keys)
    with django_assert_num_queries(3):
        assert len(api.get(members_url(customer, "offers/")).json()) == 1
    offers(6)
    with django_assert_num_queries(3):
        assert len(api.get(members_url(customer, "offers/")).json()) == 7


# --- Scopes and visibility of the member lists -----------------------------------------------------


@pytest.mark.parametrize("suffix", ["ledger/", "coupons/", "offers/"])
def test_member_lists_need_the_club_read_scope(make_client, rich_member, customer, suffix):
    body = assert_problem(make_client("club:write", "customers:read").get(members_url(customer, suffix)), 403)
    assert body["scope"] == "club:read" and "club:read" in body["detail"]


@pytest.mark.parametrize("suffix", ["ledger/", "coupons/", "offers/"])
def test_member_lists_are_404_for_customers_an_own_data_only_key_does_not_see(make_client, partner, rich_member, customer,
                                                                              offer, suffix):
    club_services.offer_redeem(member=rich_member, offer=offer)
    client = make_client("club:read", own_data_only=True)
    assert_problem(client.get(members_url(customer, suffix)), 404)
    api_services.partner_customer_share(partner=partner, customer=customer)
    response = client.get(members_url(customer, suffix))
    assert response.status_code == 200 and response.json()


@pytest.mark.parametrize("suffix", ["ledger/", "coupons/", "offers/"])
def test_member_lists_are_404_for_non_members_and_unknown_ids(api, customer, tiers, suffix):
    body = assert_problem(api.get(members_url(customer, suffix)), 404)
    assert body["type"].endswith("not_a_member")
    assert_problem(api.get(f"/api/v1/club/members/not-a-uuid/{suffix}"), 404)
    assert_problem(api.get(f"/api/v1/club/members/00000000-0000-0000-0000-000000000000/{suffix}"), 404)


# --- Custom events -------------------------------------------------------------------------------


def test_a_custom_event_earns_the_rules_points(api, member, customer, share_rule):
    response = api.post(EVENTS_URL, event_body(customer), format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    row = PointsTransaction.objects.get()
    assert body == {"customer": str(customer.public_id), "event": "social_share", "reference": "post-1", "points": 20,
                    "transaction": str(row.public_id), "reason": "", "message": "", "balance": 20}
    assert (row.kind, row.source, row.rule_id, row.source_ref) == ("earn", "event", share_rule.pk, "social_share")
    ledger = api.get(members_url(customer, "ledger/")).json()["results"]
    assert ledger[0]["id"] == str(row.public_id) and ledger[0]["points"] == 20 and ledger[0]["source"] == "event"


def test_the_same_reference_earns_once(api, member, customer, share_rule):
    first = api.post(EVENTS_URL, event_body(customer), format="json").json()
    again = api.post(EVENTS_URL, event_body(customer), format="json").json()
    assert again["transaction"] == first["transaction"] and again["balance"] == 20
    assert PointsTransaction.objects.count() == 1


def test_an_idempotency_key_replays_the_event_and_can_stand_for_the_reference(api, member, customer, share_rule):
    body = event_body(customer, reference="")
    first = api.post(EVENTS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="share-7")
    again = api.post(EVENTS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="share-7")
    assert first.status_code == again.status_code == 200, first.content
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert first.json()["points"] == 20 and PointsTransaction.objects.count() == 1
    assert_problem(api.post(EVENTS_URL, event_body(customer, reference="other"), format="json",
                            HTTP_IDEMPOTENCY_KEY="share-7"), 422)


def test_an_event_over_the_rules_limit_earns_0_points_with_the_reason(api, member, customer, share_rule):
    for n in range(2):
        assert api.post(EVENTS_URL, event_body(customer, reference=f"post-{n}"), format="json").json()["points"] == 20
    response = api.post(EVENTS_URL, event_body(customer, reference="post-3"), format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["points"] == 0 and body["transaction"] is None and body["balance"] == 40
    assert body["reason"] == "limit_reached" and "Share on social media" in body["message"]
    assert PointsTransaction.objects.count() == 2


def test_references_belong_to_each_partner(api, make_client, other_partner, member, customer, share_rule):
    mine = api.post(EVENTS_URL, event_body(customer), format="json").json()
    theirs = make_client("club:write", for_partner=other_partner).post(EVENTS_URL, event_body(customer), format="json").json()
    assert mine["transaction"] != theirs["transaction"] and theirs["balance"] == 40


@pytest.mark.parametrize("overrides, field, message", [
    ({"event": "moon_landing"}, "event", "There is no active earning rule for the event moon_landing."),
    ({"event": "not a slug!"}, "event",
     'Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.'),
    ({"reference": ""}, "reference", "Send a reference (or an Idempotency-Key header), so that a retried event earns once."),
    ({"reference": "x" * 101}, "reference", "Ensure this field has no more than 100 characters."),
    ({"customer": "nope"}, "customer", "Must be a valid UUID."),
    ({"customer": "00000000-0000-0000-0000-000000000000"}, "customer", "No such customer."),
    ({"points": 1000}, "points", "Unknown or read-only field."),
])
def test_bad_events_are_400_problems(api, member, customer, share_rule, overrides, field, message):
    body = assert_problem(api.post(EVENTS_URL, event_body(customer, **overrides), format="json"), 400)
    assert body["errors"][field] == [message]
    assert not PointsTransaction.objects.exists()


def test_an_inactive_rule_is_an_unknown_event(api, member, customer, share_rule):
    EarningRule.objects.filter(pk=share_rule.pk).update(enabled=False)
    assert "event" in assert_problem(api.post(EVENTS_URL, event_body(customer), format="json"), 400)["errors"]


def test_events_need_the_club_write_scope(make_client, member, customer, share_rule):
    body = assert_problem(make_client("club:read").post(EVENTS_URL, event_body(customer), format="json"), 403)
    assert body["scope"] == "club:write"
    assert not PointsTransaction.objects.exists()


def test_an_own_data_only_key_cannot_credit_customers_it_does_not_see(make_client, partner, member, customer, share_rule):
    client = make_client("club:write", own_data_only=True)
    body = assert_problem(client.post(EVENTS_URL, event_body(customer), format="json"), 400)
    assert body["errors"]["customer"] == ["No such customer."]  # the same answer as for an unknown customer
    assert not PointsTransaction.objects.exists()
    api_services.partner_customer_share(partner=partner, customer=customer)
    assert client.post(EVENTS_URL, event_body(customer), format="json").json()["points"] == 20


def test_an_event_for_a_customer_who_is_not_a_member_is_404(api, share_rule, tiers):
    body = assert_problem(api.post(EVENTS_URL, event_body(CustomerFactory()), format="json"), 404)
    assert body["type"].endswith("not_a_member")


def test_the_new_endpoints_are_in_the_openapi_schema(client):
    paths = client.get("/api/schema/?format=json").json()["paths"]
    for path in ("ledger", "coupons", "offers"):
        assert "200" in paths[f"/api/v1/club/members/{{customer_id}}/{path}/"]["get"]["responses"]
    assert "200" in paths["/api/v1/club/events/"]["post"]["responses"]
