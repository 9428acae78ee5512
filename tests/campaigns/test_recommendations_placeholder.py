"""{{ recommendations }} in campaign messages: the customer's own picks in their language (a short list in an
email, the names in an SMS), nothing for a customer without picks, never a product off sale; the picks of
a batch are read in one query; the campaign's pages warn about recipients without picks and preview a
recipient who has some."""

from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

import pytest

from campaigns import services
from campaigns.models import Message
from campaigns.recommendations import compact_text
from core.direction import FSI, LRI, PDI
from tests.campaigns.helpers import make_campaign, static_segment
from tests.factories.recommendations import give_picks, product

pytestmark = pytest.mark.django_db

BODY = "<p>Picked for you:</p>{{ recommendations }}"


@pytest.fixture
def catalogue(db):
    return {
        "beans": product("BEANS", "Beans 250g", price="12.50", url="https://shop.example/beans"),
        "filters": product("FILT", "Filters 100", price="1250"),
        "grinder": product("GRIND", "Grinder", price="80", url="https://shop.example/grinder"),
        "old": product("OLD", "Discontinued kettle", price="30", active=False),
    }


def sent_campaign(people, **fields):
    campaign = make_campaign(segments=[static_segment("picks", people)], **fields)
    services.campaign_schedule(campaign=campaign)
    services.campaign_start(campaign_id=campaign.pk)
    ids = list(campaign.messages.order_by("pk").values_list("pk", flat=True))
    result = services.messages_send(message_ids=ids)
    assert result.sent == len(ids)
    return campaign


def email_to(address):
    return next(message for message in mail.outbox if message.to == [address])


def test_an_email_lists_the_customer_s_picks_with_prices_and_links(customers, catalogue):
    sara = customers(first_name="Sara")
    give_picks(sara, catalogue["beans"], catalogue["filters"])
    sent_campaign([sara], subject_en="For you: {{ recommendations }}", body_en=BODY)
    email = email_to(sara.email)
    html = email.alternatives[0][0]
    assert '<a href="https://shop.example/beans">Beans 250g</a> · 12.50' in html
    assert "<li>Filters 100 · 1,250</li>" in html  # no page, no link
    assert email.subject == "For you: Beans 250g, Filters 100"
    assert "Beans 250g (https://shop.example/beans) · 12.50" in email.body
    assert "Filters 100 · 1,250" in email.body


def test_a_persian_email_writes_prices_in_persian_digits_and_isolates_each_name(customers, catalogue):
    reza = customers(first_name="Reza", language="fa")
    give_picks(reza, catalogue["filters"], catalogue["beans"])
    sent_campaign([reza], subject_fa="برای شما: {{ recommendations }}", body_fa=BODY)
    email = email_to(reza.email)
    html = email.alternatives[0][0]
    assert '<li><bdi>Filters 100</bdi> · <bdi dir="ltr">۱٬۲۵۰</bdi></li>' in html
    assert '<a href="https://shop.example/beans"><bdi>Beans 250g</bdi></a> · <bdi dir="ltr">۱۲٫۵۰</bdi>' in html
    assert "<bdi><ul" not in html  # the list is not wrapped in an island of its own
    assert email.subject == f"برای شما: {FSI}Filters 100{PDI}، {FSI}Beans 250g{PDI}"
    assert f"{FSI}Filters 100{PDI} · {LRI}۱٬۲۵۰{PDI}" in email.body


def test_an_arabic_sms_is_the_compact_list_of_names(customers, catalogue, sms_outbox):
    layla = customers(first_name="Layla", language="ar", email_opt_in=False, sms_opt_in=True)
    give_picks(layla, catalogue["beans"], catalogue["filters"], catalogue["grinder"])
    sent_campaign([layla], channel="sms", sms_text_ar="مختارة لك: {{ recommendations }}")
    text = sms_outbox[-1]["text"]
    assert text.startswith(f"مختارة لك: {FSI}Beans 250g{PDI}، {FSI}Filters 100{PDI}، {FSI}Grinder{PDI}\n")


def test_an_english_sms_keeps_to_the_length_cap():
    class Pick:
        def __init__(self, name):
            self.product = type("P", (), {"name": name})

    picks = [Pick("Single origin beans 1kg"), Pick("Paper filters, pack of 100"), Pick("Hand grinder")]
    text = compact_text(picks, "en", bidi=False, limit=51)
    assert text == "Single origin beans 1kg, Paper filters, pack of 100"
    assert compact_text([Pick("x" * 80)], "en", bidi=False, limit=20) == "x" * 19 + "…"


