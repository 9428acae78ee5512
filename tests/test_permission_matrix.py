"""The whole permission matrix (issue 8): every admin page, action and custom admin URL for every
staff role, and every API operation for every API key scope.

Nothing here is a hand-kept list of pages: the admin half walks `admin.site._registry` (and each
ModelAdmin's actions and URLs), the API half walks the URL resolver, so a model, an action or an
endpoint added later is checked by the next run. What is hand-kept is the *design*:

- `DESIGNED_PERMISSIONS`: what each role may do, written out in full. It must equal what the
  roles modules declare, so changing a role's rights breaks `test_the_roles_grant_exactly_the_designed_permissions`
  until this table is updated on purpose (and a reviewer sees the diff).
- `ACTION_PERMISSION` and `CUSTOM_URLS`: which permission each admin action and custom admin page
  needs. A new action or URL that is not in these tables fails the run until someone decides.

A page the admin offers to nobody (orders are never added in the admin, ledgers are never changed)
is refused to every role: whether the admin offers a page at all is read from the ModelAdmin with a
superuser, the rest comes from the design table.
"""

import json
import re
import uuid
from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from core import roles

# --- the design ------------------------------------------------------------------------------------

SUPPORT = {
    "crm": {"customer": "view add change", "interaction": "view add change", "order": "view change",
            "orderline": "view", "product": "view", "consentchange": "view", "tag": "view"},
    "club": {"membership": "view add", "coupon": "view", "couponredemption": "view", "pointstransaction": "view",
             "pendingpoints": "view", "tierchange": "view", "tier": "view", "offer": "view", "referral": "view",
             "birthdayreward": "view"},
    "feedback": {"survey": "view", "question": "view", "choice": "view", "invitation": "view add", "response": "view",
                 "answer": "view", "returnrequest": "view process_return", "returnline": "view", "returnevent": "view"},
    "campaigns": {"message": "view", "deliveryevent": "view"},
}
MARKETING = {
    "crm": {"customer": "view change import_customers", "interaction": "view", "order": "view import_orders",
            "orderline": "view", "product": "view add change", "consentchange": "view", "tag": "view add change"},
    "club": {model: "view" for model in ("membership", "tier", "earningrule", "offer", "coupon", "couponredemption",
                                         "pointstransaction", "pendingpoints", "tierchange", "referral", "birthdayreward")},
    "feedback": {"survey": "view add change", "question": "view add change delete", "choice": "view add change delete",
                 "invitation": "view add", "response": "view", "answer": "view", "returnrequest": "view",
                 "returnline": "view", "returnevent": "view"},
    "campaigns": {"segment": "view add change delete", "segmentmember": "view add delete",
                  "campaign": "view add change delete", "campaignvariant": "view add change delete", "campaignevent": "view",
                  "automation": "view add change", "message": "view", "deliveryevent": "view", "trackedlink": "view",
                  "suppression": "view add",
                  "inboundsms": "view"},
    "analytics": {"segmentmetricsnapshot": "view", "retentiondashboard": "view", "analyticsrun": "view add",
                  "customerscore": "view", "predictionfit": "view"},
}
CLUB_MANAGER = {
    "crm": {model: "view" for model in ("customer", "interaction", "order", "orderline", "product", "consentchange", "tag")},
    "club": {"tier": "view add change delete", "earningrule": "view add change delete", "offer": "view add change delete",
             "coupon": "view add change", "couponredemption": "view",
             "membership": "view add change adjust_points override_tier", "pointstransaction": "view",
             "pendingpoints": "view", "tierchange": "view", "referral": "view add", "birthdayreward": "view",
             "membernotice": "view", "pointsliability": "view recompute_liability"},
    "feedback": {"survey": "view", "response": "view", "answer": "view", "returnrequest": "view", "returnline": "view"},
    "campaigns": {"segment": "view", "campaign": "view", "campaignvariant": "view", "campaignevent": "view", "automation": "view",
                  "message": "view", "deliveryevent": "view"},
}


def _expand(grants: dict) -> set[str]:
    return {
        f"{app}.{action if '_' in action else f'{action}_{model}'}"
        for app, models in grants.items() for model, actions in models.items() for action in actions.split()
    }


