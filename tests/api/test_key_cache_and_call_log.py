"""The partner API's per-request round trips cut (issue 17): a web process remembers a key for API_KEY_CACHE_SECONDS
but still refuses a revoked, expired or changed one (api.keys); it stores its call-log rows in one multi-row INSERT
(api.middleware.CallLogBuffer) and every answered call reaches the log; a member's ledger page is one query."""

import time
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api import services
from api.keys import GENERATION_CACHE_KEY
from api.middleware import call_log
from api.models import ApiCall, ApiKey
from club import services as club_services
from tests.api.helpers import assert_problem
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"


@pytest.fixture
def keys_remembered(settings):
    settings.API_KEY_CACHE_SECONDS = 3600
    cache.clear()


def _used(client):
    assert client.get(URL).status_code == 200
    return client


def _no_key_query(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    return not any("api_apikey" in query["sql"] for query in queries.captured_queries)


def test_a_remembered_key_is_not_read_again_but_its_secret_is_still_checked(make_client, keys_remembered):
    client = _used(make_client("customers:read"))
    assert _no_key_query(client)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {client.key.prefix}.wrong-secret")
    assert_problem(client.get(URL), 401)


def test_a_key_revoked_through_the_service_stops_at_once(make_client, keys_remembered):
    client = _used(make_client("customers:read"))
    services.api_key_revoke(key=client.key)
    assert_problem(client.get(URL), 401)


def test_a_key_revoked_in_the_admin_stops_at_once(make_client, keys_remembered, admin_client):
    client = _used(make_client("customers:read"))
    response = admin_client.post("/admin/api/apikey/", {"action": "revoke_keys", "_selected_action": [client.key.pk]})
    assert response.status_code == 302
    assert_problem(client.get(URL), 401)


def test_a_partner_deactivated_or_a_scope_taken_away_counts_at_once(make_client, keys_remembered, partner):
    reader = _used(make_client("customers:read"))
    other = _used(make_client("customers:read"))
    other.key.scopes = ["orders:write"]
    other.key.save()
    assert_problem(other.get(URL), 403)
    partner.active = False
    partner.save()
    assert_problem(reader.get(URL), 401)


def test_a_remembered_key_that_expires_is_refused_when_it_does(make_client, keys_remembered):
    client = _used(make_client("customers:read", expires_at=timezone.now() + timedelta(minutes=5)))
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert_problem(client.get(URL), 401)


def test_a_change_another_process_made_counts_at_once_with_a_shared_cache_else_within_the_bound(make_client, settings):
    settings.API_KEY_CACHE_SECONDS = 1
    client = _used(make_client("customers:read"))
    # Another process revokes the key: this process's memory does not see the row change...
    ApiKey.objects.filter(pk=client.key.pk).update(revoked_at=timezone.now())
    assert client.get(URL).status_code == 200
    # ...until the shared generation changes (what the other process's save does in a shared cache)...
    cache.set(GENERATION_CACHE_KEY, "changed elsewhere", None)
    assert_problem(client.get(URL), 401)
    # ...or, with a per-process cache, once API_KEY_CACHE_SECONDS have passed.
    other = _used(make_client("customers:read"))
    ApiKey.objects.filter(pk=other.key.pk).update(revoked_at=timezone.now())
    assert other.get(URL).status_code == 200
    time.sleep(1.1)
    assert_problem(other.get(URL), 401)


def test_without_the_cache_every_call_reads_the_key(make_client, settings):
    settings.API_KEY_CACHE_SECONDS = 0
    client = _used(make_client("customers:read"))
    assert not _no_key_query(client)


@pytest.mark.django_db(transaction=True)
def test_buffered_calls_all_reach_the_log_in_one_insert(make_client, settings):
    settings.API_CALL_LOG_FLUSH_MS = 60_000  # no timer flush within the test: the explicit flush below
    client = make_client("customers:read")
    try:
        for _ in range(3):
            assert client.get(URL).status_code == 200
        assert client.get("/api/v1/nowhere/").status_code == 404  # refused before any view: logged too
        assert not ApiCall.objects.exists()  # no round trip of the request's own
    finally:
        with CaptureQueriesContext(connection) as queries:
            call_log.flush()
    inserts = [query["sql"] for query in queries.captured_queries if "api_apicall" in query["sql"]]
    assert len(inserts) == 1
    calls = list(ApiCall.objects.order_by("id").values_list("path", "status", "partner_id"))
    assert calls == [(URL, 200, client.key.partner_id)] * 3 + [("/api/v1/nowhere/", 404, None)]


@pytest.mark.django_db(transaction=True)
def test_buffered_calls_reach_the_log_by_themselves_soon_after(make_client, settings):
    settings.API_CALL_LOG_FLUSH_MS = 100
    client = make_client("customers:read")
    assert client.get(URL).status_code == 200
    deadline = time.monotonic() + 10
    while not ApiCall.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    call_log.flush()
    assert list(ApiCall.objects.values_list("path", "status")) == [(URL, 200)]


@pytest.mark.django_db(transaction=True)
def test_a_full_buffer_is_stored_at_once(make_client, settings):
    settings.API_CALL_LOG_FLUSH_MS = 60_000
    settings.API_CALL_LOG_BUFFER_ROWS = 2
    client = make_client("customers:read")
    try:
        client.get(URL)
        assert ApiCall.objects.count() == 0
        client.get(URL)
        assert ApiCall.objects.count() == 2
    finally:
        call_log.flush()


def test_a_ledger_page_is_one_query_and_the_other_answers_stay_what_they_were(make_client, keys_remembered, customer,
                                                                               member):
    client = _used(make_client("club:read", "customers:read"))
    for number in range(3):
        club_services.points_adjust(member=member, points=number + 1, reason=f"gift {number}", by=None)
    url = f"/api/v1/club/members/{customer.public_id}/ledger/"
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        rows = client.get(url).json()["results"]
    assert [row["reason"] for row in rows] == ["gift 2", "gift 1", "gift 0"]
    assert len([query for query in queries.captured_queries if "api_apicall" not in query["sql"]]) == 1
    stranger = CustomerFactory()
    assert_problem(client.get(f"/api/v1/club/members/{stranger.public_id}/ledger/"), 404)
    assert_problem(client.get("/api/v1/club/members/5b1b9a5e-0000-4000-8000-000000000000/ledger/"), 404)
    assert_problem(client.get("/api/v1/club/members/not-a-uuid/ledger/"), 404)
    quiet = CustomerFactory()
    club_services.member_enroll(customer=quiet)
    assert client.get(f"/api/v1/club/members/{quiet.public_id}/ledger/").json()["results"] == []
