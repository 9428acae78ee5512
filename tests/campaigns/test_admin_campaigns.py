import pytest
from django.core import mail
from django.urls import reverse

from campaigns import selectors, services
from campaigns.defaults import DEFAULT_AUTOMATIONS, automation_fields
from campaigns.models import Automation, Campaign, Message, Suppression
from core.timeline import customer_timeline
from tests.campaigns.helpers import make_campaign, send_everything, static_segment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


def campaign_form(segment, **overrides):
    data = {
        "name": "Autumn", "channel": "email", "segments": [segment.pk], "subject_en": "Hi {{ first_name }}",
        "body_en": "<p>Autumn sale</p>", "sms_text_en": "", "test_percent": "20", "winner_metric": "click",
        "variants-TOTAL_FORMS": "0", "variants-INITIAL_FORMS": "0", "variants-MIN_NUM_FORMS": "0", "variants-MAX_NUM_FORMS": "4",
    }
    data.update(overrides)
    return data


def variant(index, label, share, subject=""):
    return {f"variants-{index}-label": label, f"variants-{index}-split_percent": str(share),
            f"variants-{index}-subject_en": subject}


def test_a_marketer_creates_a_campaign_with_two_variants(client, marketing_user, customers):
    segment = static_segment("s", [customers()])
    client.force_login(marketing_user)
    assert client.get(reverse("admin:campaigns_campaign_add")).status_code == 200
    data = campaign_form(segment, **{"variants-TOTAL_FORMS": "2"}, **variant(0, "A", 50), **variant(1, "B", 50, "Other"))
    reply = client.post(reverse("admin:campaigns_campaign_add"), data)
    assert reply.status_code == 302, reply.content.decode()[:3000]
    campaign = Campaign.objects.get()
    assert campaign.created_by == marketing_user and campaign.variants.count() == 2
    page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert "Would receive it" in page and "Send now" in page


def test_the_form_refuses_shares_that_do_not_add_up_and_bad_templates(client, marketing_user, customers):
    segment = static_segment("s", [customers()])
    client.force_login(marketing_user)
    data = campaign_form(segment, **{"variants-TOTAL_FORMS": "2"}, **variant(0, "A", 50), **variant(1, "B", 30))
    reply = client.post(reverse("admin:campaigns_campaign_add"), data)
    assert reply.status_code == 200 and "add up to 100" in reply.content.decode()
    reply = client.post(reverse("admin:campaigns_campaign_add"), campaign_form(segment, body_en="{% load static %}"))
    assert reply.status_code == 200 and "static" in reply.content.decode()
    assert not Campaign.objects.exists()


def test_send_now_from_the_admin_sends_and_shows_progress(client, marketing_user, customers,
                                                          django_capture_on_commit_callbacks):
    campaign = make_campaign(segments=[static_segment("s", [customers(), customers()])])
    client.force_login(marketing_user)
    with django_capture_on_commit_callbacks(execute=True):
        reply = client.post(reverse("admin:campaigns_campaign_action", args=[campaign.pk, "send_now"]))
    assert reply.status_code == 302 and len(mail.outbox) == 2
    page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert "campaign-progress" in page and "2 / 2 (100%)" in page
    assert 'name="subject_en"' not in page  # a sent campaign is read-only


def test_an_invalid_transition_is_refused_with_a_message(client, marketing_user, customers):
    campaign = make_campaign(segments=[static_segment("s", [customers()])])
    client.force_login(marketing_user)
    reply = client.post(reverse("admin:campaigns_campaign_action", args=[campaign.pk, "unschedule"]), follow=True)
    assert "draft cannot become draft" in reply.content.decode()
    assert client.put(reverse("admin:campaigns_campaign_action", args=[campaign.pk, "cancel"])).status_code == 405


