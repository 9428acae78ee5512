"""Fuzzing the public pages (hypothesis): whatever is posted, never a 5xx and never a partial write.

Each example runs in its own transaction, rolled back at the end; rate limits are off so every
example reaches the view. The test client raises any exception a view lets out, so a crash
fails the test with its traceback instead of hiding behind a 500 page.
"""

from collections import Counter
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.models import Message, Suppression
from club import services as club_services
from club.models import Coupon, PointsTransaction
from crm import services as crm_services
from crm.models import ConsentChange
from feedback.models import Answer, ReturnLine, ReturnRequest, Response
from feedback.services.returns import order_return_link
from tests.factories import CustomerFactory
from tests.integrity.helpers import DERANDOMIZE


pytestmark = pytest.mark.django_db

EXAMPLES = 40
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=DERANDOMIZE,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
RUNS: Counter = Counter()


def report(name: str, capsys) -> None:
    with capsys.disabled():
        print(f"\nfuzz {name}: {RUNS[name]} examples, {RUNS[name + ' saved']} of them stored")
    assert RUNS[name] >= EXAMPLES

# Text a person or a bot might send: any unicode, huge numbers, numbers in other scripts, and the
# hostile kind: NUL bytes, lone surrogates (the client sends them as the invalid UTF-8 they become),
# bidi controls that turn what a reader sees around.
HOSTILE = ["\x00", "a\x00b", "\ud800", "x\udfffy", "\u202eevil", "\u2066A\u2069", "\u200f", "1e400", "-1e400",
           str(10**30), "9" * 400]
junk = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=20).flatmap(lambda text: st.sampled_from(HOSTILE).map(lambda bad: text + bad)),
    st.text(max_size=40),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1000, max_size=6000),
    st.integers(-10**40, 10**40).map(str),
    st.sampled_from(["", " ", "0", "1", "5", "10", "11", "-1", "1e9999", "NaN", "۵", "٣", "1.5", "null", "true", "\x00",
                     "<script>alert(1)</script>", "' OR 1=1 --"]),
)


@pytest.fixture(autouse=True)
def no_rate_limits(settings):
    settings.RATELIMIT_ENABLE = False


@contextmanager
def rolled_back():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def rows(*models) -> dict:
    return {model.__name__: model.objects.count() for model in models}


def send(client, method: str, url: str, data: dict):
    """GET or POST the fields form-encoded as a browser would, except that a lone surrogate goes out
    as the invalid UTF-8 it becomes (Django's test client would refuse to encode it)."""
    encoded = urlencode(data, doseq=True, encoding="utf-8", errors="surrogatepass")
    if method == "get":
        return client.get(f"{url}?{encoded}" if encoded else url)
    return client.post(url, encoded, content_type="application/x-www-form-urlencoded")


def post_fields(names: list[str]):
    """A POST body: each known field missing, one value, or several; plus unknown fields."""
    one_field = st.one_of(st.none(), junk, st.lists(junk, min_size=2, max_size=3))
    known = st.fixed_dictionaries({name: one_field for name in names})
    extra = st.dictionaries(st.text(min_size=1, max_size=10).filter(lambda name: name not in names), junk, max_size=3)
    return st.tuples(known, extra).map(lambda pair: {k: v for k, v in {**pair[0], **pair[1]}.items() if v is not None})


# --- the survey -------------------------------------------------------------------------------


def test_fuzzing_the_public_survey_never_fails_and_never_half_saves(survey, capsys):  # noqa: F811
    survey.public_slug = "fuzz"
    survey.save()
    fields = [f"q{pk}" for pk in survey.questions.values_list("pk", flat=True)] + ["website"]
    url = reverse("feedback:public", args=["fuzz"])
    client = Client()
    questions = {question.type: question for question in survey.questions.all()}
    valid = list(survey.questions.values_list("choices__pk", flat=True).exclude(choices__pk=None))
    nearly = st.sampled_from(valid + [0, 10**12]).map(str)  # mostly real choices, now and then not
    sensible = st.fixed_dictionaries({
        f"q{questions['nps'].pk}": st.integers(0, 11).map(str),
        f"q{questions['rating'].pk}": st.integers(1, 5).map(str),
    }, optional={
        f"q{questions['single'].pk}": st.sampled_from(valid).map(str),
        f"q{questions['multiple'].pk}": st.lists(nearly, max_size=3, unique=True),
        f"q{questions['long_text'].pk}": st.text(max_size=300),
    })

    @FUZZ
    @given(data=st.one_of(post_fields(fields), sensible))
    def check(data):
        RUNS["survey"] += 1
        with rolled_back():
            before = rows(Response, Answer)
            page = send(client, "post", url, data)
            assert page.status_code in (302, 400), page.status_code
            after = rows(Response, Answer)
            if page.status_code == 400 or data.get("website"):  # refused, or a bot quietly dropped
                assert after == before
            else:
                assert after["Response"] == before["Response"] + 1
                assert 2 <= after["Answer"] - before["Answer"] <= len(fields) - 1
                RUNS["survey saved"] += 1

    check()
    report("survey", capsys)


