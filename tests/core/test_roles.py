"""Who may do what in the crm admin, walked page by page for every role.

Read the table like the design: support logs interactions, edits customers and
processes cancellations and refunds but deletes nothing; marketing edits customers,
products and tags but deletes no customer; club managers only read crm (they own the
club's tiers, rules, offers and point adjustments); a staff member with no role sees
nothing; an anonymous visitor is sent to the login page.

Cells:
  ok     the page opens (200) or the action is done
  edit   the change page opens with a form that can be saved
  view   the change page opens read-only
  403    refused: the page answers 403, or the action is not offered and changes nothing
  login  redirected to the admin login page
"""

from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from core import roles
from crm import services
from crm.models import Interaction, Order
from tests.factories import CustomerFactory, InteractionFactory, OrderLineFactory, ProductFactory

pytestmark = pytest.mark.django_db

ROLES = ("superuser", "support", "marketing", "club_manager", "outsider", "anonymous")

MATRIX = """
page                          superuser  support  marketing  club_manager  outsider  anonymous
customer list                 ok         ok       ok         ok            403       login
customer search               ok         ok       ok         ok            403       login
customer add                  ok         ok       403        403           403       login
customer change               edit       edit     edit       view          403       login
customer delete               ok         403      403        403           403       login
customer log-interaction      ok         ok       403        403           403       login
interaction list              ok         ok       ok         ok            403       login
interaction add               ok         ok       403        403           403       login
interaction change            edit       edit     view       view          403       login
interaction delete            ok         403      403        403           403       login
interaction mark-resolved     ok         ok       403        403           403       login
order list                    ok         ok       ok         ok            403       login
order add                     403        403      403        403           403       login
order change                  view       view     view       view          403       login
order delete                  403        403      403        403           403       login
order cancel                  ok         ok       403        403           403       login
order refund                  ok         ok       403        403           403       login
order refund-page             ok         ok       403        403           403       login
orderline list                ok         ok       ok         ok            403       login
orderline change              view       view     view       view          403       login
product list                  ok         ok       ok         ok            403       login
product add                   ok         403      ok         403           403       login
product change                edit       view     edit       view          403       login
product delete                ok         403      403        403           403       login
tag list                      ok         ok       ok         ok            403       login
tag add                       ok         403      ok         403           403       login
tag change                    edit       view     edit       view          403       login
tag delete                    ok         403      403        403           403       login
consentchange list            ok         ok       ok         ok            403       login
consentchange add             403        403      403        403           403       login
consentchange change          view       view     view       view          403       login
consentchange delete          403        403      403        403           403       login
"""


def _parse(matrix: str) -> list[tuple[str, str, str]]:
    lines = [line.split() for line in matrix.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    assert tuple(header[1:]) == ROLES
    return [(f"{row[0]} {row[1]}", role, cell) for row in rows for role, cell in zip(ROLES, row[2:], strict=True)]


CASES = _parse(MATRIX)


@pytest.fixture
def world(place_order):
    """One of everything, for the pages to show."""
    customer = CustomerFactory(first_name="Sara", email="sara@example.com")
    order = place_order(customer, total="100.00", status="placed")
    line = OrderLineFactory(order=order)
    interaction = InteractionFactory(customer=customer, status="open")
    product = ProductFactory()
    tag = services.tags_ensure(["vip"])[0]
    consent = services.consent_set(customer=customer, channel="email", granted=True, source="test")
    return {
        "customer": customer, "order": order, "orderline": line, "interaction": interaction, "product": product,
        "tag": tag, "consentchange": consent,
    }


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # Each case signs in one user; the default hasher would make the matrix take minutes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


FIXTURE_OF_ROLE = {
    "superuser": "admin_user", "support": "support_user", "marketing": "marketing_user",
    "club_manager": "club_manager", "outsider": "outsider",
}


def _url(model: str, view: str, obj=None) -> str:
    if view in ("list", "add"):
        return reverse(f"admin:crm_{model}_{'changelist' if view == 'list' else 'add'}")
    return reverse(f"admin:crm_{model}_{view}", args=[obj.pk])


def _open(client, page: str, world):
    """Do what the page stands for; return (response, done) where done tells whether an
    action's effect happened (None for plain pages)."""
    model, view = page.split()
    obj = world.get(model)
    if view == "search":
        return client.get(_url(model, "list"), {"q": "sara@example.com"}), None
    if view in ("list", "add", "change", "delete"):
        return client.get(_url(model, view, obj)), None
    if view == "log-interaction":
        response = client.post(reverse("admin:crm_customer_log_interaction", args=[obj.pk]), {
            "interaction-channel": "phone", "interaction-direction": "inbound", "interaction-subject": "Matrix call",
            "interaction-status": "resolved",
        })
        return response, Interaction.objects.filter(subject="Matrix call").exists()
    if view == "mark-resolved":
        response = client.post(_url(model, "list"), {"action": "mark_resolved", "index": 0, ACTION_CHECKBOX_NAME: [obj.pk]})
        obj.refresh_from_db()
        return response, obj.status == Interaction.Status.RESOLVED
    if view == "cancel":
        response = client.post(_url(model, "list"), {"action": "cancel_orders", "index": 0, ACTION_CHECKBOX_NAME: [obj.pk]})
        obj.refresh_from_db()
        return response, obj.status == Order.Status.CANCELLED
    if view == "refund":
        response = client.post(_url(model, "list"), {
            "action": "refund_orders", "apply": "1", "amount": "10", ACTION_CHECKBOX_NAME: [obj.pk],
        })
        obj.refresh_from_db()
        return response, obj.refunded_amount == Decimal("10")
    if view == "refund-page":
        return client.get(reverse("admin:crm_order_refund", args=[obj.pk])), None
    raise AssertionError(f"unknown page {page}")


@pytest.mark.parametrize("page, role, expected", CASES, ids=[f"{page}-{role}" for page, role, _ in CASES])
def test_the_permission_matrix(request, client, world, page, role, expected):
    if role != "anonymous":
        client.force_login(request.getfixturevalue(FIXTURE_OF_ROLE[role]))

    response, done = _open(client, page, world)

    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
        assert done in (None, False)
    elif expected == "403":
        # A refused page is a 403; a refused action is not offered, so posting it changes
        # nothing: the list shows again (or redirects with "No action selected", or is a 403).
        assert response.status_code in ((403,) if done is None else (200, 302, 403))
        assert done in (None, False)
    elif expected == "ok":
        assert response.status_code in ((200,) if done is None else (200, 302)), response.status_code
        assert done in (None, True)
    elif expected in ("edit", "view"):
        assert response.status_code == 200
        assert response.context["has_change_permission"] is (expected == "edit")
    else:
        raise AssertionError(f"unknown cell {expected}")


def test_the_groups_have_exactly_the_declared_permissions():
    for role in roles.ROLES:
        group = Group.objects.get(name=role)
        granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert granted == roles.declared_permissions(role)


def test_no_role_may_delete_customers_or_edit_the_consent_history():
    for role in roles.ROLES:
        declared = roles.declared_permissions(role)
        assert "crm.delete_customer" not in declared
        assert not {"crm.add_consentchange", "crm.change_consentchange", "crm.delete_consentchange"} & declared


def test_a_follow_up_panel_is_shown_only_to_those_who_can_see_interactions(client, outsider, support_user):
    InteractionFactory(staff=outsider, status="open", follow_up_on=timezone.localdate())
    client.force_login(outsider)
    assert "My follow-ups due today" not in client.get(reverse("admin:index")).content.decode()
    client.force_login(support_user)
    assert "My follow-ups due today" in client.get(reverse("admin:index")).content.decode()

