"""Fixtures used by more than one test package. A fixture used by one package lives in that
package's conftest; helpers that are not fixtures live in tests/helpers.py, tests/<app>/helpers.py
and tests/factories/."""

from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.utils import timezone, translation
from rest_framework.test import APIClient

from api import services as api_services
from api.scopes import SCOPES
from club import services as club_services
from config.celery import app as celery_app
from core import roles
from core.audit import audit_scope
from crm import services
from crm.services import LineInput
from feedback.models import Question, Survey
from tests.helpers import member_since
from tests.html_checks import html_problems
from tests.factories import (
    ChoiceFactory,
    CustomerFactory,
    EarningRuleFactory,
    MembershipFactory,
    OfferFactory,
    QuestionFactory,
    SurveyFactory,
    TierFactory,
    UserFactory,
)

_order_numbers = count(1)


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # Real hashers are slow on purpose; tests only need a password that checks.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def api_calls_logged_at_once(settings):
    # A call-log row a process buffers (api.middleware.CallLogBuffer) could land in the next test: tests store each
    # call as it is answered; tests/api/test_call_log_buffer.py turns the buffer on.
    settings.API_CALL_LOG_FLUSH_MS = 0


@pytest.fixture(autouse=True)
def club_config_read_each_time(settings):
    # The rules and tiers a process remembers (club.selectors.config_rows) live in a cache the tests share, while
    # each test's rows roll back: tests read them each time; tests/club/test_config_rows.py turns the cache on.
    settings.CLUB_CONFIG_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def default_language_after_each_test():
    # LocaleMiddleware activates a request's language in the thread and nothing switches it back in the
    # test client, so a Persian request would leave the next test speaking Persian.
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def pages_checked_as_documents(monkeypatch):
    """Every HTML page Django's test client receives is checked as an HTML5 document (tests/html_checks.py):
    a nested form, a duplicate id, an unlabelled control or markup the browser must repair fails the test
    that rendered it. Wrapping `Client.request` covers every client (client, admin_client, APIClient, one
    built in a test) and every redirect followed; a test about broken markup itself calls html_problems."""
    from django.test import Client

    request = Client.request

    def request_and_check(self, **kwargs):
        response = request(self, **kwargs)
        if response.get("Content-Type", "").startswith("text/html") and not response.streaming and response.content:
            problems = html_problems(response.content.decode(response.charset or "utf-8", "replace"))
            if problems:
                pytest.fail(f"{kwargs.get('REQUEST_METHOD', 'GET')} {kwargs.get('PATH_INFO', '')} renders a page "
                            "that is not a sound HTML5 document:\n- " + "\n- ".join(problems), pytrace=False)
        return response

    monkeypatch.setattr(Client, "request", request_and_check)


@pytest.fixture(autouse=True)
def fresh_audit_scope():
    """Each test starts with no audit source or actor, and forgets what it set (a view called
    without the request middleware, an API authentication), as each request does (core.audit)."""
    with audit_scope():
        yield


@pytest.fixture
def admin_user(db):
    return UserFactory(username="owner", is_superuser=True)


def _member_of(role: str, username: str):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def support_user(db):
    return _member_of(roles.SUPPORT, "sam.support")


@pytest.fixture
def marketing_user(db):
    return _member_of(roles.MARKETING, "mina.marketing")


@pytest.fixture
def club_manager(db):
    return _member_of(roles.CLUB_MANAGERS, "cyrus.club")


@pytest.fixture
def outsider(db):
    """Staff flag but no role: sees nothing."""
    return UserFactory(username="otto.outsider")


@pytest.fixture
def customer(db):
    return CustomerFactory(first_name="Sara", last_name="Ahmadi", email="sara@example.com", phone="+989121234567")


@pytest.fixture
def place_order(db):
    """Place an order through the service (derived figures and signals included)."""

    def place(customer, *, days_ago: float = 1, total: str | Decimal = "100.00", at: datetime | None = None, **kwargs):
        placed_at = at or timezone.now() - timedelta(days=days_ago)
        kwargs.setdefault("order_number", f"T-{next(_order_numbers):06d}")
        return services.order_create(customer=customer, placed_at=placed_at, total=total, **kwargs)

    return place


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def pytest_report_header(config):
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    if engine != "postgresql":
        return f"database: {engine} -- tests marked 'postgres' are SKIPPED; run with DATABASE_URL=postgres://... to include them"
    return f"database: {engine}"


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://... (see README)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def override():
    """`override(registry, {...})`: the registry (core.registry) holds just that until the test ends."""
    from contextlib import ExitStack

    with ExitStack() as stack:
        yield lambda registry, items=None, **named: stack.enter_context(registry.override(items, **named))


