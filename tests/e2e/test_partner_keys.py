"""The shop's owner revokes a partner's API key in the admin, clicked in Chromium in each admin language, and the
till using it is refused at its next call, although the web process remembered the key (api.keys)."""

import json
import urllib.error
import urllib.request

import pytest
from django.urls import reverse

from api import services as api_services
from api.models import ApiKey
from core.templatetags.localized import local_digits
from tests.e2e.test_campaigns import LANGUAGES, _, sign_in

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def _call(live_server, secret: str) -> int:
    request = urllib.request.Request(live_server.url + "/api/v1/customers/", headers={"Authorization": f"Api-Key {secret}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # nosec B310 - the test's own server
            json.load(response)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_owner_revokes_a_key_and_the_till_is_refused_at_once(live_server, desktop, shot, admin_user, settings,
                                                                  language):
    settings.API_KEY_CACHE_SECONDS = 3600  # the server remembers the key: the revocation must still count at once
    partner = api_services.partner_create(name="Till One", contact="ops@till.example")
    key, secret = api_services.api_key_create(partner=partner, scopes=["customers:read"], name="front till")
    assert _call(live_server, secret) == 200

    page = desktop  # checks that every page it loads is a sound HTML5 document
    sign_in(page, live_server, admin_user, language)
    page.goto(live_server.url + reverse("admin:index"))
    page.get_by_role("link", name=_(language, "API keys"), exact=True).first.click()
    page.locator("input.action-select").first.check()
    page.select_option("select[name=action]", "revoke_keys")
    page.locator("button[name=index]").click()
    expect(page.locator("ul.messagelist")).to_contain_text(local_digits(_(language, "%d key revoked.") % 1, language))
    shot(page, f"api-key-revoked-{language}")

    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert _call(live_server, secret) == 401