def test_a_customer_without_picks_gets_nothing_and_an_inactive_product_is_never_shown(customers, catalogue):
    none, only_old = customers(first_name="None"), customers(first_name="Old")
    give_picks(only_old, catalogue["old"])
    sent_campaign([none, only_old], body_en="<p>Hi {{ first_name }}.</p>{% if recommendations %}<p>Picked for you"
                                            "</p>{{ recommendations }}{% endif %}")
    for person in (none, only_old):
        email = email_to(person.email)
        assert "Picked for you" not in email.alternatives[0][0] and "<ul" not in email.alternatives[0][0]
        assert "kettle" not in email.body


def test_the_inactive_pick_is_skipped_and_the_next_ones_shown(customers, catalogue):
    sara = customers()
    give_picks(sara, catalogue["old"], catalogue["grinder"])
    sent_campaign([sara], body_en=BODY)
    html = email_to(sara.email).alternatives[0][0]
    assert "Grinder" in html and "kettle" not in html


def send_queries(customers, catalogue, size: int, body: str) -> int:
    people = [customers() for _ in range(size)]
    for person in people:
        give_picks(person, catalogue["beans"], catalogue["grinder"])
    campaign = make_campaign(segments=[static_segment(f"q{size}{len(body)}", people)], body_en=body)
    services.campaign_schedule(campaign=campaign)
    services.campaign_start(campaign_id=campaign.pk)
    ids = list(campaign.messages.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as captured:
        assert services.messages_send(message_ids=ids).sent == size
    return len(captured)


def test_a_batch_reads_the_picks_once_whatever_its_size(customers, catalogue):
    small, large = send_queries(customers, catalogue, 3, BODY), send_queries(customers, catalogue, 30, BODY)
    plain_small = send_queries(customers, catalogue, 3, "<p>No picks here</p>")
    assert large - small == 2 * 27  # only the claim and the mark of each message grow
    assert small - plain_small == 1  # one query for the picks of the whole batch; none when unused
    assert Message.objects.exclude(status=Message.Status.SENT).count() == 0


def test_the_confirmation_page_warns_how_many_recipients_have_no_picks(client, marketing_user, customers, catalogue):
    with_picks, without, inactive_only = customers(), customers(), customers()
    give_picks(with_picks, catalogue["beans"])
    give_picks(inactive_only, catalogue["old"])
    campaign = make_campaign(segments=[static_segment("warn", [with_picks, without, inactive_only])], body_en=BODY)
    client.force_login(marketing_user)
    page = client.get(reverse("admin:campaigns_campaign_action", args=[campaign.pk, "send_now"]))
    assert "2 recipients have no recommendations yet" in page.content.decode()
    page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert "2 recipients have no recommendations yet" in page
    assert "{{ recommendations }} lists the products picked for the customer" in page  # the content's help
    plain = make_campaign(segments=[static_segment("plain", [without])])
    page = client.get(reverse("admin:campaigns_campaign_action", args=[plain.pk, "send_now"]))
    assert "no recommendations" not in page.content.decode()


def test_the_preview_shows_a_recipient_with_picks_and_says_when_the_chosen_one_has_none(client, marketing_user,
                                                                                       customers, catalogue):
    first, second = customers(first_name="First"), customers(first_name="Second")
    give_picks(second, catalogue["grinder"])
    campaign = make_campaign(segments=[static_segment("preview", [first, second])], body_en=BODY)
    client.force_login(marketing_user)
    url = reverse("admin:campaigns_campaign_preview", args=[campaign.pk])
    page = client.get(url).content.decode()
    assert "Grinder" in page and "has no recommendations" not in page
    page = client.get(url, {"customer": first.email}).content.decode()
    assert "This customer has no recommendations yet" in page


def test_a_test_send_is_personalised_as_a_recipient_with_picks(customers, catalogue, admin_user):
    first, second = customers(first_name="First"), customers(first_name="Second")
    give_picks(second, catalogue["beans"])
    campaign = make_campaign(segments=[static_segment("test-send", [first, second])], body_en=BODY)
    services.campaign_test_send(campaign=campaign, to="staff@example.com", by=admin_user)
    assert "Beans 250g" in mail.outbox[-1].alternatives[0][0]
