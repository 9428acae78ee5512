import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns import selectors, services, tokens
from campaigns.models import Message, TrackedLink
from crm import services as crm_services
from crm.models import Order
from tests.campaigns.helpers import make_campaign, send_everything, static_segment
from tests.factories import OrderFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


@pytest.fixture
def place_order(place_order, django_capture_on_commit_callbacks):
    """Conversions are recorded after the order commits: the callbacks run as a commit would run them."""

    def place(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return place_order(*args, **kwargs)

    return place


@pytest.fixture
def sent(customers, django_capture_on_commit_callbacks):
    people = [customers(first_name=name) for name in ("Ana", "Ben", "Cy")]
    campaign = make_campaign(
        segments=[static_segment("s", people)],
        body_en='<p><a href="https://shop.example/spring">Sale</a> <a href="https://shop.example/about?a=1&amp;b=2">About</a></p>',
    )
    send_everything(django_capture_on_commit_callbacks, campaign)
    return campaign


def paths(email, kind):
    return [urlsplit(url).path for url in re.findall(rf'https://crm\.example\.com/c/{kind}/[^"]+', email.alternatives[0][0])]


def test_the_open_pixel_marks_the_message_opened_once(sent):
    email = mail.outbox[0]
    pixel = paths(email, "o")[0]
    first = Client().get(pixel)
    assert first.status_code == 200 and first["Content-Type"] == "image/gif" and "no-cache" in first["Cache-Control"]
    message = Message.objects.get(customer__email=email.to[0])
    opened_at = message.opened_at
    assert message.status == Message.Status.SENT and opened_at and message.engagement == "opened"
    Client().get(pixel)
    assert Message.objects.get(pk=message.pk).opened_at == opened_at


def test_a_click_redirects_to_the_campaigns_own_url_and_counts(sent):
    email = mail.outbox[0]
    sale, about = paths(email, "k")
    reply = Client().get(about)
    assert reply.status_code == 302 and reply["Location"] == "https://shop.example/about?a=1&b=2"
    reply = Client().get(sale)
    assert reply["Location"] == "https://shop.example/spring"
    message = Message.objects.get(customer__email=email.to[0])
    assert message.status == Message.Status.SENT and message.clicked_at and message.opened_at
    assert message.engagement == "clicked"
    assert TrackedLink.objects.get(campaign=sent, url="https://shop.example/spring").clicks == 1
    assert set(sent.links.values_list("url", flat=True)) == {"https://shop.example/spring", "https://shop.example/about?a=1&b=2"}


def test_a_link_of_another_campaign_or_a_tampered_signature_is_a_404(sent, customers):
    message = Message.objects.get(customer__email=mail.outbox[0].to[0])
    other = make_campaign(segments=[static_segment("other", [customers()])], name="Other")
    foreign = TrackedLink.objects.create(campaign=other, url="https://evil.example/phish")
    forged = tokens.make(tokens.CLICK, f"{message.public_id.hex}.{foreign.pk}")
    assert Client().get(reverse("campaigns:click", args=[forged])).status_code == 404
    own = paths(mail.outbox[0], "k")[0]
    assert Client().get(own[:-4] + "xyz/").status_code == 404
    assert Client().get("/c/k/https%3A%2F%2Fevil.example/").status_code == 404
    assert Message.objects.get(pk=message.pk).clicked_at is None


def test_an_order_within_the_window_converts_the_latest_message_with_its_revenue(sent, place_order, settings):
    settings.CAMPAIGNS_CONVERSION_DAYS = 7
    message = sent.messages.order_by("pk").first()
    order = place_order(message.customer, days_ago=0, total="120.00")
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.conversion_order == order
    assert message.engagement == "converted"
    assert message.revenue == Decimal("120.00") and message.converted_at == order.placed_at
    # The same order again (a redelivered signal): nothing changes.
    assert services.conversion_record(order=order) is None
    assert Message.objects.filter(conversion_order__isnull=False).count() == 1


def test_an_order_after_the_window_or_not_counted_converts_nothing(sent, place_order, settings):
    settings.CAMPAIGNS_CONVERSION_DAYS = 7
    late, cancelled = sent.messages.order_by("pk")[:2]
    Message.objects.filter(pk=late.pk).update(sent_at=timezone.now() - timedelta(days=9))
    place_order(late.customer, days_ago=0)
    place_order(cancelled.customer, days_ago=0, status=Order.Status.CANCELLED)
    assert not Message.objects.filter(converted_at__isnull=False).exists()


def test_an_order_placed_before_the_message_does_not_count(sent, place_order):
    message = sent.messages.order_by("pk").first()
    place_order(message.customer, at=message.sent_at - timedelta(hours=1))
    assert Message.objects.get(pk=message.pk).converted_at is None


def test_imported_orders_are_attributed_by_the_daily_catch_up(sent):
    message = sent.messages.order_by("pk").first()
    OrderFactory(customer=message.customer, placed_at=timezone.now(), total=Decimal("80.00"))  # no signal
    assert services.conversions_catch_up(run_date=timezone.localdate()) == 1
    assert services.conversions_catch_up(run_date=timezone.localdate()) == 0
    assert Message.objects.get(pk=message.pk).revenue == Decimal("80.00")


def test_the_report_counts_each_stage_per_variant(customers, place_order, django_capture_on_commit_callbacks):
    people = [customers() for _ in range(4)]
    campaign = make_campaign(segments=[static_segment("s", people)], variants=[("A", 50, {}), ("B", 50, {"subject_en": "B"})])
    send_everything(django_capture_on_commit_callbacks, campaign)
    a_messages = list(campaign.messages.filter(variant="A").order_by("pk"))
    b_messages = list(campaign.messages.filter(variant="B").order_by("pk"))
    services.message_mark_opened(a_messages[0])
    services.message_mark_clicked(b_messages[0], campaign.links.get())
    place_order(b_messages[0].customer, days_ago=0, total="50.00")
    services.message_unsubscribe(a_messages[1])
    report = selectors.campaign_report(campaign)
    rows = {row.variant: row for row in report.variants}
    # The memory backend reports no delivery: the messages are sent, none is claimed delivered, and the
    # rates are shares of the messages sent.
    assert (report.total.sent, report.total.delivered, report.total.reported, report.total.reached) == (4, 0, 0, 4)
    assert (report.total.opened, report.total.clicked) == (2, 1)
    assert (report.total.converted, report.total.revenue, report.total.unsubscribed) == (1, Decimal("50.00"), 1)
    assert (rows["A"].opened, rows["A"].unsubscribed, rows["B"].converted, rows["B"].click_rate) == (1, 1, 1, 50.0)


def test_the_admin_report_page_shows_figures_and_a_chart(client, marketing_user, sent):
    client.force_login(marketing_user)
    page = client.get(reverse("admin:campaigns_campaign_report", args=[sent.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "Revenue" in html
    # A channel without delivery reports: "sent", never "delivered".
    assert "Delivered" not in html and "does not report delivery" in html and "not reported" in html


def test_the_report_is_one_query_whatever_the_number_of_messages(customers, django_capture_on_commit_callbacks,
                                                                  django_assert_num_queries):
    campaign = make_campaign(segments=[static_segment("s", [customers() for _ in range(12)])])
    send_everything(django_capture_on_commit_callbacks, campaign)
    with django_assert_num_queries(1):
        assert selectors.campaign_report(campaign).total.sent == 12


def test_refunding_the_converting_order_does_not_break_anything(sent, place_order):
    message = sent.messages.order_by("pk").first()
    order = place_order(message.customer, days_ago=0, total="40.00")
    crm_services.order_refund(order=order, amount="40.00")
    assert Message.objects.get(pk=message.pk).conversion_order_id == order.pk


def test_the_report_charts_wait_for_a_send_and_name_the_variant_rates_in_a_legend():
    from types import SimpleNamespace

    from campaigns.admin import report_charts

    nothing = SimpleNamespace(sent=0, delivered=0, reported=0, opened=0, clicked=0, converted=0, unsubscribed=0)
    draft = report_charts(SimpleNamespace(total=nothing, variants=[]))
    assert "<svg" not in draft["funnel_chart"] and "nothing has been sent" in draft["funnel_chart"]
    variants = [SimpleNamespace(variant="A", click_rate=50.0, conversion_rate=25.0),
                SimpleNamespace(variant="B", click_rate=40.0, conversion_rate=10.0)]
    chart = report_charts(SimpleNamespace(total=nothing, variants=variants))["variant_chart"]
    assert 'class="legend"' in chart and ">Click rate<" in chart and "<title>Conversion rate, B: 10%</title>" in chart
