"""Segments: the customers they select (one QuerySet) and every write to them."""

import csv
import io

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from campaigns import rules as segment_rules
from campaigns.models import Segment, SegmentMember
from crm.models import Customer
from crm.services import normalize_email


def segment_customers(segment: Segment, *, at=None) -> QuerySet[Customer]:
    """The segment's customers as one QuerySet (a subquery, never a Python list)."""
    if segment.kind == Segment.Kind.STATIC:
        return Customer.objects.filter(segment_memberships__segment=segment)
    return segment_rules.customers_matching(segment.rules, at=at)


@transaction.atomic
def segment_save(*, slug: str, name: str, rules: dict | None = None, kind: str = Segment.Kind.DYNAMIC,
                 description: str = "", by=None) -> tuple[Segment, bool]:
    """Create or update a segment by slug; dynamic rules are validated first."""
    slug = slugify(slug)
    if not slug:
        raise ValidationError({"slug": _("Give the segment a slug (letters, digits, hyphens).")})
    if not name or not name.strip():
        raise ValidationError({"name": _("Give the segment a name.")})
    if kind == Segment.Kind.DYNAMIC:
        segment_rules.validate(rules)
    segment, created = Segment.objects.select_for_update().get_or_create(
        slug=slug, defaults={"name": name.strip(), "kind": kind, "rules": rules or {}, "description": description,
                             "created_by": by},
    )
    if not created:
        segment.name, segment.kind, segment.description = name.strip(), kind, description or segment.description
        if rules is not None:
            segment.rules = rules
        segment.save()
    segment_refresh_size(segment=segment)
    return segment, created


def segment_refresh_size(*, segment: Segment) -> int:
    size = segment_customers(segment).count()
    Segment.objects.filter(pk=segment.pk).update(size=size, size_counted_at=timezone.now())
    segment.size = size
    return size


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
    segment_refresh_size(segment=segment)
    return added


@transaction.atomic
def segment_remove_customers(*, segment: Segment, customers: QuerySet[Customer]) -> int:
    removed, _ = SegmentMember.objects.filter(segment=segment, customer__in=customers.values("pk")).delete()
    segment_refresh_size(segment=segment)
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