# role -> the exact set of "app_label.codename" permissions it holds. Partners, API keys and the
# API call log are superuser-only: no role holds any api permission.
DESIGNED_PERMISSIONS: dict[str, set[str] | None] = {
    "support": _expand(SUPPORT),
    "marketing": _expand(MARKETING),
    "club_manager": _expand(CLUB_MANAGER),
    "staff_no_group": set(),  # the staff flag alone opens nothing
    "anonymous": None,  # sent to the login page everywhere
}
GROUP_OF_ROLE = {"support": roles.SUPPORT, "marketing": roles.MARKETING, "club_manager": roles.CLUB_MANAGERS}
ROLE_NAMES = tuple(DESIGNED_PERMISSIONS)

# Admin actions: the permission a role needs to run one (besides seeing the list). "model:<action>"
# means that action's permission on the list's own model.
ACTION_PERMISSION = {
    "delete_selected": "model:delete",
    "crm.customer.export_customer_data": "crm.change_customer",
    "crm.customer.erase_customers": "crm.erase_customer",
    "crm.customer.add_to_static_segment": "campaigns.add_segmentmember",
    "crm.interaction.mark_resolved": "crm.change_interaction",
    "crm.order.cancel_orders": "crm.change_order",
    "crm.order.refund_orders": "crm.change_order",
    **{f"feedback.returnrequest.mark_{state}": "feedback.process_return"
       for state in ("approved", "rejected", "received", "refunded", "exchanged", "credited", "closed")},
    "campaigns.segment.recount": "campaigns.view_segment",
    # Superuser-only screens (no role sees their lists):
    "django_celery_beat.periodictask.enable_tasks": "model:change",
    "django_celery_beat.periodictask.disable_tasks": "model:change",
    "django_celery_beat.periodictask.toggle_tasks": "model:change",
    "django_celery_beat.periodictask.run_tasks": "model:change",
    "axes.accessattempt.cleanup_expired_attempts": "model:delete",
    "api.apikey.revoke_keys": "model:change",
    "api.webhookdelivery.retry_now": "model:change",
}


@dataclass(frozen=True)
class CustomUrl:
    permissions: tuple[str, ...]  # all of these are needed
    method: str = "get"
    kwargs: tuple[tuple[str, str], ...] = ()  # url kwarg -> "pk" (an object of the admin's model), "run", or a literal
    data: str | None = None  # a JSON body for POST


# Every URL a ModelAdmin adds besides changelist/add/change/delete/history.
CUSTOM_URLS = {
    "auth_user_password_change": CustomUrl(("auth.change_user",), kwargs=(("id", "pk"),)),
    "crm_customer_log_interaction": CustomUrl(("crm.add_interaction", "crm.view_customer"), kwargs=(("object_id", "pk"),)),
    "crm_customer_import": CustomUrl(("crm.import_customers",)),
    "crm_order_refund": CustomUrl(("crm.change_order",), kwargs=(("object_id", "pk"),)),
    "crm_order_import": CustomUrl(("crm.import_orders",)),
    "club_membership_adjust": CustomUrl(("club.adjust_points",), kwargs=(("pk", "pk"),)),
    "club_membership_tier": CustomUrl(("club.override_tier",), kwargs=(("pk", "pk"),)),
    "club_pointsliability_recompute": CustomUrl(("club.view_pointsliability", "club.recompute_liability"), "post"),
    "feedback_survey_results": CustomUrl(("feedback.view_survey",), kwargs=(("survey_id", "pk"),)),
    "feedback_returnrequest_transition": CustomUrl(("feedback.process_return",), "post",
                                                   (("pk", "pk"), ("state", "closed"))),
    "feedback_returnrequest_report": CustomUrl(("feedback.view_returnrequest",)),
    "analytics_dashboard_segment": CustomUrl(("analytics.view_retentiondashboard",), kwargs=(("key", "all"),)),
    "analytics_dashboard_winback": CustomUrl(("analytics.view_retentiondashboard", "campaigns.add_segment"), "post",
                                             (("key", "all"),)),
    "analytics_dashboard_recompute": CustomUrl(("analytics.add_analyticsrun",), "post"),
    "analytics_dashboard_run": CustomUrl(("analytics.view_retentiondashboard",), kwargs=(("pk", "run"),)),
    "campaigns_segment_preview": CustomUrl(("campaigns.view_segment",), "post",
                                           data=json.dumps({"rules": {"all": [{"field": "city", "op": "eq", "value": "Tehran"}]}})),
    "campaigns_segment_upload": CustomUrl(("campaigns.change_segment",), kwargs=(("pk", "pk"),)),
    "campaigns_campaign_action": CustomUrl(("campaigns.change_campaign",), "post", (("pk", "pk"), ("action", "cancel"))),
    "campaigns_campaign_test_send": CustomUrl(("campaigns.change_campaign",), kwargs=(("pk", "pk"),)),
    "campaigns_campaign_preview": CustomUrl(("campaigns.view_campaign",), kwargs=(("pk", "pk"),)),
    "campaigns_campaign_progress": CustomUrl(("campaigns.view_campaign",), kwargs=(("pk", "pk"),)),
    "campaigns_campaign_report": CustomUrl(("campaigns.view_campaign",), kwargs=(("pk", "pk"),)),
    "campaigns_automation_report": CustomUrl(("campaigns.view_automation",), kwargs=(("pk", "pk"),)),
}

