"""Audit history: who changed what, when, and where the change came from.

django-simple-history keeps one historical row per save of the audited models (Customer,
Membership, Coupon, ReturnRequest), with `history_user` and `history_change_reason`:
- the user is the *actor*: the staff member of an admin request, or the `by` a service was
  given (services that take `by` are `@audited`); API calls (the caller is a partner's key),
  public pages, jobs and commands record none unless a service was given one;
- the change reason carries the *source*: "admin", "api: <partner>", "public page",
  "job: <name>", "task: <name>", "command: <name>", or "system" when nothing set one.

Both are set explicitly by each entry point, never guessed from a URL: the admin site's
`admin_view` (core.admin_site), the API's key authentication (api.authentication), the
`@public_page` views, `AuditedCommand` (core.commands), the job runner (core.jobs) and the
Celery task class (core.tasks.AuditedTask). Each request starts with neither set
(AuditScopeMiddleware), so nothing leaks from one request to the next on a worker thread.

Append-only tables need no copy: the points ledger (`created_by`), consent changes
(`changed_by`, `source`), tier changes (`changed_by`), coupon redemptions (`redeemed_by`) and
return events (`by`) are their own history; the ledger, tier changes, redemptions and return
events record the source too (`audit_source`, an AuditSourceField filled on insert). Writes made with `QuerySet.update()`/`bulk_create()` send no signal and so leave no
historical row: the services that change audited rows that way either write one of those
event rows (consent: ConsentChange; tier: TierChange; coupon redemption: CouponRedemption;
points: the ledger) or call `history_record` themselves (membership status, customers an
import changes). So the opt-in flags, the tier and the balances are not in the audited copies.
Customers *created* by a bulk import (or the demo seeder) get no "created" row, on purpose:
millions of copies would double the import's cost and hold nothing the customer row does not
(`created_at`, `source`, the consent rows); their first recorded version is the next change.
"""

import contextvars
import functools
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords  # noqa: F401  (the audited models import it from here)

from core.registry import Registry
from core.templatetags.localized import local_datetime, uses_jalali

SOURCE_MAX_LENGTH = 100

SYSTEM = "system"
ADMIN = "admin"
PUBLIC_PAGE = "public page"

# Where the change came from and who made it, set by the entry point (and, for the actor, by an
# @audited service given `by`). Context variables, so a thread or an asyncio task sees only its own.
_source: contextvars.ContextVar[str | None] = contextvars.ContextVar("history_source", default=None)
_actor: contextvars.ContextVar[Any] = contextvars.ContextVar("history_actor", default=None)


def api_source(partner) -> str:
    return f"api: {partner}"


def command_source(name: str) -> str:
    return f"command: {name}"


def job_source(name: str) -> str:
    return f"job: {name}"


def task_source(name: str) -> str:
    return f"task: {name}"


def is_user(by) -> bool:
    """A saved staff user (a partner's ApiClient, an anonymous visitor or None are not)."""
    return isinstance(by, get_user_model()) and by.pk is not None


@contextmanager
def _scope(source: str | None, actor):
    source_token, actor_token = _source.set(source), _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(actor_token)
        _source.reset(source_token)


def history_source(source: str, *, by=None):
    """Every historical row written inside the block records `source` as where the change came from,
    and `by` (a staff user) as who made it; without `by`, nobody (the entry point acts for no one)."""
    return _scope(source, by if is_user(by) else None)


def history_source_set(source: str, *, by=None) -> None:
    """Set the source (and actor) for the rest of the current audit scope. For an entry point that is
    not a block, such as the API's authentication: the request's AuditScopeMiddleware forgets it."""
    _source.set(source)
    _actor.set(by if is_user(by) else None)


def audit_scope():
    """A fresh scope: no source, no actor inside; whatever is set inside is forgotten on leaving."""
    return _scope(None, None)


@contextmanager
def history_by(by):
    """Rows written inside the block record `by` as their user. None keeps the entry point's actor:
    a service called by the system on behalf of the staff member's request still names them."""
    if not is_user(by):
        yield
        return
    token = _actor.set(by)
    try:
        yield
    finally:
        _actor.reset(token)


def audited(service: Callable) -> Callable:
    """Decorate a service that takes keyword-only `by`: the audited rows it writes record `by`
    (when it is a user) as who made the change, however deep the save."""

    @functools.wraps(service)
    def wrapper(*args, **kwargs):
        with history_by(kwargs.get("by")):
            return service(*args, **kwargs)

    return wrapper


def current_actor():
    """Who is making the change now: the user of the innermost @audited service or entry point, or None."""
    return _actor.get()


def current_source() -> str:
    """Where the change comes from, as the entry point set it; "system" when none did."""
    return _source.get() or SYSTEM


def history_user(request=None, instance=None, **kwargs):
    """simple-history's `get_user`: the current actor. The request is not consulted: the entry
    point that owns it has already said who acts."""
    return current_actor()


def record_source(sender, history_instance, **kwargs):
    """Receiver of simple_history's pre_create_historical_record (connected in CoreConfig.ready)."""
    if not history_instance.history_change_reason:
        history_instance.history_change_reason = current_source()[:SOURCE_MAX_LENGTH]


class AuditSourceField(models.CharField):
    """Where an event row (a ledger line, a tier change, a return event, a redemption) came from: the
    current source, written when the row is inserted, by `save()` and `bulk_create()` alike (both call
    `pre_save`), unless the row was given one. Raw SQL inserts name it themselves (`current_source()`).

    It deconstructs as a plain CharField, so migrations need no project code (tests/test_migrations.py)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", SOURCE_MAX_LENGTH)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if add and not value:
            value = current_source()[: self.max_length]
            setattr(model_instance, self.attname, value)
        return value

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs


def public_page(view: Callable) -> Callable:
    """Decorate a customer-facing view: the changes it makes come from "public page", made by no staff user."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        with history_source(PUBLIC_PAGE):
            return view(request, *args, **kwargs)

    return wrapper