@pytest.fixture
def celery_eager():
    """Celery runs queued tasks in-process (campaign and webhook tests use it through pytestmark)."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = eager


# --- the club: tiers, a purchase rule, a member, an offer ------------------------------------------


@pytest.fixture
def tiers(db):
    """Bronze (entry) < Silver (500) < Gold (2000, exclusive, loyal) < Platinum (5000)."""
    return {
        "bronze": TierFactory(name="Bronze", rank=1, threshold=0, birthday_discount_value=Decimal("10")),
        "silver": TierFactory(name="Silver", rank=2, threshold=500, points_multiplier=Decimal("1.25"),
                              birthday_discount_value=Decimal("15")),
        "gold": TierFactory(name="Gold", rank=3, threshold=2000, points_multiplier=Decimal("1.5"),
                            birthday_discount_value=Decimal("20"), exclusive_offers=True, counts_as_loyal=True),
        "platinum": TierFactory(name="Platinum", rank=4, threshold=5000, points_multiplier=Decimal("2"),
                                birthday_discount_kind="fixed", birthday_discount_value=Decimal("50"),
                                exclusive_offers=True, counts_as_loyal=True),
    }


@pytest.fixture
def purchase_rule(db):
    return EarningRuleFactory()


@pytest.fixture
def member(customer, tiers, purchase_rule):
    """A member of two years' standing, in the entry tier."""
    return member_since(club_services.member_enroll(customer=customer))


@pytest.fixture
def make_member(tiers, purchase_rule):
    def make(**customer_fields):
        return member_since(MembershipFactory(customer=CustomerFactory(**customer_fields)))

    return make


@pytest.fixture
def offer(tiers):
    return OfferFactory(title="10% off", value=Decimal("10"), points_cost=100)


@pytest.fixture
def order_with_lines(place_order):
    """Two lines: 2 x beans at 100 and 1 x mug at 100 (total 300)."""

    def place(customer, **kwargs):
        kwargs.setdefault("total", "300.00")
        kwargs.setdefault("days_ago", 0)
        lines = [
            LineInput(sku="BEANS", product_name="Beans", category="coffee", quantity=2, unit_price=Decimal("100")),
            LineInput(sku="MUG", product_name="Mug", category="kitchen", quantity=1, unit_price=Decimal("100")),
        ]
        return place_order(customer, lines=lines, **kwargs)

    return place


# --- feedback: the survey every page and API test answers ------------------------------------------


@pytest.fixture
def survey(db):
    """An NPS survey in three languages: NPS, CSAT, a single and a multiple choice, a free text."""
    survey = SurveyFactory(
        title="How did we do?", title_fa="نظر شما چیست؟", title_ar="ما رأيك؟",
        intro="Two minutes, promise.", kind=Survey.Kind.NPS, trigger=Survey.Trigger.MANUAL,
    )
    QuestionFactory(
        survey=survey, position=1, type=Question.Type.NPS, scores=Question.Score.NPS,
        text="How likely are you to recommend us to a friend?",
        text_fa="چقدر احتمال دارد ما را به دوستان خود پیشنهاد کنید؟",
        text_ar="ما مدى احتمال أن توصي بنا لصديق؟",
    )
    QuestionFactory(survey=survey, position=2, type=Question.Type.RATING, scores=Question.Score.CSAT,
                    text="How satisfied are you with your order?", text_fa="از سفارش خود چقدر راضی هستید؟")
    single = QuestionFactory(survey=survey, position=3, type=Question.Type.SINGLE, scores="", text="Where did you shop?",
                             required=False)
    ChoiceFactory(question=single, position=1, label="Store", label_fa="فروشگاه")
    ChoiceFactory(question=single, position=2, label="Online", label_fa="آنلاین")
    multiple = QuestionFactory(survey=survey, position=4, type=Question.Type.MULTIPLE, scores="",
                               text="What did you like?", required=False)
    ChoiceFactory(question=multiple, position=1, label="Price")
    ChoiceFactory(question=multiple, position=2, label="Service")
    QuestionFactory(survey=survey, position=5, type=Question.Type.LONG_TEXT, scores="", text="Anything else?",
                    text_fa="نکته دیگری دارید؟", required=False)
    return survey


# --- campaigns: messages go to memory --------------------------------------------------------------


@pytest.fixture
def campaign_settings(settings, tmp_path):
    """Messages go to memory (mail.outbox, LocmemBackend.outbox) with https links
    (on for every test of tests/campaigns, see its conftest)."""
    from campaigns import sms

    settings.SMS_BACKEND = "campaigns.sms.LocmemBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    settings.CAMPAIGNS_PUBLIC_BASE_URL = "https://crm.example.com"
    settings.DEFAULT_FROM_EMAIL = "club@shop.example"
    sms.LocmemBackend.outbox = []
    return settings


# --- the partner API: a partner and clients with a key -------------------------------------------


@pytest.fixture
def fresh_rate_limits():
    # Throttle counters live in the cache, keyed by the API key's id, which tests reuse.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def partner(db):
    return api_services.partner_create(name="Shop One", contact="ops@shop.example")


@pytest.fixture
def make_client(partner, fresh_rate_limits):
    """An APIClient sending `Authorization: Api-Key ...` for a new key with these scopes."""

    def make(*scopes, own_data_only=False, for_partner=None, **key_fields):
        key, secret = api_services.api_key_create(
            partner=for_partner or partner, scopes=scopes or SCOPES, own_data_only=own_data_only, **key_fields
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
        client.key = key
        client.secret = secret
        return client

    return make


@pytest.fixture
def webhook_subscribers_remembered(settings, db):
    """Which webhook events have subscribers, already remembered (as it is on a busy server), so a
    pinned query count does not depend on whether an earlier test asked within the cache's 5 seconds."""
    from api.webhooks import subscribed_events

    settings.API_WEBHOOK_SUBSCRIBERS_CACHE_SECONDS = 3600
    cache.clear()
    subscribed_events()
