"""handler500 (config.errors): a public page whose request fails answers by the error's class (core.errors):
an unreachable database a friendly 503 in the customer's language with Retry-After, anything else a 500
showing the request id that the response header and the log line carry; /api/ keeps its problem details."""

import logging

import pytest
from django.db import OperationalError
from django.test import Client
from django.utils import translation

from club import services as club_services
from club import views_card
from core import errors

pytestmark = pytest.mark.django_db

CARD_URL = "/m/some-token-that-is-never-read/"


@pytest.fixture(autouse=True)
def production(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver"]


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


def fa(text: str) -> str:
    with translation.override("fa"):
        return translation.gettext(text)


def fails_with(monkeypatch, exc: BaseException):
    def broken(*args, **kwargs):
        raise exc

    monkeypatch.setattr(views_card, "_member_or_404", broken)


def test_it_answers_503_in_persian_right_to_left_with_retry_after_when_the_database_is_unreachable(
        client, monkeypatch, django_assert_num_queries):
    fails_with(monkeypatch, OperationalError("could not connect to server: Connection refused"))
    with django_assert_num_queries(0):  # the error page itself never asks the database
        page = client.get(CARD_URL, HTTP_ACCEPT_LANGUAGE="fa")
    html = page.content.decode()
    assert page.status_code == 503
    assert page["Retry-After"] == str(errors.retry_after_seconds())
    assert page["Content-Type"].startswith("text/html")
    assert 'dir="rtl"' in html and 'lang="fa"' in html
    sentence = "The service is briefly unavailable. Please try again in a minute."
    assert fa(sentence) != sentence and fa(sentence) in html
    assert '<meta name="viewport"' in html
    assert "no-store" in page["Cache-Control"]
    assert "OperationalError" not in html and "Connection refused" not in html and "Traceback" not in html


def test_it_answers_in_the_language_chosen_with_lang_and_left_to_right_in_english(client, monkeypatch):
    fails_with(monkeypatch, OperationalError("server closed the connection unexpectedly"))
    arabic = client.get(CARD_URL + "?lang=ar", HTTP_ACCEPT_LANGUAGE="en")
    english = client.get(CARD_URL, HTTP_ACCEPT_LANGUAGE="en")
    assert arabic.status_code == english.status_code == 503
    assert 'dir="rtl"' in arabic.content.decode() and 'lang="ar"' in arabic.content.decode()
    assert 'dir="ltr"' in english.content.decode()
    assert "The service is briefly unavailable. Please try again in a minute." in english.content.decode()


def test_it_answers_500_showing_the_request_id_of_the_header_and_of_the_log_line(client, monkeypatch, caplog):
    fails_with(monkeypatch, RuntimeError("secret internals"))
    caplog.handler.addFilter(errors.RequestIdLogFilter())
    with caplog.at_level(logging.ERROR, logger="django.request"):
        page = client.get(CARD_URL, HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    request_id = page[errors.REQUEST_ID_HEADER]
    assert page.status_code == 500 and "Retry-After" not in page
    assert request_id and f'<bdi class="reference">{request_id}</bdi>' in html
    assert "secret internals" not in html and "RuntimeError" not in html and "Traceback" not in html
    logged = [record for record in caplog.records if record.name == "django.request" and record.exc_info]
    assert [record.request_id for record in logged] == [request_id]


def test_it_shows_the_load_balancers_request_id_and_never_a_forged_one(client, monkeypatch):
    fails_with(monkeypatch, RuntimeError("boom"))
    page = client.get(CARD_URL, HTTP_X_REQUEST_ID="lb-7f3a9c21")
    assert page.status_code == 500 and page[errors.REQUEST_ID_HEADER] == "lb-7f3a9c21"
    assert "lb-7f3a9c21" in page.content.decode()
    forged = client.get(CARD_URL, HTTP_X_REQUEST_ID="<script>alert(1)</script>")
    assert forged.status_code == 500 and "<script>" not in forged.content.decode()
    assert forged[errors.REQUEST_ID_HEADER] in forged.content.decode()


def test_it_answers_500_in_the_customers_own_language_once_the_page_has_chosen_it(
        client, monkeypatch, make_member):
    member = make_member(language="fa")

    def broken(*args, **kwargs):
        raise RuntimeError("after the language was chosen")

    monkeypatch.setattr(views_card, "member_card", broken)
    page = client.get(club_services.card_link(member), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.status_code == 500
    assert 'dir="rtl"' in html and fa("Something went wrong") in html


def test_an_api_path_keeps_its_problem_details_for_an_error_outside_drf(client, monkeypatch):
    import api.middleware

    def broken(*args, **kwargs):
        raise RuntimeError("in the call log")

    monkeypatch.setattr(api.middleware, "_storable", broken)
    answer = client.get("/api/v1/orders/")
    assert answer.status_code == 500
    assert answer["Content-Type"].startswith("application/problem+json")
    body = answer.json()
    assert body["status"] == 500 and body["type"].endswith("/server_error")
    assert body["request_id"] == answer[errors.REQUEST_ID_HEADER]
    assert "in the call log" not in answer.content.decode()


def test_an_api_path_answers_503_problem_with_retry_after_when_the_database_is_unreachable(client, monkeypatch):
    import api.middleware

    def broken(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(api.middleware, "_storable", broken)
    answer = client.get("/api/v1/orders/")
    assert answer.status_code == 503 and answer["Retry-After"] == str(errors.retry_after_seconds())
    assert answer["Content-Type"].startswith("application/problem+json")
    assert answer.json()["status"] == 503 and "could not connect" not in answer.content.decode()
