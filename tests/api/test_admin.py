from django.contrib.messages import get_messages

from api.models import ApiKey, Partner
from api.services import api_key_hash


def test_a_superuser_creates_a_key_in_the_admin_and_sees_it_once(client, admin_user, partner):
    client.force_login(admin_user)
    response = client.post("/admin/api/apikey/add/", {
        "partner": partner.pk, "name": "till 1", "scopes": ["customers:read", "club:read"], "expires_at_0": "", "expires_at_1": "",
    })
    assert response.status_code == 302, response.content.decode()[-2000:]
    key = ApiKey.objects.get(partner=partner)
    messages = [str(message) for message in get_messages(response.wsgi_request)]
    secret = next(word for message in messages for word in message.split() if word.startswith(f"{key.prefix}."))
    assert key.hashed_key == api_key_hash(secret.split(".", 1)[1]) and key.scopes == ["club:read", "customers:read"]
    assert secret in client.get(f"/admin/api/apikey/{key.pk}/change/").content.decode()  # the message, once
    page = client.get(f"/admin/api/apikey/{key.pk}/change/").content.decode()
    assert secret not in page and key.prefix in page


def test_the_admin_refuses_a_key_without_scopes(client, admin_user, partner):
    client.force_login(admin_user)
    response = client.post("/admin/api/apikey/add/", {"partner": partner.pk, "scopes": []})
    assert response.status_code == 200
    assert not ApiKey.objects.exists()


def test_staff_roles_cannot_open_partners_or_keys(client, support_user, marketing_user, club_manager):
    for user in (support_user, marketing_user, club_manager):
        client.force_login(user)
        assert client.get("/admin/api/partner/").status_code == 403
        assert client.get("/admin/api/apikey/").status_code == 403


def test_the_admin_revokes_keys(client, admin_user, make_client):
    api = make_client("customers:read")
    client.force_login(admin_user)
    client.post("/admin/api/apikey/", {"action": "revoke_keys", "_selected_action": [api.key.pk]})
    assert ApiKey.objects.get(pk=api.key.pk).revoked_at is not None
    assert api.get("/api/v1/customers/").status_code == 401
    assert Partner.objects.count() == 1


def test_a_persian_owner_reads_how_many_keys_were_revoked_in_persian_digits(client, admin_user, make_client):
    from core.models import StaffPreference

    keys = [make_client("customers:read").key for _ in range(2)]
    StaffPreference.objects.create(user=admin_user, language="fa")
    client.force_login(admin_user)
    response = client.post("/admin/api/apikey/", {"action": "revoke_keys", "_selected_action": [key.pk for key in keys]},
                           follow=True)
    shown = [str(message) for message in response.context["messages"]]
    assert len(shown) == 1 and "۲" in shown[0] and not any(digit in shown[0] for digit in "0123456789"), shown


def test_every_call_is_logged_and_the_partner_page_shows_recent_calls_and_error_rate(client, admin_user, make_client, partner):
    from api.models import ApiCall
    from rest_framework.test import APIClient

    api = make_client("customers:read")
    api.get("/api/v1/customers/")
    api.post("/api/v1/customers/", {"email": "x@example.com"}, format="json")  # 403: no customers:write
    APIClient().get("/api/v1/customers/")  # 401: no key
    calls = list(ApiCall.objects.order_by("id").values_list("key_prefix", "method", "status"))
    assert calls == [(api.key.prefix, "GET", 200), (api.key.prefix, "POST", 403), ("", "GET", 401)]
    assert ApiCall.objects.filter(partner=partner).count() == 2

    client.force_login(admin_user)
    listing = client.get("/admin/api/partner/").content.decode()
    assert "50.0%" in listing
    page = client.get(f"/admin/api/partner/{partner.pk}/change/").content.decode()
    assert "/api/v1/customers/" in page and api.key.prefix in page


# --- Webhooks ------------------------------------------------------------------------------------


