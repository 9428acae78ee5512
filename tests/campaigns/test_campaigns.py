from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign, Message
from club import services as club_services
from club.models import Coupon
from core.direction import FSI, PDI
from tests.campaigns.helpers import make_campaign, send_everything, static_segment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


def test_it_freezes_one_message_per_recipient_leaving_out_the_excluded_segments(customers):
    ana, ben, cyrus, dina = (customers(first_name=name) for name in ("Ana", "Ben", "Cyrus", "Dina"))
    coffee = static_segment("coffee", [ana, ben, cyrus])
    tea = static_segment("tea", [cyrus, dina])  # Cyrus is in both: one message
    vip = static_segment("vip", [ben])
    campaign = make_campaign(segments=[coffee, tea], excluded=[vip])

    services.campaign_schedule(campaign=campaign)
    assert services.campaign_start(campaign_id=campaign.pk)

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING
    assert set(campaign.messages.values_list("customer__first_name", flat=True)) == {"Ana", "Cyrus", "Dina"}
    assert campaign.audience_size == campaign.recipients == 3
    assert set(campaign.messages.values_list("status", flat=True)) == {Message.Status.QUEUED}


def test_the_freeze_is_set_based_not_one_query_per_customer(customers):
    def queries_to_start(size):
        campaign = make_campaign(segments=[static_segment(f"s{size}", [customers() for _ in range(size)])])
        services.campaign_schedule(campaign=campaign)
        with CaptureQueriesContext(connection) as queries:
            services.campaign_start(campaign_id=campaign.pk)
        assert campaign.messages.count() == size
        return len(queries)

    # Only the number of INSERT batches grows (SQLite caps the parameters of one statement), never per customer.
    assert queries_to_start(80) - queries_to_start(20) <= 2


def test_those_without_consent_suppressed_or_over_the_cap_are_skipped_and_counted(customers, settings):
    settings.CAMPAIGNS_FREQUENCY_CAP = 2
    ok = customers(first_name="Ok")
    no_consent = customers(email_opt_in=False)
    no_email = customers(email=None, phone="+989121110000", email_opt_in=True)
    suppressed = customers(email="gone@example.com")
    busy = customers(first_name="Busy")
    services.suppression_add(email="GONE@example.com ")
    for _ in range(2):  # two marketing messages this week already
        Message.objects.create(customer=busy, channel="email", is_marketing=True, status=Message.Status.SENT,
                               sent_at=timezone.now())
    campaign = make_campaign(segments=[static_segment("everyone", [ok, no_consent, no_email, suppressed, busy])])

    services.campaign_schedule(campaign=campaign)
    services.campaign_start(campaign_id=campaign.pk)

    campaign.refresh_from_db()
    assert list(campaign.messages.values_list("customer", flat=True)) == [ok.pk]
    assert (campaign.skipped_no_consent, campaign.skipped_suppressed, campaign.skipped_frequency_cap) == (2, 1, 1)
    assert campaign.audience_size == 5 and campaign.recipients == 1


def test_messages_older_than_the_cap_window_do_not_count(customers, settings):
    settings.CAMPAIGNS_FREQUENCY_CAP = 1
    customer = customers()
    Message.objects.create(customer=customer, channel="email", is_marketing=True, status=Message.Status.SENT,
                           created_at=timezone.now() - timedelta(days=8))
    Message.objects.create(customer=customer, channel="email", is_marketing=False, status=Message.Status.SENT)
    campaign = make_campaign(segments=[static_segment("s", [customer])])
    services.campaign_schedule(campaign=campaign)
    services.campaign_start(campaign_id=campaign.pk)
    assert campaign.messages.count() == 1


def test_the_preferred_channel_is_email_when_possible_else_sms(customers):
    both = customers(sms_opt_in=True)
    sms_only = customers(email_opt_in=False, sms_opt_in=True)
    campaign = make_campaign(segments=[static_segment("s", [both, sms_only])], channel="preferred")
    services.campaign_schedule(campaign=campaign)
    services.campaign_start(campaign_id=campaign.pk)
    assert dict(campaign.messages.values_list("customer", "channel")) == {both.pk: "email", sms_only.pk: "sms"}


