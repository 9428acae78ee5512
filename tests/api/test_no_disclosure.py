"""Issue 16: an own-data-only key learns nothing about people and codes that are not its own."""

from datetime import date

import pytest

from api import services as api_services
from api.models import PartnerCustomer
from club import services as club_services
from crm import services as crm_services
from club.models import Membership
from crm.models import ConsentChange, Customer
from tests.api.helpers import assert_problem

URL = "/api/v1/customers/"
CHANGING = {"id", "created_at", "updated_at"}  # differ between any two customers


@pytest.fixture
def elsewhere(db, other_partner, place_order):
    """A person another partner created, with a full record and orders."""
    person = api_services.partner_customer_create(
        partner=other_partner, email="parisa@example.com", phone="+989121234567", external_ref="OTHER-7",
        first_name="Parisa", last_name="", city="Shiraz", notes="prefers calls", birth_date=date(1980, 5, 1),
        tags=["vip"],
    )
    place_order(person, total="500.00")
    return person


@pytest.fixture
def own(make_client):
    return make_client("customers:read", "customers:write", own_data_only=True)


def _comparable(response):
    body = response.json()
    return response.status_code, sorted(response.headers), {k: v for k, v in body.items() if k not in CHANGING}


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


@pytest.mark.parametrize("identifier", ["email", "external_ref", "phone"])
def test_it_answers_a_person_who_exists_elsewhere_exactly_like_a_new_one(own, elsewhere, identifier):
    sent = {"email": "PARISA@example.com", "external_ref": "OTHER-7", "phone": "+98 912 123 4567"}[identifier]
    fresh = {"email": "new@example.com", "external_ref": "NEW-1", "phone": "+989121112233"}[identifier]
    body = {identifier: sent, "first_name": "Sara", "sms_opt_in": True, "tags": ["web"]}

    existing = own.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="a")
    new = own.post(URL, {**body, identifier: fresh}, format="json", HTTP_IDEMPOTENCY_KEY="b")

    assert existing.status_code == new.status_code == 201, existing.content
    assert existing.json()["id"] == str(elsewhere.public_id)
    status, headers, shown = _comparable(existing)
    new_status, new_headers, new_shown = _comparable(new)
    assert (status, headers) == (new_status, new_headers)
    assert {**shown, identifier: None} == {**new_shown, identifier: None}
    # Nothing the partner did not send: no other contact, no notes, no orders, no other partner's tags.
    assert shown["city"] == shown["notes"] == shown["last_name"] == ""
    assert shown["birth_date"] is None and shown["orders_count"] == 0 and shown["total_spent"] == "0.00"
    assert shown["tags"] == ["web"] and shown["first_name"] == "Sara"
    assert [k for k in ("email", "phone", "external_ref") if shown[k] is not None] == [identifier]


def test_the_person_is_seen_only_as_sent_in_detail_list_and_lookups(own, elsewhere):
    created = own.post(URL, {"email": "parisa@example.com", "first_name": "Sara"}, format="json").json()
    detail = own.get(f"{URL}{created['id']}/").json()
    assert detail == created
    assert own.get(URL).json()["results"] == [created]
    assert own.get(f"{URL}lookup/?email=parisa@example.com").json() == created
    # What another partner stored finds nothing: no lookup or filter is an oracle.
    assert_problem(own.get(f"{URL}lookup/?phone=%2B989121234567"), 404)
    assert_problem(own.get(f"{URL}lookup/?external_ref=OTHER-7"), 404)
    for query in ("phone=%2B989121234567", "external_ref=OTHER-7", "city=Shiraz", "tag=vip", "lifecycle_stage=new"):
        assert own.get(f"{URL}?{query}").json()["results"] == [], query
    assert own.get(f"{URL}?email=parisa@example.com").json()["results"] == [created]


def test_what_the_partner_sends_fills_empty_fields_and_never_overwrites(own, elsewhere, partner):
    own.post(URL, {"email": "parisa@example.com", "first_name": "Sara", "last_name": "Ahmadi", "city": "Tehran",
                   "email_opt_in": True, "tags": ["web"]}, format="json")
    elsewhere.refresh_from_db()
    assert (elsewhere.first_name, elsewhere.city) == ("Parisa", "Shiraz")  # stored by others: kept
    assert elsewhere.last_name == "Ahmadi"  # was empty: filled
    assert elsewhere.email_opt_in is True
    assert ConsentChange.objects.get(customer=elsewhere, channel="email").source == "api"
    assert sorted(elsewhere.tags.values_list("name", flat=True)) == ["vip", "web"]
    link = PartnerCustomer.objects.get(partner=partner, customer=elsewhere)
    assert link.created is False and link.view["first_name"] == "Sara"
    assert Customer.objects.count() == 1