def test_test_send_and_preview_pages(client, marketing_user, customers):
    customer = customers(first_name="Zahra")
    campaign = make_campaign(segments=[static_segment("s", [customer])])
    client.force_login(marketing_user)
    reply = client.post(reverse("admin:campaigns_campaign_test_send", args=[campaign.pk]),
                        {"to": "mina@shop.example", "customer": customer.email, "variant": "A", "language": "en"})
    assert reply.status_code == 302 and mail.outbox[0].subject == "[TEST] Hello Zahra"
    page = client.get(reverse("admin:campaigns_campaign_preview", args=[campaign.pk])).content.decode()
    assert "Hello Zahra" in page and "srcdoc" in page
    assert not Message.objects.exists()


@pytest.mark.parametrize("who", ["support_user", "club_manager", "outsider"])
def test_only_marketing_changes_or_sends_campaigns(client, request, who, customers):
    campaign = make_campaign(segments=[static_segment("s", [customers()])])
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("admin:campaigns_campaign_add")).status_code == 403
    assert client.post(reverse("admin:campaigns_campaign_action", args=[campaign.pk, "send_now"])).status_code == 403
    assert client.post(reverse("admin:campaigns_campaign_test_send", args=[campaign.pk]), {"to": "x@y.z"}).status_code == 403
    assert Campaign.objects.get().status == Campaign.Status.DRAFT and mail.outbox == []


def test_club_managers_view_campaigns_and_reports(client, club_manager, customers, django_capture_on_commit_callbacks):
    campaign = make_campaign(segments=[static_segment("s", [customers()])])
    send_everything(django_capture_on_commit_callbacks, campaign)
    client.force_login(club_manager)
    assert client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).status_code == 200
    assert client.get(reverse("admin:campaigns_campaign_report", args=[campaign.pk])).status_code == 200
    assert client.get(reverse("admin:campaigns_automation_changelist")).status_code == 200


@pytest.mark.parametrize("page, rows", [
    ("admin:campaigns_campaign_changelist", 2),
    ("admin:campaigns_campaign_changelist", 12),
    ("admin:campaigns_message_changelist", 2),
    ("admin:campaigns_message_changelist", 12),
    ("admin:campaigns_automation_changelist", 0),
    ("admin:campaigns_suppression_changelist", 2),
    ("admin:campaigns_suppression_changelist", 12),
])
def test_each_list_page_runs_a_fixed_number_of_queries(client, admin_user, customers, page, rows, django_assert_num_queries):
    segment = static_segment("s", [])
    for index in range(rows):
        customer = customers()
        campaign = make_campaign(segments=[segment], name=f"C{index}")
        Message.objects.create(campaign=campaign, customer=customer, channel="email", status=Message.Status.SENT)
        services.suppression_add(email=f"gone{index}@example.com", by=admin_user)
    client.force_login(admin_user)
    client.get(reverse(page))  # warm the session and content types
    expected = {"admin:campaigns_campaign_changelist": 9, "admin:campaigns_message_changelist": 4,
                "admin:campaigns_automation_changelist": 5, "admin:campaigns_suppression_changelist": 5}[page]
    with django_assert_num_queries(expected):
        assert client.get(reverse(page)).status_code == 200


def test_staff_add_an_address_to_the_suppression_list_as_a_hash(client, marketing_user):
    client.force_login(marketing_user)
    reply = client.post(reverse("admin:campaigns_suppression_add"), {"address": "Spam@Example.com", "reason": "complaint",
                                                                       "note": ""})
    assert reply.status_code == 302
    suppression = Suppression.objects.get()
    assert suppression.kind == "email" and "spam" not in suppression.value_hash
    assert selectors.is_suppressed(email="spam@example.com")
    found = client.get(reverse("admin:campaigns_suppression_changelist") + "?q=SPAM@example.com").content.decode()
    assert suppression.value_hash[:16] in found