def history_record(*instances, by=None, reason: str = "", batch_size: int = 2000) -> None:
    """One "changed" historical row each for changes written with `QuerySet.update()` or
    `bulk_update()` (which send no signal), in bulk. The instances (of one model) must hold
    the rows' values after the change."""
    if not instances:
        return
    model = type(instances[0])
    manager = getattr(model, model._meta.simple_history_manager_attribute)
    user = by if is_user(by) else current_actor()
    manager.bulk_history_create(
        instances, batch_size=batch_size, update=True, default_user=user,
        default_change_reason=(reason or current_source())[:SOURCE_MAX_LENGTH],
    )


# --- The customer's history: what changed, who changed it, from where ---------------------------------

@dataclass(frozen=True)
class HistorySource:
    name: str
    label: Any
    rows: Callable  # rows(customer) -> QuerySet of one historical model, filtered to the customer
    title: str | None = None  # attribute naming the object (a member number, a coupon code)
    hidden: tuple[str, ...] = ()  # fields never shown (the customer link itself)


# name -> HistorySource: each app's audited models that join the customer's history (the admin page
# and the export), declared in its contributions module.
history_source_registry: Registry[HistorySource] = Registry("customer history sources")


@dataclass
class Change:
    field: str
    label: str
    before: str
    after: str


@dataclass
class HistoryEntry:
    at: datetime
    source: str
    label: str
    action: str
    action_label: str
    user: Any
    reason: str
    changes: list[Change] = field(default_factory=list)
    # The first recorded version of a row created in bulk (an import): what changed is unknown.
    untracked_before: bool = False


# Technical columns that tell a reader nothing.
ALWAYS_HIDDEN = ("public_id", "idempotency_key")
ACTIONS = {"+": ("created", pgettext_lazy("history action", "created")), "~": ("changed", _("changed")), "-": ("deleted", _("deleted"))}


def customer_history(customer, *, limit: int | None = None) -> list[HistoryEntry]:
    """The customer's changes, newest first, each with its field-by-field before and after.

    Two queries per registered model, whatever the number of rows: the rows (each annotated
    with the id of the row before it) and those previous rows."""
    entries: list[HistoryEntry] = []
    for source in history_source_registry.values():
        entries.extend(_source_entries(source, customer, limit))
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit] if limit is not None else entries


def _source_entries(source: HistorySource, customer, limit: int | None) -> list[HistoryEntry]:
    queryset = source.rows(customer)
    model = queryset.model
    id_name = model.instance_type._meta.pk.attname
    fields = [f for f in model.tracked_fields
              if not f.primary_key and f.name not in (*source.hidden, *ALWAYS_HIDDEN) and f.attname not in source.hidden]
    related = [f.name for f in fields if f.is_relation]
    previous_id = Subquery(
        model.objects.filter(
            Q(history_date__lt=OuterRef("history_date"))
            | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id")),
            **{id_name: OuterRef(id_name)},
        ).order_by("-history_date", "-history_id").values("history_id")[:1]
    )
    rows = queryset.select_related("history_user", *related).annotate(previous_history_id=previous_id) \
        .order_by("-history_date", "-history_id")
    rows = list(rows[:limit] if limit is not None else rows)
    wanted = {row.previous_history_id for row in rows if row.previous_history_id}
    previous = {row.history_id: row for row in model.objects.filter(history_id__in=wanted).select_related(*related)} \
        if wanted else {}

    entries = []
    for row in rows:
        before = previous.get(row.previous_history_id)
        action, action_label = ACTIONS.get(row.history_type, ("changed", _("changed")))
        changes = [
            Change(field=f.name, label=str(capfirst(f.verbose_name)), before=_display(before, f) if before else "",
                   after=_display(row, f))
            for f in fields
            if before is None and action == "created" and _is_set(getattr(row, f.attname))
            or before is not None and getattr(before, f.attname) != getattr(row, f.attname)
        ]
        untracked_before = action == "changed" and before is None
        if action == "changed" and not changes and not untracked_before:
            continue  # a save that changed nothing we show
        title = getattr(row, source.title, None) if source.title else None
        entries.append(HistoryEntry(
            at=row.history_date, source=source.name,
            label=f"{source.label} {title}" if title else str(source.label),
            action=action, action_label=str(action_label), user=row.history_user, reason=row.history_change_reason or "",
            changes=changes, untracked_before=untracked_before,
        ))
    return entries


def _is_set(value) -> bool:
    return value not in (None, "", False, {}, [])


def _display(row, model_field) -> str:
    value = getattr(row, model_field.attname)
    if value is None or value == "":
        return "—"
    if model_field.is_relation:
        return str(getattr(row, model_field.name) or value)
    if model_field.flatchoices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, date) and uses_jalali():  # one calendar on the page: the reader's
        return local_datetime(value)
    if isinstance(value, datetime):
        return formats.localize(timezone.localtime(value) if timezone.is_aware(value) else value)
    return formats.localize(value) if isinstance(value, (date, Decimal)) else str(value)


def history_export(customer) -> list[dict]:
    """The whole history, oldest first, for the customer's data export."""
    return [
        {"at": entry.at, "object": entry.label, "action": entry.action, "by": username(entry.user),
         "source": entry.reason, "first_recorded_version": entry.untracked_before,
         "changes": [{"field": change.field, "before": change.before, "after": change.after} for change in entry.changes]}
        for entry in reversed(customer_history(customer))
    ]


def username(user) -> str | None:
    return user.get_username() if user is not None else None