STANDARD_VIEWS = ("changelist", "add", "history", "delete", "change")

# Models every staff member uses for their own row only (no role permission involved): the list
# opens for any staff member and shows only their own row.
SELF_SERVICE = {"core.staffpreference"}
# Admins whose list page is not a list (a dashboard, a preferences form): no list actions to run there.
NO_LIST_ACTIONS = SELF_SERVICE | {"analytics.retentiondashboard", "club.pointsliability"}


# --- what the admin has (discovered) ----------------------------------------------------------------

def _registered():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label_lower)


def _model_key(model) -> str:
    return model._meta.label_lower  # "crm.customer"


def _discover_actions() -> list[tuple[str, str]]:
    return [(_model_key(model), name) for model, model_admin in _registered() if _model_key(model) not in NO_LIST_ACTIONS
            for _function, name, _description in model_admin._get_base_actions()]


def _discover_custom_urls() -> list[tuple[str, str]]:
    found = []
    for model, model_admin in _registered():
        prefix = "%s_%s_" % (model._meta.app_label, model._meta.model_name)
        for pattern in model_admin.get_urls():
            name = getattr(pattern, "name", None)
            if name and not (name.startswith(prefix) and name[len(prefix):] in STANDARD_VIEWS):
                found.append((_model_key(model), name))
    return found


def _discover_pages() -> list[tuple[str, str]]:
    """The standard pages each ModelAdmin routes (some route only a few of them)."""
    found = []
    for model, model_admin in _registered():
        prefix = "%s_%s_" % (model._meta.app_label, model._meta.model_name)
        routed = {getattr(pattern, "name", None) for pattern in model_admin.get_urls()}
        views = ("changelist",) if _model_key(model) in SELF_SERVICE else ("changelist", "add", "change", "delete")
        found += [(_model_key(model), view) for view in views if prefix + view in routed]
    return found


PAGES = _discover_pages()
ACTIONS = _discover_actions()
URLS = _discover_custom_urls()


# --- one shared world, rolled back after this module ---------------------------------------------------

@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Demo data plus one of each thing the demo does not make, built once for the module inside a
    transaction that is rolled back at the end (each test also runs in its own savepoint)."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            cache.clear()