def test_variants_split_the_audience_in_their_proportions(customers):
    segment = static_segment("s", [customers() for _ in range(40)])
    campaign = make_campaign(segments=[segment], variants=[("A", 50, {}), ("B", 25, {"subject_en": "B!"}),
                                                          ("C", 25, {"subject_en": "C!"})])
    services.campaign_schedule(campaign=campaign)
    services.campaign_start(campaign_id=campaign.pk)
    assert Counter(campaign.messages.values_list("variant", flat=True)) == {"A": 20, "B": 10, "C": 10}


def test_with_a_winner_only_the_test_share_is_split_and_the_rest_waits(customers, django_capture_on_commit_callbacks):
    segment = static_segment("s", [customers() for _ in range(50)])
    campaign = make_campaign(segments=[segment], variants=[("A", 50, {}), ("B", 50, {"subject_en": "Other"})],
                             winner_after_hours=4, test_percent=20)
    send_everything(django_capture_on_commit_callbacks, campaign)
    counts = Counter(campaign.messages.values_list("variant", "status"))
    assert counts == {("A", "sent"): 5, ("B", "sent"): 5, ("", "held"): 40}
    assert campaign.status == Campaign.Status.SENDING
    b_message = campaign.messages.filter(variant="B").first()
    services.message_mark_clicked(b_message, campaign.links.get())

    assert services.campaign_pick_winner(campaign=campaign) is None  # not before 4 hours
    with django_capture_on_commit_callbacks(execute=True):
        winner = services.campaign_pick_winner(campaign=campaign, now=timezone.now() + timedelta(hours=4, minutes=1))
    assert winner == "B"
    campaign.refresh_from_db()
    assert campaign.winner_variant == "B" and campaign.status == Campaign.Status.SENT
    assert Counter(campaign.messages.values_list("variant", flat=True)) == {"A": 5, "B": 45}
    assert len(mail.outbox) == 50


def test_each_recipient_gets_their_own_language_with_english_as_fallback(customers, django_capture_on_commit_callbacks):
    persian = customers(first_name="سارا", language="fa")
    arabic = customers(first_name="ليلى", language="ar")  # no Arabic text: English
    campaign = make_campaign(segments=[static_segment("s", [persian, arabic])],
                             subject_fa="سلام {{ first_name }}", body_fa="<p>حراج بهاره</p>")
    send_everything(django_capture_on_commit_callbacks, campaign)
    by_recipient = {email.to[0]: email for email in mail.outbox}
    assert by_recipient[persian.email].subject == f"سلام {FSI}سارا{PDI}"  # the name isolated (core.direction)
    assert 'dir="rtl"' in by_recipient[persian.email].alternatives[0][0]
    assert by_recipient[arabic.email].subject == f"Hello {FSI}ليلى{PDI}"


def test_it_isolates_a_persian_emails_text_part_as_its_html_part_and_puts_no_markup_in_attributes(
    customers, django_capture_on_commit_callbacks
):
    persian = customers(first_name="Sara", last_name="Karimi", language="fa")
    campaign = make_campaign(
        segments=[static_segment("s", [persian])], subject_fa="سلام",
        body_fa='<p title="{{ first_name }}">سلام {{ first_name }}، کارت شما: {{ last_name }}</p>'
                '<img alt="{{ first_name }}" src="https://shop.example.com/{{ last_name }}.png">')
    send_everything(django_capture_on_commit_callbacks, campaign)
    (email,) = mail.outbox
    html = email.alternatives[0][0]
    assert f"سلام {FSI}Sara{PDI}، کارت شما: {FSI}Karimi{PDI}" in email.body  # the text part isolates like the HTML
    assert "bdi" not in email.body
    assert "سلام <bdi>Sara</bdi>، کارت شما: <bdi>Karimi</bdi>" in html
    assert f'<p title="{FSI}Sara{PDI}">' in html and f'alt="{FSI}Sara{PDI}"' in html  # isolates, not <bdi>, in a tooltip
    assert 'src="https://shop.example.com/Karimi.png"' in html  # a URL keeps its exact characters


