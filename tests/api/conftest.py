import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from api import services
from api.scopes import SCOPES
from tests.club.conftest import member, offer, purchase_rule, tiers  # noqa: F401  (shared club fixtures)

ALL_SCOPES = SCOPES


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    # Throttle counters live in the cache, keyed by the API key's id, which tests reuse.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def partner(db):
    return services.partner_create(name="Shop One", contact="ops@shop.example")


@pytest.fixture
def other_partner(db):
    return services.partner_create(name="Shop Two")


@pytest.fixture
def make_client(partner):
    """An APIClient sending `Authorization: Api-Key ...` for a new key with these scopes."""

    def make(*scopes, own_data_only=False, for_partner=None, **key_fields):
        key, secret = services.api_key_create(
            partner=for_partner or partner, scopes=scopes or ALL_SCOPES, own_data_only=own_data_only, **key_fields
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
        client.key = key
        client.secret = secret
        return client

    return make


@pytest.fixture
def api(make_client):
    return make_client()


def assert_problem(response, status: int):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["type"] and body["title"] and body["detail"]
    return body