def _build_world() -> dict:
    from api import services as api_services
    from analytics.models import AnalyticsRun
    from campaigns.models import Segment, SegmentMember, Suppression
    from campaigns.services import suppression_add
    from core import demo
    from crm.models import Customer
    from tests.campaigns.helpers import make_campaign

    demo.seed_demo(customers=8, seed=7)
    customers = list(Customer.objects.order_by("pk")[:3])
    segment = Segment.objects.create(name="Matrix", slug="matrix", kind=Segment.Kind.STATIC)
    SegmentMember.objects.create(segment=segment, customer=customers[0])
    make_campaign(segments=[segment], name="Matrix campaign")
    AnalyticsRun.objects.create()
    if not Suppression.objects.exists():
        suppression_add(email="gone@example.com", phone=None, reason=Suppression.Reason.MANUAL, note="", by=None)
    partner = api_services.partner_create(name="Matrix shop")
    api_services.api_key_create(partner=partner, scopes=["customers:read"])
    api_services.partner_customer_share(partner=partner, customer=customers[0])

    User = get_user_model()
    users = {}
    for role in ROLE_NAMES:
        if role == "anonymous":
            continue
        user = User.objects.create(username=f"matrix.{role}", is_staff=True, email=f"{role}@staff.example")
        if role in GROUP_OF_ROLE:
            user.groups.add(Group.objects.get(name=GROUP_OF_ROLE[role]))
        users[role] = user
    superuser = User.objects.create(username="matrix.root", is_staff=True, is_superuser=True)
    return {"users": users, "superuser": superuser}


def _object_of(model):
    return model._default_manager.order_by("pk").first()


def _as_superuser(world):
    request = RequestFactory().get("/admin/")
    request.user = world["superuser"]
    return request


def _login(client, world, role):
    if role != "anonymous":
        client.force_login(world["users"][role])


def _holds(role: str, permission: str) -> bool:
    return permission in (DESIGNED_PERMISSIONS[role] or set())