def test_personalisation_fills_the_club_fields_and_escapes_html(customers, club, django_capture_on_commit_callbacks):
    customer = customers(first_name="<b>Ali</b>")
    member = club_services.member_enroll(customer=customer)
    club_services.points_adjust(member=member, points=250, reason="welcome gift", by=None)
    campaign = make_campaign(
        segments=[static_segment("s", [customer])], offer=club["offer"],
        subject_en="{{ first_name }}: {{ offer }}",
        body_en="<p>{{ first_name }} ({{ tier }}) has {{ points_balance }} points; code {{ coupon_code }}</p>",
    )
    send_everything(django_capture_on_commit_callbacks, campaign)
    email = mail.outbox[0]
    html = email.alternatives[0][0]
    coupon = Coupon.objects.get(member=member)
    assert email.subject == "<b>Ali</b>: 15% off everything"  # a subject is plain text
    assert "&lt;b&gt;Ali&lt;/b&gt; (Bronze) has 250 points" in html
    assert club_services.coupon_code_format(coupon.code) in html
    assert coupon.kind == Coupon.Kind.CAMPAIGN and coupon.idempotency_key == f"campaign:{campaign.pk}:{customer.pk}"


def test_each_member_gets_a_unique_coupon_and_non_members_are_left_out_and_counted(customers, club,
                                                                                   django_capture_on_commit_callbacks):
    members = [customers() for _ in range(3)]
    for customer in members:
        club_services.member_enroll(customer=customer)
    outsider = customers()
    campaign = make_campaign(segments=[static_segment("s", [*members, outsider])], offer=club["offer"],
                             body_en="<p>{% if coupon_code %}Code {{ coupon_code }}{% else %}Join the club{% endif %}</p>")
    send_everything(django_capture_on_commit_callbacks, campaign)
    coupons = Coupon.objects.filter(kind=Coupon.Kind.CAMPAIGN)
    assert coupons.count() == 3 and len(set(coupons.values_list("code", flat=True))) == 3
    assert campaign.messages.filter(coupon__isnull=False).count() == 3
    assert [email.to for email in mail.outbox if email.to == [outsider.email]] == []  # no "0 points" with no code
    campaign.refresh_from_db()
    assert (campaign.recipients, campaign.skipped_not_for_offer, campaign.skipped) == (3, 1, 1)
    assert not campaign.messages.filter(customer=outsider).exists()


def test_invalid_transitions_are_refused_with_a_message(customers, django_capture_on_commit_callbacks):
    campaign = make_campaign(segments=[static_segment("s", [customers()])])
    with pytest.raises(ValidationError, match="draft cannot become draft"):
        services.campaign_unschedule(campaign=campaign)
    send_everything(django_capture_on_commit_callbacks, campaign)
    assert campaign.status == Campaign.Status.SENT
    with pytest.raises(ValidationError, match="sent cannot become cancelled"):
        services.campaign_cancel(campaign=campaign)
    with pytest.raises(ValidationError, match="sent cannot become scheduled"):
        services.campaign_schedule(campaign=campaign)


def test_a_campaign_that_is_not_ready_cannot_be_scheduled(db):
    campaign = Campaign.objects.create(name="Empty", channel="sms")
    with pytest.raises(ValidationError) as refused:
        services.campaign_schedule(campaign=campaign)
    text = " ".join(refused.value.messages)
    assert "target segment" in text and "SMS text" in text
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT


def test_variant_shares_must_add_up_to_100_and_at_most_four(customers):
    campaign = make_campaign(segments=[static_segment("s", [customers()])], variants=[("A", 50, {}), ("B", 40, {})])
    with pytest.raises(ValidationError, match="add up to 100"):
        services.campaign_schedule(campaign=campaign)
    with pytest.raises(ValidationError, match="at most 4"):
        services.variants_validate([("A", 20), ("B", 20), ("C", 20), ("D", 20), ("A", 20)])


def test_a_template_that_reaches_beyond_the_placeholders_is_refused(customers):
    campaign = make_campaign(segments=[static_segment("s", [customers()])], body_en="{{ customer.delete }}")
    with pytest.raises(ValidationError, match=r"customer\.delete"):
        services.campaign_schedule(campaign=campaign)


def test_a_scheduled_campaign_starts_when_its_time_comes(customers):
    campaign = make_campaign(segments=[static_segment("s", [customers()])])
    later = timezone.now() + timedelta(hours=2)
    services.campaign_schedule(campaign=campaign, at=later)
    assert services.campaigns_dispatch()["started"] == 0
    assert services.campaigns_dispatch(now=later + timedelta(minutes=1))["started"] == 1
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENDING
    assert services.campaign_start(campaign_id=campaign.pk, now=later + timedelta(minutes=2)) is False  # started once