def test_automations_are_configurable_in_the_admin(client, marketing_user):
    client.force_login(marketing_user)
    win_back = Automation.objects.filter(kind="win_back").first() or Automation.objects.create(
        **automation_fields(DEFAULT_AUTOMATIONS[0]))
    page = client.get(reverse("admin:campaigns_automation_change", args=[win_back.pk]))
    assert page.status_code == 200 and "subject_fa" in page.content.decode()
    assert client.get(reverse("admin:campaigns_automation_report", args=[win_back.pk])).status_code == 200


def test_the_customer_timeline_shows_their_messages(customers, django_capture_on_commit_callbacks):
    customer = customers()
    campaign = make_campaign(segments=[static_segment("s", [customer])], name="Spring sale")
    send_everything(django_capture_on_commit_callbacks, campaign)
    entries = [entry for entry in customer_timeline(customer) if entry.kind == "message"]
    assert len(entries) == 1
    entry = entries[0]
    assert entry.title == "Email: Spring sale" and entry.badge == "Sent" and entry.extra["campaign"] == "Spring sale"
    assert entry.url == reverse("admin:campaigns_message_change", args=[campaign.messages.get().pk])


def test_the_campaign_page_has_no_form_inside_the_change_form(client, marketing_user, customers):
    campaign = make_campaign(segments=[static_segment("s", [customers()])])
    client.force_login(marketing_user)
    page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    start = page.index('id="campaign_form"')
    change_form = page[start:page.index("</form>", start)]
    assert "<form" not in change_form  # the actions are links to their confirmation pages
    assert reverse("admin:campaigns_campaign_action", args=[campaign.pk, "send_now"]) in change_form


def test_send_now_asks_first_and_nothing_is_sent_before_the_confirmation(client, marketing_user, customers, club,
                                                                         django_capture_on_commit_callbacks):
    from club import services as club_services

    member, outsider = customers(first_name="Sara"), customers(first_name="Nima")
    club_services.member_enroll(customer=member)
    campaign = make_campaign(segments=[static_segment("s", [member, outsider])], offer=club["offer"])
    client.force_login(marketing_user)
    url = reverse("admin:campaigns_campaign_action", args=[campaign.pk, "send_now"])
    page = client.get(url).content.decode()
    assert "Send this campaign now?" in page and 'id="not-for-offer"' in page
    assert "1 customer is left out" in page and f'action="{url}"' in page
    assert Campaign.objects.get().status == Campaign.Status.DRAFT and not Message.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url).status_code == 302
    campaign.refresh_from_db()
    assert campaign.skipped_not_for_offer == 1 and [email.to for email in mail.outbox] == [[member.email]]


def test_schedule_asks_when_and_a_bad_date_is_shown_again_not_applied(client, marketing_user, customers):
    campaign = make_campaign(segments=[static_segment("s", [customers()])])
    client.force_login(marketing_user)
    url = reverse("admin:campaigns_campaign_action", args=[campaign.pk, "schedule"])
    assert 'name="at_0"' in client.get(url).content.decode()
    reply = client.post(url, {"at_0": "not a date", "at_1": "10:00"})
    assert reply.status_code == 200 and Campaign.objects.get().status == Campaign.Status.DRAFT
    reply = client.post(url, {"at_0": "2099-01-02", "at_1": "10:00"})
    campaign.refresh_from_db()
    assert reply.status_code == 302 and campaign.status == Campaign.Status.SCHEDULED
    assert campaign.scheduled_at.year == 2099


def test_an_unknown_action_or_an_outsider_gets_403_on_the_confirmation_page(client, marketing_user, support_user,
                                                                             customers):
    campaign = make_campaign(segments=[static_segment("s", [customers()])])
    client.force_login(marketing_user)
    assert client.get(reverse("admin:campaigns_campaign_action", args=[campaign.pk, "explode"])).status_code == 403
    client.force_login(support_user)
    assert client.get(reverse("admin:campaigns_campaign_action", args=[campaign.pk, "cancel"])).status_code == 403