# --- the return page --------------------------------------------------------------------------


def test_fuzzing_the_return_page_never_fails_and_never_half_saves(db, capsys):
    customer = CustomerFactory()
    order = crm_services.order_create(
        customer=customer, order_number="R-1", placed_at=timezone.now() - timedelta(days=2), total="300",
        lines=[crm_services.LineInput(sku="A", product_name="A", quantity=2, unit_price=Decimal("100")),
               crm_services.LineInput(sku="B", product_name="B", quantity=1, unit_price=Decimal("100"))],
    )
    line_ids = list(order.lines.values_list("pk", flat=True))
    fields = ["resolution", "note"] + [f"{prefix}_{pk}" for pk in line_ids for prefix in ("qty", "reason")]
    url = order_return_link(order)
    client = Client()
    sensible = st.fixed_dictionaries({
        "resolution": st.sampled_from(["refund", "exchange", "store_credit", "cash"]),
        **{f"qty_{pk}": st.sampled_from(["1", "1", "0", "2", "3", "-1", "x"]) for pk in line_ids},
        **{f"reason_{pk}": st.sampled_from(["damaged", "wrong_item", "changed_mind", "other", "??"]) for pk in line_ids},
        "note": st.text(max_size=300),
    })

    @FUZZ
    @given(data=st.one_of(sensible, post_fields(fields)))
    def check(data):
        RUNS["returns"] += 1
        with rolled_back():
            before = rows(ReturnRequest, ReturnLine)
            page = send(client, "post", url, data)
            assert page.status_code in (302, 400), page.status_code
            after = rows(ReturnRequest, ReturnLine)
            if page.status_code == 400:
                assert after == before
            else:
                assert after["ReturnRequest"] == before["ReturnRequest"] + 1
                assert 1 <= after["ReturnLine"] - before["ReturnLine"] <= len(line_ids)
                RUNS["returns saved"] += 1

    check()
    report("returns", capsys)


# --- the club card's redeem page ------------------------------------------------------------


def test_fuzzing_the_card_redeem_page_never_fails_and_spends_at_most_once(club, capsys):
    member = club_services.member_enroll(customer=CustomerFactory())
    club_services.points_adjust(member=member, points=400, reason="fuzz", by=None)
    card = club_services.card_link(member)
    token = card.rstrip("/").rsplit("/", 1)[-1]
    offers = [club["cheap"].pk, club["dear"].pk, 0, 999999, 2**31]
    client = Client()

    @FUZZ
    @given(offer_id=st.sampled_from(offers), method=st.sampled_from(["get", "post"]),
           data=st.fixed_dictionaries({"nonce": junk}, optional={"csrfmiddlewaretoken": junk, "offer": junk}))
    def check(offer_id, method, data):
        RUNS["card"] += 1
        with rolled_back():
            before = rows(Coupon, PointsTransaction)
            page = send(client, method, reverse("club_card:redeem", args=[token, offer_id]), data)
            assert page.status_code in (200, 404, 409), page.status_code
            after = rows(Coupon, PointsTransaction)
            created = after["Coupon"] - before["Coupon"]
            assert created == after["PointsTransaction"] - before["PointsTransaction"] in (0, 1)
            assert created == 0 or (method == "post" and page.status_code == 200)
            RUNS["card saved"] += created
            assert not club_services.points_verify_balances().exists()

    check()
    report("card", capsys)


# --- unsubscribe ------------------------------------------------------------------------------


def test_fuzzing_unsubscribe_tokens_never_fails_and_changes_nothing(db, capsys):
    customer = crm_services.customer_create(first_name="Ana", email="ana@example.com", email_opt_in=True,
                                            consent_source="test")
    client = Client()
    url_safe = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:.", min_size=1, max_size=200)
    any_text = st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="/?#%"), min_size=1, max_size=100)

    @FUZZ
    @given(token=st.one_of(url_safe, any_text), method=st.sampled_from(["get", "post"]), body=st.dictionaries(st.text(max_size=5), junk, max_size=2))
    def check(token, method, body):
        RUNS["unsubscribe"] += 1
        with rolled_back():
            before = rows(Suppression, ConsentChange, Message)
            try:
                url = reverse("campaigns:unsubscribe", args=[token])
            except Exception:  # noqa: BLE001 - a token the URL pattern itself refuses never reaches the view
                return
            page = send(client, method, url, body)
            assert page.status_code == 404, page.status_code
            assert rows(Suppression, ConsentChange, Message) == before
            customer.refresh_from_db()
            assert customer.email_opt_in

    check()
    report("unsubscribe", capsys)