def test_a_patch_through_the_view_changes_the_view_and_fills_only_empty_fields(own, elsewhere):
    created = own.post(URL, {"email": "parisa@example.com"}, format="json").json()
    response = own.patch(f"{URL}{created['id']}/", {"first_name": "Sara", "notes": "x", "gender": "female"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["first_name"], response.json()["notes"], response.json()["city"]) == ("Sara", "x", "")
    elsewhere.refresh_from_db()
    assert (elsewhere.first_name, elsewhere.notes, elsewhere.gender) == ("Parisa", "prefers calls", "female")


def test_a_bad_value_is_refused_the_same_way_for_both(own, elsewhere):
    bad = {"birth_date": "2999-01-01", "first_name": "Sara"}
    existing = assert_problem(own.post(URL, {**bad, "email": "parisa@example.com"}, format="json"), 400)
    new = assert_problem(own.post(URL, {**bad, "email": "new@example.com"}, format="json"), 400)
    assert existing == new and "birth_date" in existing["errors"]
    assert not PartnerCustomer.objects.filter(customer=elsewhere, partner=own.key.partner).exists()


def test_a_key_that_sees_everyone_is_still_refused_a_duplicate(make_client, elsewhere):
    client = make_client("customers:read", "customers:write")  # it may list everyone: refusing tells it nothing new
    response = client.post(URL, {"email": "parisa@example.com"}, format="json")
    assert response.status_code in (400, 409)
    assert Customer.objects.count() == 1


def test_the_other_partner_keeps_seeing_the_person_as_stored(make_client, own, elsewhere, other_partner):
    own.post(URL, {"email": "parisa@example.com", "first_name": "Sara"}, format="json")
    theirs = make_client("customers:read", own_data_only=True, for_partner=other_partner)
    body = theirs.get(f"{URL}{elsewhere.public_id}/").json()
    assert (body["first_name"], body["city"], body["orders_count"]) == ("Parisa", "Shiraz", 1)


def test_other_partners_orders_history_and_segments_stay_hidden(own, elsewhere, make_client):
    from campaigns.models import Segment

    created = own.post(URL, {"email": "parisa@example.com"}, format="json").json()
    crm_services.interaction_log(customer=elsewhere, subject="complained about delivery")
    assert own.get(f"/api/v1/orders/?customer={created['id']}").json()["results"] == []
    assert own.get(f"{URL}{created['id']}/timeline/").json()["results"] == []
    assert own.get(f"{URL}{created['id']}/interactions/").json()["results"] == []
    assert own.get(f"{URL}{created['id']}/consents/").json()["results"] == []
    segment = Segment.objects.create(slug="everyone", name="Everyone", rules={"all": []})
    reader = make_client("segments:read", own_data_only=True)
    assert reader.get(f"/api/v1/segments/{segment.slug}/customers/").json()["results"] == []


# --- What else a person seen through a view could reveal (issue 16, the remaining leaks) ----------


def _problem_shape(response):
    return response.status_code, response["Content-Type"], response.json()


def test_a_customer_the_key_cannot_see_answers_exactly_like_one_that_does_not_exist(make_client, elsewhere):
    client = make_client("customers:read", "club:read", "club:write", own_data_only=True)
    missing = "00000000-0000-4000-8000-000000000000"
    for path in ("customers/{}/", "club/members/{}/", "club/members/{}/ledger/", "club/members/{}/coupons/",
                 "customers/{}/consents/"):
        hidden, unknown = (client.get("/api/v1/" + path.format(id_)) for id_ in (elsewhere.public_id, missing))
        assert _problem_shape(hidden) == _problem_shape(unknown), path
        assert hidden.status_code == 404
    order = elsewhere.orders.get()
    hidden, unknown = (client.get(f"/api/v1/orders/{id_}/") for id_ in (order.public_id, missing))
    assert _problem_shape(hidden) == _problem_shape(unknown) and hidden.status_code == 404


def test_a_member_seen_through_a_view_is_not_a_member_for_the_key(make_client, make_member, partner):
    client = make_client("customers:write", "club:read", "club:write", own_data_only=True)
    member = make_member(email="member@example.com", first_name="Parisa")
    pushed = client.post(URL, {"email": "member@example.com"}, format="json").json()
    new = client.post(URL, {"email": "new@example.com"}, format="json").json()
    for path in ("club/members/{}/", "club/members/{}/ledger/", "club/members/{}/coupons/", "club/members/{}/offers/"):
        seen, fresh = (client.get("/api/v1/" + path.format(body["id"])) for body in (pushed, new))
        assert _problem_shape(seen) == _problem_shape(fresh), path  # balance, tier, joining date: not its to read
        assert seen.json()["type"].endswith("/not_a_member")
    answer = client.post("/api/v1/club/enroll/", {"customer": pushed["id"]}, format="json")
    assert answer.status_code == 202 and "member_number" not in answer.json()  # a code goes to the customer first
    member.refresh_from_db()
    assert member.status == "active"  # nothing changed for the person


ENROL = "/api/v1/club/enroll/"


@pytest.mark.usefixtures("campaign_settings", "tiers", "purchase_rule")
def test_enrolling_answers_a_new_person_one_from_elsewhere_and_a_member_byte_for_byte_alike(
        make_client, elsewhere, make_member):
    client = make_client("customers:write", "club:read", "club:write", own_data_only=True)
    member = make_member(email="member@example.com", first_name="Parisa")
    people = [client.post(URL, {"email": email, "phone": phone}, format="json").json()["id"] for email, phone in (
        ("new@example.com", "+989351110001"),          # new
        (elsewhere.email, "+989351110002"),            # exists elsewhere, not in the club
        ("member@example.com", "+989351110003"),       # exists elsewhere, a member
    )]
    answers = [client.post(ENROL, {"customer": person}, format="json") for person in people]
    assert {answer.status_code for answer in answers} == {202}
    # Only the expiry differs (it is when each code was sent): the rest is the same bytes, headers too.
    bodies = [answer.content.replace(answer.json()["expires_at"].encode(), b"EXPIRES") for answer in answers]
    assert len(set(bodies)) == 1 and b'"status":"confirmation_sent"' in bodies[0] and b'"channel":"sms"' in bodies[0]
    assert len({tuple(sorted((name, value) for name, value in answer.headers.items() if name != "X-Request-ID"))
                for answer in answers}) == 1
    assert not Membership.objects.filter(customer=elsewhere).exists()  # nobody was enrolled
    member.refresh_from_db()
    assert member.status == "active"


def test_a_member_number_is_refused_alike_for_a_wrong_card_and_for_a_person_who_is_not_a_member(
        make_client, elsewhere, make_member, admin_user):
    client = make_client("customers:write", "club:read", "club:write", own_data_only=True)
    member = make_member(email="member@example.com", first_name="Parisa")
    club_services.points_adjust(member=member, points=700, reason="gift", by=admin_user)
    pushed = client.post(URL, {"email": "member@example.com"}, format="json").json()
    outsider = client.post(URL, {"email": elsewhere.email}, format="json").json()
    valid_elsewhere = club_services.member_number_format(member.member_number)

    for number in ("0000 0000 00", "not a number", "1234567897"):
        wrong_card, not_a_member = (client.post(ENROL, {"customer": person, "member_number": number}, format="json")
                                    for person in (pushed["id"], outsider["id"]))
        assert wrong_card.status_code == not_a_member.status_code == 400
        assert wrong_card.content == not_a_member.content and sorted(wrong_card.headers) == sorted(not_a_member.headers)
        assert wrong_card.json()["type"].endswith("/member_number_invalid") and "700" not in wrong_card.content.decode()
    # Even a real card number, given for someone who is not a member, is just "not this customer's card".
    refused = client.post(ENROL, {"customer": outsider["id"], "member_number": valid_elsewhere}, format="json")
    assert refused.status_code == 400 and refused.json()["type"].endswith("/member_number_invalid")
    assert not Membership.objects.filter(customer=elsewhere).exists()
    assert client.get(f"/api/v1/club/members/{pushed['id']}/").status_code == 404  # still not the key's to read

    shown = client.post(ENROL, {"customer": pushed["id"], "member_number": valid_elsewhere}, format="json")
    assert shown.status_code == 200 and shown.json()["balance"] == 700  # the card the customer showed at the till
    assert client.get(f"/api/v1/club/members/{pushed['id']}/").json()["member_number"] == valid_elsewhere
    member.refresh_from_db()
    assert member.status == "active" and member.points_balance == 700


def test_a_card_shown_to_one_key_is_not_shown_to_another(make_client, make_member, other_partner):
    first = make_client("customers:write", "club:read", "club:write", own_data_only=True)
    second = make_client("customers:write", "club:read", "club:write", own_data_only=True, for_partner=other_partner)
    member = make_member(email="member@example.com")
    for client in (first, second):
        client.pushed = client.post(URL, {"email": "member@example.com"}, format="json").json()["id"]
    assert first.post(ENROL, {"customer": first.pushed, "member_number": member.member_number},
                      format="json").status_code == 200
    assert second.get(f"/api/v1/club/members/{second.pushed}/").status_code == 404


def test_a_person_seen_through_a_view_owns_no_coupon_for_the_key(make_client, member, offer, admin_user):
    client = make_client("customers:write", "coupons:redeem", own_data_only=True)
    club_services.points_adjust(member=member, points=500, reason="gift", by=admin_user)
    coupon = club_services.offer_redeem(member=member, offer=offer)
    pushed = client.post(URL, {"email": member.customer.email}, format="json").json()

    def validate(code):
        return client.post("/api/v1/coupons/validate/", {"code": code, "order_value": "50", "customer": pushed["id"]},
                           format="json")

    assert validate(coupon.code).json() == validate("NO-SUCH-CODE").json()
    assert validate(coupon.code).json()["reason"] == "unknown"


def test_a_consent_answer_never_says_what_others_recorded(own, elsewhere):
    crm_services.consent_set(customer=elsewhere, channel="email", granted=True, source="shop-two")
    pushed = own.post(URL, {"email": "parisa@example.com"}, format="json").json()
    new = own.post(URL, {"email": "new@example.com"}, format="json").json()
    sent = {"channel": "email", "granted": True, "source": "till"}

    seen, fresh = (own.post(f"{URL}{body['id']}/consents/", sent, format="json") for body in (pushed, new))
    assert seen.status_code == fresh.status_code == 201  # not 200 "it already had that value"
    assert {k: v for k, v in seen.json().items() if k != "changed_at"} == \
        {k: v for k, v in fresh.json().items() if k != "changed_at"} == {"channel": "email", "granted": True, "source": "api:till"}
    again = own.post(f"{URL}{pushed['id']}/consents/", sent, format="json")
    assert again.status_code == 200 and again.json() == seen.json()  # its own latest row
    assert own.get(f"{URL}{pushed['id']}/consents/").json()["results"] == [seen.json()]
    assert own.get(f"{URL}{pushed['id']}/").json()["email_opt_in"] is True

    withdrawn = own.post(f"{URL}{pushed['id']}/consents/", {**sent, "granted": False}, format="json")
    assert withdrawn.status_code == 201
    elsewhere.refresh_from_db()
    assert elsewhere.email_opt_in is False  # the person's wish is applied
    assert ConsentChange.objects.filter(customer=elsewhere).count() == 2


def test_webhooks_tell_the_key_only_what_it_could_read(db, webhook_settings, own, elsewhere, partner, receiver, place_order):
    from api.models import WebhookDelivery
    from api.scoping import partner_order_source
    from tests.api.webhook_helpers import subscribe

    subscribe(partner, receiver, "customer.created", "order.created", own_data_only=True)
    pushed = own.post(URL, {"email": "parisa@example.com", "first_name": "Sara"}, format="json").json()
    new = own.post(URL, {"email": "new@example.com", "first_name": "Sara"}, format="json").json()
    payloads = dict(WebhookDelivery.objects.filter(event="customer.created").values_list("payload__id", "payload"))
    assert payloads[pushed["id"]] == pushed  # the person as the key sees it, like the API's answer
    assert set(payloads[new["id"]]) == set(pushed)

    WebhookDelivery.objects.all().delete()
    place_order(elsewhere, total="900.00")  # another partner's order: not the key's to hear of
    assert not WebhookDelivery.objects.exists()
    mine = place_order(elsewhere, total="20.00", source=partner_order_source(partner.pk))
    assert list(WebhookDelivery.objects.values_list("event", "payload__id")) == [("order.created", str(mine.public_id))]