def _model_perm(model, action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def _can_see(role: str, model) -> bool:
    return _holds(role, _model_perm(model, "view")) or _holds(role, _model_perm(model, "change"))


# What "change" means on models whose admin defines it by another permission.
CHANGE_PERMISSION = {"feedback.returnrequest": "feedback.process_return"}


def _assert_refused(response, role):
    if role == "anonymous":
        assert response.status_code == 302, response.status_code
        assert response["Location"].startswith(reverse("admin:login"))
    else:
        assert response.status_code == 403, response.status_code


def _assert_allowed(response):
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 302:
        assert not response["Location"].startswith(reverse("admin:login"))


# --- the tests -----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_roles_grant_exactly_the_designed_permissions():
    for role, group_name in GROUP_OF_ROLE.items():
        declared = roles.declared_permissions(group_name)
        assert declared == DESIGNED_PERMISSIONS[role], (
            f"{role}: granted but not designed {sorted(declared - DESIGNED_PERMISSIONS[role])}, "
            f"designed but not granted {sorted(DESIGNED_PERMISSIONS[role] - declared)}"
        )
        group = Group.objects.get(name=group_name)
        in_database = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert in_database == declared


@pytest.mark.django_db
def test_every_designed_permission_exists():
    from django.contrib.auth.models import Permission

    existing = {f"{app}.{codename}" for app, codename in Permission.objects.values_list("content_type__app_label", "codename")}
    for role, permissions in DESIGNED_PERMISSIONS.items():
        assert not (permissions or set()) - existing, f"{role}: no such permission {sorted((permissions or set()) - existing)}"


def test_every_admin_action_and_custom_url_has_a_designed_permission():
    assert not {f"{model}.{name}" for model, name in ACTIONS if name != "delete_selected"} - set(ACTION_PERMISSION), \
        "a new admin action: add it to ACTION_PERMISSION with the permission it is designed to need"
    assert not {name for _model, name in URLS} - set(CUSTOM_URLS), \
        "a new custom admin URL: add it to CUSTOM_URLS with the permission it is designed to need"


@pytest.mark.parametrize("role", ROLE_NAMES)
@pytest.mark.parametrize("model_key, view", PAGES, ids=[f"{m}-{v}" for m, v in PAGES])
def test_admin_pages(world, db, client, role, model_key, view):
    model = next(m for m, _a in _registered() if _model_key(m) == model_key)
    model_admin = admin.site._registry[model]
    obj = _object_of(model)
    info = model._meta.app_label, model._meta.model_name
    # A model with no row yet: the change/delete/history pages of a missing object still check the
    # permission first (refused: 403); an allowed user is redirected to the index ("does not exist").
    object_id = obj.pk if obj is not None else 987654321
    url = reverse(f"admin:{info[0]}_{info[1]}_{view}", args=[] if view in ("changelist", "add") else [object_id])
    superuser = _as_superuser(world)
    change_permission = CHANGE_PERMISSION.get(model_key, _model_perm(model, "change"))
    if model_key in SELF_SERVICE:
        allowed = role != "anonymous"
    elif view in ("changelist", "change"):
        offered = model_admin.has_view_or_change_permission(superuser, obj if view != "changelist" else None)
        allowed = offered and _can_see(role, model)
    elif view == "add":
        allowed = model_admin.has_add_permission(superuser) and _holds(role, _model_perm(model, "add"))
    else:
        allowed = model_admin.has_delete_permission(superuser, obj) and _holds(role, _model_perm(model, "delete"))
    _login(client, world, role)

    response = client.get(url)

    if not allowed:
        _assert_refused(response, role)
        return
    if obj is None and view in ("change", "delete"):
        assert response.status_code == 302 and response["Location"] == reverse("admin:index"), response.status_code
        return
    assert response.status_code == 200, response.status_code
    if view == "change" and model_key not in SELF_SERVICE:
        editable = model_admin.has_change_permission(superuser, obj) and _holds(role, change_permission)
        assert response.context["has_change_permission"] is editable


@pytest.mark.parametrize("role", ROLE_NAMES)
@pytest.mark.parametrize("model_key, action", ACTIONS, ids=[f"{m}-{a}" for m, a in ACTIONS])
def test_admin_actions(world, db, client, role, model_key, action):
    model = next(m for m, _a in _registered() if _model_key(m) == model_key)
    model_admin = admin.site._registry[model]
    obj = _object_of(model)
    needed = ACTION_PERMISSION.get(f"{model_key}.{action}", ACTION_PERMISSION.get(action))
    if needed.startswith("model:"):
        verb = needed.split(":", 1)[1]
        needed = CHANGE_PERMISSION.get(model_key, _model_perm(model, verb)) if verb == "change" else _model_perm(model, verb)
    superuser = _as_superuser(world)
    offered = action in model_admin.get_actions(superuser)
    allowed = offered and _can_see(role, model) and _holds(role, needed)
    _login(client, world, role)
    changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")

    with translation.override("en"):
        response = client.post(changelist, {"action": action, "index": 0, "select_across": 0,
                                            ACTION_CHECKBOX_NAME: [obj.pk] if obj is not None else []})
        notes = [str(message) for message in get_messages(response.wsgi_request)]

    # Not offered: Django answers "No action selected." and redirects, or, for a user who has no
    # action at all on this list, just shows the list again; either way nothing ran.
    context = response.context or {}
    form = context.get("action_form") if "cl" in context else None
    not_offered = (response.status_code == 302 and "No action selected." in notes) or (
        response.status_code == 200 and "cl" in context
        and (form is None or action not in dict(form.fields["action"].choices)))
    if allowed:
        if obj is None:
            pytest.skip(f"no {model_key} to run {action} on")
        assert response.status_code in (200, 302), response.status_code
        assert not not_offered and "Items must be selected in order to perform actions on them. No items have been changed." \
            not in notes
    elif role == "anonymous" or not _can_see(role, model):
        _assert_refused(response, role)
    else:
        # Seen but not permitted: the action is not offered (Django answers "No action selected."
        # and changes nothing), or it is offered and refuses with a 403.
        assert not_offered or response.status_code == 403, (response.status_code, notes)


def _custom_url(world, model, spec: CustomUrl, name: str) -> str:
    from analytics.models import AnalyticsRun

    kwargs = {}
    for key, value in spec.kwargs:
        if value == "pk":
            obj = _object_of(model)
            kwargs[key] = obj.pk if obj is not None else 987654321
        elif value == "run":
            kwargs[key] = AnalyticsRun.objects.order_by("pk").first().pk
        else:
            kwargs[key] = value
    return reverse(f"admin:{name}", kwargs=kwargs)


@pytest.mark.parametrize("role", ROLE_NAMES)
@pytest.mark.parametrize("model_key, name", URLS, ids=[name for _m, name in URLS])
def test_custom_admin_urls(world, db, client, role, model_key, name):
    model = next(m for m, _a in _registered() if _model_key(m) == model_key)
    spec = CUSTOM_URLS[name]
    allowed = all(_holds(role, permission) for permission in spec.permissions)
    _login(client, world, role)
    url = _custom_url(world, model, spec, name)

    if spec.method == "post":
        response = client.post(url, spec.data or {}, **({"content_type": "application/json"} if spec.data else {}))
    else:
        response = client.get(url)

    if allowed:
        _assert_allowed(response)
    else:
        _assert_refused(response, role)


# --- the partner API -----------------------------------------------------------------------------------

def _discover_api_operations() -> list[tuple[str, str, object]]:
    """(method, path template, view callback) of every /api/v1/ operation, as the schema lists them."""
    from drf_spectacular.generators import EndpointEnumerator

    return sorted(
        ((method, path, callback) for path, _regex, method, callback in EndpointEnumerator().get_api_endpoints()
         if path.startswith("/api/v1/")),
        key=lambda item: (item[1], item[0]),
    )


API_OPERATIONS = _discover_api_operations()
API_IDS = [f"{method} {path}" for method, path, _callback in API_OPERATIONS]


def _required_scopes(method: str, callback) -> tuple[str, ...] | None:
    """What the view declares for this method (any one of them will do); () for "any valid key",
    None when the view declares nothing for it."""
    view = callback.cls(**getattr(callback, "initkwargs", {}))
    actions = getattr(callback, "actions", None)
    if actions:
        view.action_map = actions
        view.action = actions.get(method.lower())
    declared = view.required_scopes or {}
    if method not in declared:
        return None
    wanted = declared[method]
    return (wanted,) if isinstance(wanted, str) else tuple(wanted)


# Operations any valid key may call, whatever its scopes: each partner manages its own webhook
# subscriptions (the queryset is the key's partner's). Anything else must name a scope.
OPEN_TO_EVERY_KEY = {"/api/v1/webhooks/", "/api/v1/webhooks/{id}/"}


@pytest.fixture(scope="module")
def api_world(django_db_setup, django_db_blocker):
    """Two partners, each with its own customer (an order, a membership, a return), a segment and a
    survey; one key per scope for partner one, and an own-data-only key with every scope."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build_api_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            cache.clear()


def _build_api_world() -> dict:
    from decimal import Decimal

    from django.utils import timezone

    from api import services as api_services
    from api.scopes import SCOPES
    from campaigns.models import Segment, SegmentMember
    from club import services as club_services
    from club.models import EarningRule, Tier
    from crm import services as crm_services
    from crm.services import LineInput
    from feedback.models import Question, Survey
    from feedback.services import returns
    from feedback.services.returns import LineRequest

    if not Tier.objects.exists():  # the admin world's demo data may have made them already
        Tier.objects.create(name="Matrix bronze", rank=1, threshold=0)
    EarningRule.objects.create(name="Matrix rule", kind=EarningRule.Kind.PURCHASE, points_per_unit=Decimal("1"))
    partners, people = {}, {}
    for index, label in enumerate(("mine", "theirs")):
        partner = api_services.partner_create(name=f"Matrix partner {label}")
        customer = api_services.partner_customer_create(
            partner=partner, first_name=label.title(), last_name="Customer", email=f"{label}.customer@example.com",
        )
        order = crm_services.order_create(
            customer=customer, placed_at=timezone.now() - timezone.timedelta(days=2), total="200.00",
            order_number=f"MATRIX-{label.upper()}", lines=[
                LineInput(sku=f"SKU-{index}", product_name="Beans", category="coffee", quantity=2, unit_price=Decimal("100")),
            ],
        )
        member = club_services.member_enroll(customer=customer)
        return_request = returns.return_request_create(order=order, lines=[LineRequest(order.lines.get().pk, 1, "damaged")])
        partners[label] = partner
        people[label] = {"customer": customer, "order": order, "member": member, "return": return_request}
    segment = Segment.objects.create(name="Matrix everyone", slug="matrix-everyone", kind=Segment.Kind.STATIC)
    SegmentMember.objects.bulk_create([SegmentMember(segment=segment, customer=p["customer"]) for p in people.values()])
    survey = Survey.objects.create(title="Matrix survey", public_slug="matrix-survey")
    Question.objects.create(survey=survey, type=Question.Type.NPS, scores=Question.Score.NPS, text="Recommend?")

    def key(*scopes, own_data_only=False):
        _key, secret = api_services.api_key_create(partner=partners["mine"], scopes=scopes, own_data_only=own_data_only)
        return secret

    return {
        "people": people, "segment": segment, "survey": survey,
        "scope_keys": {scope: key(scope) for scope in SCOPES},
        "all_scopes": list(SCOPES),
        "key_without": lambda *excluded: key(*[s for s in SCOPES if s not in excluded]),
        "own_data_key": key(*SCOPES, own_data_only=True),
    }


def _fill(path: str, callback, world: dict, whose: str = "mine") -> str:
    """Put real objects in the path's parameters (another partner's with whose="theirs");
    a parameter nothing here knows gets a random UUID."""
    from crm.models import Customer, Order

    person = world["people"][whose]
    model = getattr(getattr(callback.cls, "queryset", None), "model", None)

    def value(match):
        name = match.group(1)
        if name == "customer_id" or (name == "id" and model is Customer):
            return str(person["customer"].public_id)
        if name == "order_id" or (name == "id" and model is Order):
            return str(person["order"].public_id)
        if name == "return_id":
            return str(person["return"].public_id)
        if name == "survey_id":
            return str(world["survey"].pk)
        if name == "slug":
            return world["segment"].slug
        return str(uuid.uuid4())

    return re.sub(r"{(\w+)}", value, path)


CUSTOMER_OWNED_PARAMETERS = ("customer_id", "order_id", "return_id")


def _owned_by_a_customer(path: str, callback) -> bool:
    from crm.models import Customer, Order

    model = getattr(getattr(callback.cls, "queryset", None), "model", None)
    names = re.findall(r"{(\w+)}", path)
    return any(name in CUSTOMER_OWNED_PARAMETERS or (name == "id" and model in (Customer, Order)) for name in names)


def _call(client, method: str, url: str, secret: str | None = None, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {secret}"} if secret else {}
    if method in ("POST", "PUT", "PATCH"):
        return getattr(client, method.lower())(url, data="{}", content_type="application/json", **headers, **extra)
    return getattr(client, method.lower())(url, **headers, **extra)


@pytest.fixture
def fresh_throttle():
    cache.clear()


def test_every_api_operation_declares_the_scope_it_needs():
    assert API_OPERATIONS, "no API operation found"
    undeclared = [f"{method} {path}" for method, path, callback in API_OPERATIONS if _required_scopes(method, callback) is None]
    assert not undeclared, f"operations without required_scopes: {undeclared}"
    unscoped = [f"{method} {path}" for method, path, callback in API_OPERATIONS
                if _required_scopes(method, callback) == () and path not in OPEN_TO_EVERY_KEY]
    assert not unscoped, f"operations open to every key but not designed so (OPEN_TO_EVERY_KEY): {unscoped}"


@pytest.mark.parametrize("method, path, callback", API_OPERATIONS, ids=API_IDS)
def test_api_without_a_key_is_401(api_world, db, client, fresh_throttle, method, path, callback):
    response = _call(client, method, _fill(path, callback, api_world))
    assert response.status_code == 401, response.content


@pytest.mark.parametrize("method, path, callback", API_OPERATIONS, ids=API_IDS)
def test_api_with_the_key_in_the_query_string_is_401(api_world, db, client, fresh_throttle, method, path, callback):
    secret = api_world["scope_keys"][(_required_scopes(method, callback) or ("customers:read",))[0]]
    url = _fill(path, callback, api_world)

    for parameter in ("api_key", "key", "token"):
        response = _call(client, method, f"{url}?{parameter}={secret}")
        assert response.status_code == 401, (parameter, response.content)


@pytest.mark.parametrize("method, path, callback", API_OPERATIONS, ids=API_IDS)
def test_api_scopes(api_world, db, client, method, path, callback):
    """One key per scope: the operation's scope gets through, any other is a 403 naming the scope
    it lacks; so does a key with every scope except the ones this operation accepts."""
    from api.scopes import SCOPES

    required = _required_scopes(method, callback)
    assert required is not None, "no required_scopes for this method"
    url = _fill(path, callback, api_world)
    failures = []
    for scope in (None, *SCOPES):
        cache.clear()  # throttle counters
        secret = api_world["key_without"](*required) if scope is None else api_world["scope_keys"][scope]
        response = _call(client, method, url, secret)
        if scope in required or (not required and path in OPEN_TO_EVERY_KEY):
            if response.status_code in (401, 403) or response.status_code >= 500:
                failures.append(f"{scope}: {response.status_code} {response.content[:200]!r}")
        elif response.status_code != 403:
            failures.append(f"{scope or 'no relevant scope'}: {response.status_code}, expected 403")
        elif not all(name in response.json()["detail"] for name in required):
            failures.append(f"{scope or 'no relevant scope'}: the 403 does not name {required}: {response.json()['detail']}")
    assert not failures, failures


GET_OPERATIONS = [(m, p, c) for m, p, c in API_OPERATIONS if m == "GET"]


@pytest.mark.parametrize("method, path, callback", GET_OPERATIONS, ids=[f"{m} {p}" for m, p, _c in GET_OPERATIONS])
def test_an_own_data_only_key_sees_nothing_of_other_partners_customers(api_world, db, client, fresh_throttle,
                                                                        method, path, callback):
    theirs = api_world["people"]["theirs"]
    secrets_of_theirs = [str(theirs["customer"].public_id), theirs["customer"].email, str(theirs["order"].public_id),
                         theirs["order"].order_number, str(theirs["return"].public_id)]

    response = _call(client, method, _fill(path, callback, api_world), api_world["own_data_key"])

    # 400: the operation needs query parameters (a validation error shows no data either).
    assert response.status_code in (200, 400, 404), response.content
    body = response.content.decode()
    leaked = [value for value in secrets_of_theirs if value in body]
    assert not leaked, f"{path} shows another partner's customer: {leaked}"


def test_the_own_data_only_key_does_see_its_own_customers(api_world, db, client, fresh_throttle):
    mine, theirs = api_world["people"]["mine"], api_world["people"]["theirs"]
    for url, own in (("/api/v1/customers/", mine["customer"].public_id), ("/api/v1/orders/", mine["order"].public_id)):
        body = _call(client, "GET", url, api_world["own_data_key"]).content.decode()
        assert str(own) in body
    # ...and a key that is not own-data-only sees both partners' customers.
    body = _call(client, "GET", "/api/v1/customers/", api_world["scope_keys"]["customers:read"]).content.decode()
    assert str(mine["customer"].public_id) in body and str(theirs["customer"].public_id) in body


def test_an_own_data_only_key_cannot_look_up_another_partners_customer(api_world, db, client, fresh_throttle):
    theirs, mine = api_world["people"]["theirs"]["customer"], api_world["people"]["mine"]["customer"]
    key = api_world["own_data_key"]

    assert _call(client, "GET", f"/api/v1/customers/lookup/?email={mine.email}", key).status_code == 200
    response = _call(client, "GET", f"/api/v1/customers/lookup/?email={theirs.email}", key)
    assert response.status_code == 404 and str(theirs.public_id) not in response.content.decode()


OWNED_OPERATIONS = [(m, p, c) for m, p, c in API_OPERATIONS if _owned_by_a_customer(p, c)]


@pytest.mark.parametrize("method, path, callback", OWNED_OPERATIONS, ids=[f"{m} {p}" for m, p, _c in OWNED_OPERATIONS])
def test_another_partners_customer_is_404_for_an_own_data_only_key(api_world, db, client, fresh_throttle,
                                                                    method, path, callback):
    key = api_world["own_data_key"]
    theirs = _call(client, method, _fill(path, callback, api_world, whose="theirs"), key)
    unknown = _call(client, method, re.sub(r"{\w+}", lambda _m: str(uuid.uuid4()), path), key)

    assert theirs.status_code == 404, theirs.content
    assert unknown.status_code == 404  # reads exactly like a customer that does not exist
