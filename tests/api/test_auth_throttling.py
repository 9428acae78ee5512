"""Issue 16: requests without a usable key are throttled per client address, behind the trusted proxies."""

import pytest
from rest_framework.test import APIClient

from tests.api.helpers import assert_problem

URL = "/api/v1/customers/"


@pytest.fixture
def failure_rate(settings):
    settings.API_AUTH_FAILURE_RATE = "3/min"
    settings.TRUSTED_PROXY_COUNT = 0
    return settings


def from_address(address, **credentials):
    client = APIClient(REMOTE_ADDR=address)
    if credentials:
        client.credentials(**credentials)
    return client


@pytest.mark.parametrize("credentials", [
    {}, {"HTTP_AUTHORIZATION": "Api-Key abcdefgh.wrong"}, {"HTTP_AUTHORIZATION": "Api-Key malformed"},
    {"HTTP_AUTHORIZATION": "Bearer something"},
], ids=["missing", "wrong", "malformed", "other-scheme"])
def test_it_answers_401_until_the_rate_then_429_with_retry_after(db, failure_rate, credentials):
    client = from_address("203.0.113.7", **credentials)
    for _attempt in range(3):
        assert_problem(client.get(URL), 401)
    response = client.get(URL)
    body = assert_problem(response, 429)
    assert body["type"].endswith("throttled")
    assert int(response["Retry-After"]) >= 1
    assert_problem(from_address("203.0.113.8", **credentials).get(URL), 401)  # another address is not punished


def test_it_counts_wrong_and_missing_keys_together(db, failure_rate):
    assert_problem(from_address("203.0.113.7").get(URL), 401)
    assert_problem(from_address("203.0.113.7", HTTP_AUTHORIZATION="Api-Key abcdefgh.wrong").get(URL), 401)
    assert_problem(from_address("203.0.113.7").post(URL, {}, format="json"), 401)
    assert_problem(from_address("203.0.113.7", HTTP_AUTHORIZATION="Api-Key abcdefgh.wrong").get(URL), 429)


def test_a_valid_key_is_not_locked_out_by_its_neighbours_failures(db, failure_rate, make_client):
    for _attempt in range(4):
        from_address("203.0.113.7").get(URL)
    client = make_client()
    assert client.get(URL, REMOTE_ADDR="203.0.113.7").status_code == 200


def test_behind_the_trusted_proxy_it_counts_the_address_the_proxy_saw(db, failure_rate):
    failure_rate.TRUSTED_PROXY_COUNT = 1
    balancer = "10.0.0.2"

    def attempt(forwarded_for):
        return APIClient(REMOTE_ADDR=balancer).get(URL, HTTP_X_FORWARDED_FOR=forwarded_for)

    # A client that forges the left part of X-Forwarded-For is still the address the proxy appended.
    for forged in ("1.1.1.1", "2.2.2.2", "3.3.3.3"):
        assert_problem(attempt(f"{forged}, 198.51.100.9"), 401)
    assert_problem(attempt("4.4.4.4, 198.51.100.9"), 429)
    # Everyone else behind the same balancer is counted on their own.
    assert_problem(attempt("198.51.100.10"), 401)


# --- The call log records every request that reached the API (issue 16) ----------------------------


@pytest.mark.parametrize(("method", "path", "stored_method", "stored_path"), [
    ("GET", "/api/v1/customers/%00/", "GET", "/api/v1/customers/%00/"),
    ("A" * 300, "/api/v1/customers/", "A" * 10, "/api/v1/customers/"),
    ("GET", "/api/v1/" + "x" * 2000, "GET", ("/api/v1/" + "x" * 2000)[:500]),
], ids=["nul-in-path", "over-long-method", "over-long-path"])
def test_the_call_log_records_odd_requests(make_client, method, path, stored_method, stored_path):
    from api.models import ApiCall

    response = make_client().generic(method, path)
    assert 400 <= response.status_code < 500
    call = ApiCall.objects.get()
    assert (call.method, call.path, call.status) == (stored_method, stored_path, response.status_code)
