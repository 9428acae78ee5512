"""Segments: the customers they select (one QuerySet) and every write to them."""

import csv
import io

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from campaigns import rules as segment_rules
from campaigns.models import Segment, SegmentCustomer, SegmentMember
from crm.models import Customer
from crm.services import normalize_email


def segment_customers(segment: Segment, *, at=None, compiled: segment_rules.Compiled | None = None) -> QuerySet[Customer]:
    """The segment's customers as one QuerySet (a subquery, never a Python list).
    `compiled`: the segment's rules already compiled (a save reuses its validation's compile)."""
    if segment.kind == Segment.Kind.STATIC:
        return Customer.objects.filter(segment_memberships__segment=segment)
    return segment_rules.customers_matching(segment.rules, at=at, compiled=compiled)


@transaction.atomic
def segment_create(*, slug: str, name: str, rules: dict | None = None, kind: str = Segment.Kind.DYNAMIC,
                   description: str = "", by=None, compiled: segment_rules.Compiled | None = None) -> Segment:
    """A new segment; its dynamic rules are validated and compiled once, and the same compile counts it.
    A slug already taken is a ValidationError (editing a segment is segment_update)."""
    slug, name = _checked_slug(slug), _checked_name(name)
    if Segment.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("A segment with this slug already exists.")}, code="unique")
    rules = rules or {}
    compiled = _compiled(kind, rules, compiled)
    segment = Segment(slug=slug, name=name, kind=kind, rules=rules, description=description or "", created_by=by)
    segment._history_user = by  # the audit row names who did it, whatever the entry point
    segment.save()
    segment_members_refresh(segment=segment, compiled=compiled)
    return segment


@transaction.atomic
def segment_update(*, segment: Segment, slug: str | None = None, name: str | None = None, rules: dict | None = None,
                   kind: str | None = None, description: str | None = None, by=None,
                   compiled: segment_rules.Compiled | None = None) -> Segment:
    """Change a segment in place (None leaves a field as it is). Renaming the slug keeps the same
    row, so campaigns that target or exclude it keep pointing at it."""
    locked = Segment.objects.select_for_update().get(pk=segment.pk)
    if slug is not None:
        locked.slug = _checked_slug(slug)
        if Segment.objects.filter(slug=locked.slug).exclude(pk=locked.pk).exists():
            raise ValidationError({"slug": _("A segment with this slug already exists.")}, code="unique")
    if name is not None:
        locked.name = _checked_name(name)
    if kind is not None:
        locked.kind = kind
    if description is not None:
        locked.description = description
    if rules is not None:
        locked.rules = rules
    compiled = _compiled(locked.kind, locked.rules, compiled)
    locked._history_user = by
    locked.save()
    segment_members_refresh(segment=locked, compiled=compiled)
    return locked


def segment_save(*, slug: str, name: str, rules: dict | None = None, kind: str = Segment.Kind.DYNAMIC,
                 description: str = "", by=None) -> tuple[Segment, bool]:
    """For entry points whose input names a segment by its slug (the segment_create command, segments kept
    in version control, demo data): update the segment with this slug, or create it. Returns (segment, created).
    Screens that edit a segment they loaded call segment_update, so a rename never makes a second segment."""
    existing = Segment.objects.filter(slug=slugify(slug)).first()
    if existing is None:
        return segment_create(slug=slug, name=name, rules=rules, kind=kind, description=description, by=by), True
    return segment_update(segment=existing, name=name, rules=rules, kind=kind, description=description or None, by=by), False


def _checked_slug(slug: str) -> str:
    slug = slugify(slug or "")
    if not slug:
        raise ValidationError({"slug": _("Give the segment a slug (letters, digits, hyphens).")})
    return slug


def _checked_name(name: str) -> str:
    if not name or not name.strip():
        raise ValidationError({"name": _("Give the segment a name.")})
    return name.strip()


def _compiled(kind: str, rules, compiled: segment_rules.Compiled | None) -> segment_rules.Compiled | None:
    """Dynamic rules compiled once per save: the caller's compile when it is of these very rules
    (the admin form validated them), otherwise one compile here, which is also the validation."""
    if kind != Segment.Kind.DYNAMIC:
        return None
    if compiled is not None and compiled.rules == rules:
        return compiled
    return segment_rules.compile_rules(rules)


def segment_members(segment: Segment) -> QuerySet[Customer]:
    """The segment's customers as materialized at `segment.members_computed_at` (SegmentCustomer), for the
    reports; a segment never materialized yet (created before the table existed) is evaluated live."""
    if segment.members_computed_at is None:
        return segment_customers(segment)
    return Customer.objects.filter(pk__in=SegmentCustomer.objects.filter(segment=segment).values("customer_id"))