def test_cancelling_stops_what_was_not_sent(customers):
    campaign = make_campaign(segments=[static_segment("s", [customers(), customers()])])
    services.campaign_schedule(campaign=campaign)
    services.campaign_start(campaign_id=campaign.pk)
    services.campaign_cancel(campaign=campaign)
    assert set(campaign.messages.values_list("status", flat=True)) == {Message.Status.CANCELLED}
    assert services.messages_send(message_ids=list(campaign.messages.values_list("pk", flat=True))).sent == 0
    assert mail.outbox == []


def test_the_preview_shows_what_a_customer_would_get(customers, club):
    customer = customers(first_name="Reza", language="fa")
    outsider = customers(first_name="Nima")
    club_services.member_enroll(customer=customer)
    campaign = make_campaign(segments=[static_segment("s", [outsider, customer])], subject_fa="سلام {{ first_name }}",
                             offer=club["offer"], body_en="<p>{{ coupon_code }} ({{ tier }})</p>")
    preview = services.campaign_preview(campaign=campaign, customer=customer)
    assert preview.subject == f"سلام {FSI}Reza{PDI}"
    assert '<bdi dir="ltr">XXXX-XXXX-XXXX</bdi> (<bdi>Bronze</bdi>)' in preview.html  # islands in a Persian message
    with pytest.raises(ValidationError, match="not a club member the offer is for"):
        services.campaign_preview(campaign=campaign, customer=outsider)
    assert not Coupon.objects.exists() and not Message.objects.exists()


def test_a_test_send_without_a_customer_greets_the_first_real_recipient(customers, club):
    outsider = customers(first_name="Nima")
    member = customers(first_name="Sara")
    club_services.member_enroll(customer=member)
    campaign = make_campaign(segments=[static_segment("s", [outsider, member])], offer=club["offer"],
                             subject_en="Hello {{ first_name }}", body_en="<p>{{ points_balance }} ({{ tier }})</p>")
    preview = services.campaign_test_send(campaign=campaign, to="mina@shop.example")
    assert mail.outbox[0].subject == "[TEST] Hello Sara" and "(Bronze)" in preview.html and "()" not in preview.html
    nobody = make_campaign(segments=[static_segment("t", [outsider])], offer=club["offer"], name="Nobody")
    with pytest.raises(ValidationError, match="Nobody would receive this campaign"):
        services.campaign_test_send(campaign=nobody, to="mina@shop.example")
    assert len(mail.outbox) == 1


def test_a_test_send_goes_to_the_staff_address_only(customers, sms_outbox):
    campaign = make_campaign(segments=[static_segment("s", [customers()])], channel="preferred")
    services.campaign_test_send(campaign=campaign, to="mina@shop.example")
    services.campaign_test_send(campaign=campaign, to="+989121234567")
    assert [email.to for email in mail.outbox] == [["mina@shop.example"]]
    assert mail.outbox[0].subject.startswith("[TEST] Hello")
    assert sms_outbox[0]["to"] == "+989121234567" and sms_outbox[0]["text"].startswith("[TEST] Hi")
    assert not Message.objects.exists() and Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT


def test_the_card_and_return_links_are_rendered_per_recipient(customers, club, django_capture_on_commit_callbacks):
    from club.card import member_for_card_link
    from crm.models import Order
    from feedback.services.returns import order_for_return_link
    from tests.factories import OrderFactory

    member, outsider = customers(first_name="Sara"), customers(first_name="Nima")
    membership = club_services.member_enroll(customer=member)
    old = OrderFactory(customer=outsider, placed_at=timezone.now() - timedelta(days=400))
    recent = OrderFactory(customer=outsider, placed_at=timezone.now() - timedelta(days=2))
    campaign = make_campaign(segments=[static_segment("s", [member, outsider])],
                             body_en='<p>{% if card_url %}card {{ card_url }}{% endif %} '
                                     '{% if return_url %}return {{ return_url }}{% else %}no order{% endif %}</p>')
    send_everything(django_capture_on_commit_callbacks, campaign)
    bodies = {email.to[0]: email.body for email in mail.outbox}
    card = bodies[member.email].split("card ", 1)[1].split()[0]
    assert member_for_card_link(card.rstrip("/").rsplit("/", 1)[1]) == membership and "no order" in bodies[member.email]
    link = bodies[outsider.email].split("return ", 1)[1].split()[0]
    assert order_for_return_link(link.rstrip("/").rsplit("/", 1)[1]) == recent != old
    assert "card " not in bodies[outsider.email] and Order.objects.count() == 2
