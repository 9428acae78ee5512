"""Staff run the admin's actions on a few rows, clicked in Chromium in each admin language, and read how many were
done in their own digits (a Persian reader: ۲, not 2)."""

import pytest
from django.urls import reverse
from django.utils import translation

from core.templatetags.localized import local_digits
from crm.models import Interaction, Order
from tests.e2e.test_campaigns import LANGUAGES, sign_in
from tests.factories import InteractionFactory, OrderFactory

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def counted(language: str, singular: str, plural: str, count: int) -> str:
    """The message as the admin writes it to a reader of `language`."""
    with translation.override(language):
        return local_digits(translation.ngettext(singular, plural, count) % {"count": count}, language)


def run_action(page, live_server, changelist: str, action: str) -> None:
    page.goto(live_server.url + reverse(changelist))
    page.locator("#action-toggle").check()  # every row of the page
    page.select_option("select[name=action]", action)
    page.locator("button[name=index]").click()


@pytest.mark.parametrize("language", LANGUAGES)
def test_staff_cancel_orders_and_resolve_interactions_and_read_the_counts_in_their_digits(
        live_server, desktop, shot, admin_user, language):
    orders = [OrderFactory(status=Order.Status.PAID), OrderFactory(status=Order.Status.PAID)]
    InteractionFactory(status=Interaction.Status.OPEN)
    InteractionFactory(status=Interaction.Status.OPEN)
    sign_in(desktop, live_server, admin_user, language)

    # The counter actions.js writes as boxes are ticked, and the amounts, in the reader's digits.
    desktop.goto(live_server.url + reverse("admin:crm_order_changelist"))
    desktop.locator("#action-toggle").check()
    expect(desktop.locator(".action-counter")).to_contain_text(local_digits("2", language) + " ")
    if language == "fa":
        assert not any(digit in desktop.locator(".action-counter").inner_text() for digit in "0123456789")
    expect(desktop.locator("#result_list")).to_contain_text(local_digits("100", language))
    shot(desktop, f"orders-selected-{language}")

    run_action(desktop, live_server, "admin:crm_order_changelist", "cancel_orders")
    cancelled = counted(language, "%(count)d order cancelled.", "%(count)d orders cancelled.", 2)
    expect(desktop.locator("ul.messagelist")).to_contain_text(cancelled)
    shot(desktop, f"orders-cancelled-{language}")
    assert {order.status for order in Order.objects.filter(pk__in=[order.pk for order in orders])} == {"cancelled"}

    run_action(desktop, live_server, "admin:crm_interaction_changelist", "mark_resolved")
    resolved = counted(language, "%(count)d interaction resolved.", "%(count)d interactions resolved.", 2)
    expect(desktop.locator("ul.messagelist")).to_contain_text(resolved)
    assert not Interaction.objects.exclude(status=Interaction.Status.RESOLVED).exists()