@transaction.atomic
def segment_members_refresh(*, segment: Segment, compiled: segment_rules.Compiled | None = None) -> int:
    """Rewrite the segment's materialized membership with two set-based statements: a DELETE of the rows
    it no longer selects and an INSERT ... SELECT of the new ones (rows that stay are not touched).
    Dynamic rules are evaluated as of now (or of `compiled.now`), which is recorded with the size.
    The segment's row is locked, so two refreshes of one segment never interleave. Returns the size."""
    # The rules as they are now, under the lock: a job that loaded the segment before an edit must not
    # write the members of the old rules after the edit's own refresh.
    locked = Segment.objects.select_for_update().get(pk=segment.pk)
    if locked.kind == Segment.Kind.DYNAMIC and (compiled is None or compiled.rules != locked.rules):
        compiled = segment_rules.compile_rules(locked.rules)
    computed_at = compiled.now if locked.kind == Segment.Kind.DYNAMIC else timezone.now()
    selected, params = (segment_customers(locked, compiled=compiled).order_by().values(member_id=F("pk"))
                        .query.sql_with_params())
    table = SegmentCustomer._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE segment_id = %s AND NOT EXISTS "  # nosec B608 - names from _meta, values bound
            f"(SELECT 1 FROM ({selected}) selected WHERE selected.member_id = {table}.customer_id)",
            [segment.pk, *params],
        )
        cursor.execute(
            f"INSERT INTO {table} (segment_id, customer_id) SELECT DISTINCT %s, selected.member_id "  # nosec B608 - as above
            f"FROM ({selected}) selected WHERE NOT EXISTS "
            f"(SELECT 1 FROM {table} kept WHERE kept.segment_id = %s AND kept.customer_id = selected.member_id)",
            [segment.pk, *params, segment.pk],
        )
    size = SegmentCustomer.objects.filter(segment=segment).count()
    Segment.objects.filter(pk=segment.pk).update(size=size, size_counted_at=computed_at, members_computed_at=computed_at)
    segment.size, segment.size_counted_at, segment.members_computed_at = size, computed_at, computed_at
    return size


def segments_refresh(*, segments: QuerySet[Segment] | None = None) -> dict:
    """Refresh every segment's membership (the nightly campaigns.segments_refresh job), one transaction
    per segment, so a long run never holds every segment locked. Rules that no longer compile
    (a field whose app was removed) leave that segment as it was and are reported."""
    refreshed, failed = 0, []
    for segment in (segments if segments is not None else Segment.objects.order_by("pk")):
        try:
            segment_members_refresh(segment=segment)
        except ValidationError:
            failed.append(segment.slug)
            continue
        refreshed += 1
    if connection.vendor == "postgresql":
        # The table was just rewritten and the snapshots join it next: plans need its new statistics
        # (autovacuum would analyze it later; until then, estimates off by 10x pick nested loops).
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {SegmentCustomer._meta.db_table}")  # nosec B608 - the table name from _meta
    return {"refreshed": refreshed, "failed": failed}


@transaction.atomic
def segment_add_customers(*, segment: Segment, customers: QuerySet[Customer], by=None) -> int:
    if segment.kind != Segment.Kind.STATIC:
        raise ValidationError(_("Customers can be added by hand only to a static segment."))
    before = segment.memberships.count()
    SegmentMember.objects.bulk_create(
        [SegmentMember(segment=segment, customer_id=pk, added_by=by) for pk in customers.values_list("pk", flat=True)],
        ignore_conflicts=True, batch_size=5000,
    )
    added = segment.memberships.count() - before
    segment_members_refresh(segment=segment)
    return added


@transaction.atomic
def segment_remove_customers(*, segment: Segment, customers: QuerySet[Customer]) -> int:
    removed, _ = SegmentMember.objects.filter(segment=segment, customer__in=customers.values("pk")).delete()
    segment_members_refresh(segment=segment)
    return removed


def segment_import_csv(*, segment: Segment, file, by=None) -> dict:
    """A CSV of emails or external references (one per line, or a column named email or
    external_ref). All or nothing: unknown ones are reported with their line number."""
    text = file.read()
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(_("line 1: the file is not UTF-8 text.")) from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise ValidationError(_("The file is empty."))
    header = [cell.strip().lower() for cell in rows[0]]
    column, start = (header.index("email"), 2) if "email" in header else (
        (header.index("external_ref"), 2) if "external_ref" in header else (0, 1))
    wanted: dict[str, int] = {}
    for line_number, row in enumerate(rows[start - 1:], start=start):
        if not row or not row[column].strip():
            continue
        wanted.setdefault(row[column].strip(), line_number)
    emails = {value.lower(): line for value, line in wanted.items() if "@" in value}
    refs = {value: line for value, line in wanted.items() if "@" not in value}
    found_by_email = dict(Customer.objects.filter(email__in=[normalize_email(e) for e in emails]).values_list("email", "pk"))
    found_by_ref = dict(Customer.objects.filter(external_ref__in=list(refs)).values_list("external_ref", "pk"))
    errors = [f"line {line}: no customer with the email {value}" for value, line in emails.items() if value not in found_by_email]
    errors += [f"line {line}: no customer with the reference {value}" for value, line in refs.items() if value not in found_by_ref]
    if errors:
        raise ValidationError(sorted(errors, key=lambda message: int(message.split(":")[0].split()[1])))
    ids = list(found_by_email.values()) + list(found_by_ref.values())
    added = segment_add_customers(segment=segment, customers=Customer.objects.filter(pk__in=ids), by=by)
    return {"matched": len(ids), "added": added}