def test_a_superuser_subscribes_a_partner_in_the_admin_and_sees_the_secret(client, admin_user, partner, webhook_settings):
    from api.models import WebhookSubscription

    client.force_login(admin_user)
    response = client.post("/admin/api/webhooksubscription/add/", {
        "partner": partner.pk, "url": "https://hooks.shop.example/crm", "events": ["order.created", "customer.created"],
        "active": "on",
    })
    assert response.status_code == 302, response.content.decode()[-2000:]
    subscription = WebhookSubscription.objects.get(partner=partner)
    assert subscription.events == ["customer.created", "order.created"] and subscription.secret.startswith("whsec_")
    messages = " ".join(str(message) for message in get_messages(response.wsgi_request))
    assert subscription.secret in messages
    assert "hooks.shop.example" in client.get(f"/admin/api/partner/{partner.pk}/change/").content.decode()
    assert "order.created" in client.get("/admin/api/webhooksubscription/").content.decode()
    assert subscription.secret in client.get(f"/admin/api/webhooksubscription/{subscription.pk}/change/").content.decode()


def test_the_admin_refuses_a_bad_webhook_url_or_no_events(client, admin_user, partner, settings):
    from api.models import WebhookSubscription

    settings.API_WEBHOOK_ALLOW_INSECURE_URLS = False
    client.force_login(admin_user)
    response = client.post("/admin/api/webhooksubscription/add/", {"partner": partner.pk, "url": "http://hooks.shop.example/",
                                                                   "events": []})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["url"] == ["Webhook URLs must use https://."] and "events" in errors
    assert not WebhookSubscription.objects.exists()


def test_the_admin_shows_deliveries_and_retries_a_failed_one_now(
    client, admin_user, partner, customer, place_order, receiver, celery_eager, webhook_settings,
    django_capture_on_commit_callbacks, django_assert_max_num_queries,
):
    from api import webhooks
    from api.models import WebhookDelivery

    webhook_settings.API_WEBHOOK_MAX_ATTEMPTS = 1
    receiver.status = 500
    webhooks.webhook_subscribe(partner=partner, url=receiver.url, events=["order.created"])
    with django_capture_on_commit_callbacks(execute=True):
        place_order(customer)
        place_order(customer)
    failed, other = WebhookDelivery.objects.order_by("pk")
    assert WebhookDelivery.objects.filter(status="failed").count() == 2

    client.force_login(admin_user)
    with django_assert_max_num_queries(12):
        listing = client.get("/admin/api/webhookdelivery/").content.decode()
    assert "order.created" in listing and "500" in listing and "Failed" in listing
    page = client.get(f"/admin/api/webhookdelivery/{failed.pk}/change/").content.decode()
    assert "HTTP 500" in page and str(failed.event_id) in page

    receiver.status = 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/api/webhookdelivery/", {"action": "retry_now", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    other.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_status_code) == ("delivered", 2, 200)
    assert other.status == "failed"

    # A delivered row is never sent again, even on request.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/api/webhookdelivery/", {"action": "retry_now", "_selected_action": [failed.pk]},
                               follow=True)
    assert "left alone" in response.content.decode()
    assert len(receiver.requests) == 3


def test_staff_roles_cannot_open_webhooks(client, support_user, marketing_user, club_manager):
    for user in (support_user, marketing_user, club_manager):
        client.force_login(user)
        assert client.get("/admin/api/webhooksubscription/").status_code == 403
        assert client.get("/admin/api/webhookdelivery/").status_code == 403


def test_a_delivery_page_shows_every_attempt_in_a_constant_number_of_queries(
    client, admin_user, partner, customer, place_order, receiver, celery_eager, webhook_settings,
    django_capture_on_commit_callbacks, django_assert_num_queries,
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from api import webhooks
    from api.models import WebhookDelivery

    receiver.status = 503
    webhooks.webhook_subscribe(partner=partner, url=receiver.url, events=["order.created"])
    with django_capture_on_commit_callbacks(execute=True):
        place_order(customer)
    delivery = WebhookDelivery.objects.get()
    client.force_login(admin_user)
    with CaptureQueriesContext(connection) as one_attempt:
        page = client.get(f"/admin/api/webhookdelivery/{delivery.pk}/change/").content.decode()
    assert "temporarily broken" in page and "503" in page

    receiver.status = 200
    webhooks.delivery_attempt(delivery_id=delivery.pk)
    with django_assert_num_queries(len(one_attempt)):
        page = client.get(f"/admin/api/webhookdelivery/{delivery.pk}/change/").content.decode()
    assert page.count('class="field-number"') == 2
