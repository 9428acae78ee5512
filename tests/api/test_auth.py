from datetime import timedelta

import pytest
from django.core.management import call_command, CommandError
from django.utils import timezone
from rest_framework.test import APIClient

from api import services
from api.models import ApiKey
from tests.api.helpers import assert_problem

URL = "/api/v1/customers/"


@pytest.mark.django_db
def test_it_refuses_a_request_without_a_key():
    body = assert_problem(APIClient().get(URL), 401)
    assert "credentials" in body["detail"].lower()


def test_it_refuses_an_unknown_or_malformed_key(api):
    for header in (f"Api-Key {api.key.prefix}.wrong-secret", "Api-Key nodot", "Api-Key abcdefgh.x"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        response = client.get(URL)
        assert_problem(response, 401)
        assert response["WWW-Authenticate"] == "Api-Key"


def test_it_accepts_a_valid_key_and_records_its_use_once_a_minute(api, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    assert api.get(URL).status_code == 200
    first = ApiKey.objects.get(pk=api.key.pk).last_used_at
    assert first is not None
    time_machine.shift(timedelta(seconds=30))
    api.get(URL)
    assert ApiKey.objects.get(pk=api.key.pk).last_used_at == first
    time_machine.shift(timedelta(seconds=31))
    api.get(URL)
    assert ApiKey.objects.get(pk=api.key.pk).last_used_at > first


def _unknown_key_answer():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Api-Key zzzzzzzz.not-a-key")
    response = client.get(URL)
    return response.status_code, response.json(), response["WWW-Authenticate"]


def _answer(client):
    response = client.get(URL)
    return response.status_code, response.json(), response["WWW-Authenticate"]


def test_it_refuses_a_revoked_key_exactly_like_an_unknown_one(api):
    services.api_key_revoke(key=api.key)
    assert _answer(api) == _unknown_key_answer()
    assert _answer(api)[1]["detail"] == "Invalid API key."


def test_it_refuses_an_expired_key_exactly_like_an_unknown_one(make_client):
    client = make_client("customers:read", expires_at=timezone.now() - timedelta(minutes=1))
    assert _answer(client) == _unknown_key_answer()


def test_it_refuses_the_keys_of_an_inactive_partner_exactly_like_an_unknown_one(api, partner):
    partner.active = False
    partner.save()
    assert _answer(api) == _unknown_key_answer()


def test_the_owner_sees_why_a_key_is_refused_in_the_call_log_and_the_admin(api, admin_client, caplog):
    from api.models import ApiCall

    services.api_key_revoke(key=api.key)
    with caplog.at_level("INFO", logger="api.calls"):
        api.get(URL)
    call = ApiCall.objects.get()
    assert (call.key_prefix, call.partner_id, call.status) == (api.key.prefix, api.key.partner_id, 401)
    assert "(key revoked)" in caplog.text
    listing = admin_client.get("/admin/api/apikey/")
    assert listing.status_code == 200 and "revoked" in listing.content.decode()


def test_it_refuses_a_key_in_the_url_even_with_a_valid_header(api):
    for param in ("api_key", "key", "token"):
        body = assert_problem(api.get(f"{URL}?{param}={api.secret}"), 401)
        assert "URL" in body["detail"]


def test_it_stores_only_the_hash_of_the_key(api):
    key = ApiKey.objects.get(pk=api.key.pk)
    prefix, secret = api.secret.split(".", 1)
    assert key.prefix == prefix and len(prefix) == 8
    assert secret not in key.hashed_key and len(key.hashed_key) == 64


def test_a_missing_scope_is_403_naming_it(make_client):
    client = make_client("customers:read")
    body = assert_problem(client.post(URL, {"email": "a@example.com"}, format="json"), 403)
    assert body["scope"] == "customers:write"
    assert "customers:write" in body["detail"]
    assert client.get(URL).status_code == 200
    assert_problem(client.get("/api/v1/club/members/00000000-0000-0000-0000-000000000000/"), 403)


def test_two_scopes_allow_exactly_what_they_say(make_client, customer):
    client = make_client("customers:read", "orders:write")
    assert client.get(f"{URL}{customer.public_id}/").status_code == 200
    assert client.patch(f"{URL}{customer.public_id}/", {"city": "Shiraz"}, format="json").status_code == 403
    assert client.post("/api/v1/coupons/validate/", {"code": "X", "order_value": "1"}, format="json").status_code == 403


def test_it_answers_429_with_retry_after_when_a_key_goes_too_fast(api, settings):
    settings.API_RATE_LIMIT = "2/min"
    assert api.get(URL).status_code == 200
    assert api.get(URL).status_code == 200
    response = api.get(URL)
    assert_problem(response, 429)
    assert int(response["Retry-After"]) >= 1


def test_create_partner_prints_a_working_key_once(db, capsys):
    call_command("create_partner", "Till Co", "--scopes", "customers:read,club:read", "--own-data-only")
    secret = capsys.readouterr().out.strip()
    key = ApiKey.objects.get(prefix=secret.split(".")[0])
    assert key.partner.name == "Till Co" and key.own_data_only and key.scopes == ["club:read", "customers:read"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert client.get(URL).status_code == 200


def test_create_partner_refuses_unknown_scopes(db):
    with pytest.raises(CommandError, match="Unknown scopes: customers:delete"):
        call_command("create_partner", "Till Co", "--scopes", "customers:read,customers:delete")
    assert not ApiKey.objects.exists()
