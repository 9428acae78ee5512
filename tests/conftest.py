from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone

from core import roles
from core.audit import audit_scope
from crm import services
from tests.factories import CustomerFactory, UserFactory

_order_numbers = count(1)


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # Real hashers are slow on purpose; tests only need a password that checks.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
