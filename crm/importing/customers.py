"""`import_customers`: a CSV of customers, upserted all or nothing.

Any subset of the columns may be given; a row needs an external_ref, an email or a phone.
Each row updates the customer it matches - by external_ref, then email, then phone - or
creates one. Only the columns in the file are written, and an empty cell leaves the value
as it is: an export with gaps never erases what staff typed in. Tags (separated by `|`) are
added to the customer's tags. An email_opt_in / sms_opt_in cell records a consent change
with source "import" when it changes the customer's consent (as crm.services.consent_set).

Rows are matched against the customers as they were before the import, in batches of
CRM_IMPORT_BATCH_SIZE (a few queries and bulk writes per batch), all in one transaction.
Two rows of the file that would be the same customer are an error, not a silent merge.
"""

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DataError, IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import signals
from core.audit import audited, history_record
from crm.importing.common import (
    CsvRows, ErrorList, ImportFailed, ImportResult, Progress, Source, check_length, local_timezone, parse_bool,
    parse_date, parse_datetime, parse_phone, read_header, wrong_width,
)
from crm.models import ConsentChange, Customer, Tag
from crm.validators import strip_bidi_controls

logger = logging.getLogger(__name__)

CUSTOMER_COLUMNS = (
    "external_ref", "first_name", "last_name", "email", "phone", "birth_date", "city", "country", "source",
    "acquired_at", "email_opt_in", "sms_opt_in", "tags",
)
# The keys a row is matched by, in order.
_KEYS = ("external_ref", "email", "phone")
_TEXT_LIMITS = {"external_ref": 100, "first_name": 100, "last_name": 100, "city": 100, "source": 50}
_CONSENT_CHANNELS = {"email_opt_in": ConsentChange.Channel.EMAIL, "sms_opt_in": ConsentChange.Channel.SMS}
_TAG_LIMIT = Tag._meta.get_field("name").max_length
CONSENT_SOURCE = "import"


@audited
def import_customers(file: Source, *, progress: Progress | None = None, by=None) -> ImportResult:
    """Create or update customers from a CSV file; all or nothing.

    Raises ImportFailed with every bad row as `line N: reason`; then nothing is written."""
    errors = ErrorList()
    batch_size = settings.CRM_IMPORT_BATCH_SIZE
    with CsvRows(file, errors, progress=progress, progress_every=batch_size) as rows:
        columns = read_header(rows.header, errors, allowed=CUSTOMER_COLUMNS)
        if rows.header is not None and not errors and not any(key in columns for key in _KEYS):
            errors.add(1, _("the file needs an external_ref, email or phone column"))
        errors.raise_if_any()
        importer = _CustomerImport(columns, len(rows.header), errors, by)
        try:
            with transaction.atomic():
                for batch in _batches(rows, batch_size):
                    importer.import_batch(batch)
                errors.raise_if_any()
        except DataError as exc:
            logger.exception("customers import: a value the row checks let through")
            raise ImportFailed.refused_by_database(exc) from None
        except IntegrityError:
            # Every key was checked against the file and the database first: only a
            # concurrent writer can get here.
            logger.exception("customers import hit a constraint")
            raise ImportFailed([
                _("someone changed the same customers at the same time; nothing was imported, "
                  "import the file again")
            ]) from None
    logger.info("customers import by %s: %s", by or "a script", importer.result.summary())
    return importer.result


@dataclass
class _Row:
    line: int
    values: dict  # model field -> value, only the non-empty cells
    tags: list[str] = field(default_factory=list)
    consent: dict[str, bool] = field(default_factory=dict)  # channel -> granted

    @property
    def identity(self) -> str:
        """The key the row is matched by first."""
        return next(key for key in _KEYS if key in self.values)


class _CustomerImport:
    def __init__(self, columns: dict[str, int], width: int, errors: ErrorList, by):
        self.columns = columns
        self.width = width
        self.errors = errors
        self.by = by
        self.tz = local_timezone()
        self.today = timezone.localdate()
        self.result = ImportResult(details={"consent_changes": 0})
        # Keys seen in the file: value -> line.
        self.seen: dict[str, dict[str, int]] = {key: {} for key in _KEYS}
        # Existing customers matched so far: id -> line.
        self.matched: dict[int, int] = {}
        # What earlier batches changed, so that every row is matched against the
        # customers as they were before the import, whatever the batch size.
        self.created_ids: set[int] = set()
        self.vacated: dict[tuple[str, str], int] = {}  # (key, old value) -> customer id
        self.key_changed: dict[str, set[int]] = {key: set() for key in _KEYS}

    def import_batch(self, batch: list[tuple[int, list[str]]]) -> None:
        self.result.rows += len(batch)
        rows = [row for line, cells in batch if (row := self._parse(line, cells)) is not None]
        rows = [row for row in rows if self._first_in_file(row)]
        if not rows:
            return
        found = self._existing(rows)
        creates: list[tuple[_Row, Customer]] = []
        updates: list[tuple[_Row, Customer, set[str]]] = []
        for row in rows:
            customer = self._match(row, found)
            if customer is False:
                continue
            if customer is None:
                creates.append((row, Customer(**row.values)))
            else:
                updates.append((row, customer, self._apply(row, customer)))
        if self.errors:
            return  # the import will fail: check the rest of the file, write nothing more
        self._write(creates, updates)

    # Reading a row --------------------------------------------------------------------

    def _parse(self, line: int, cells: list[str]) -> _Row | None:
        if problem := wrong_width(cells, self.width):
            self.errors.add(line, problem)
            return None
        row = _Row(line=line, values={})
        reasons = []
        for name, index in self.columns.items():
            text = cells[index].strip()
            if not text:
                continue
            try:
                if name == "tags":
                    row.tags = self._tags(text)
                elif name in _CONSENT_CHANNELS:
                    row.consent[_CONSENT_CHANNELS[name]] = parse_bool(text, name)
                else:
                    row.values[name] = self._value(name, text)
            except ValueError as exc:
                reasons.append(str(exc))
        if not reasons and not any(key in row.values for key in _KEYS):
            reasons.append(_("give an external_ref, an email or a phone"))
        for reason in reasons:
            self.errors.add(line, reason)
        return None if reasons else row

    def _value(self, name: str, text: str):
        if name in ("first_name", "last_name"):  # as crm.services stores names: no bidi controls
            return check_length(strip_bidi_controls(text), name, _TEXT_LIMITS[name])
        if name in _TEXT_LIMITS:
            return check_length(text, name, _TEXT_LIMITS[name])
        if name == "email":
            email = text.lower()
            try:
                validate_email(email)
            except ValidationError:
                raise ValueError(_('email "%(value)s" is not a valid email address') % {"value": text}) from None
            return check_length(email, name, 254)
        if name == "phone":
            return parse_phone(text, name)
        if name == "birth_date":
            value = parse_date(text, name)
            if value > self.today:
                raise ValueError(_('birth_date "%(value)s" is in the future') % {"value": text})
            return value
        if name == "acquired_at":
            return parse_datetime(text, name, self.tz)
        if name == "country":
            if not (len(text) == 2 and text.isascii() and text.isalpha()):
                raise ValueError(_('country "%(value)s" is not a 2-letter code') % {"value": text})
            return text.upper()
        raise AssertionError(name)

    def _tags(self, text: str) -> list[str]:
        names = list(dict.fromkeys(name.strip() for name in text.split("|") if name.strip()))
        for name in names:
            if len(name) > _TAG_LIMIT:
                raise ValueError(
                    _('tag "%(name)s" is longer than %(limit)s characters') % {"name": name, "limit": _TAG_LIMIT}
                )
        return names

    def _first_in_file(self, row: _Row) -> bool:
        """A key value on two rows would be one customer twice, or a broken unique key."""
        keys = [key for key in ("external_ref", "email") if key in row.values]
        if row.identity == "phone":
            keys.append("phone")  # a phone is shared by families; only as the sole key is it one customer
        clashes = [(key, row.values[key]) for key in keys if row.values[key] in self.seen[key]]
        for key, value in clashes:
            self.errors.add(row.line, _('%(column)s "%(value)s" is also on line %(line)s') % {
                "column": key, "value": value, "line": self.seen[key][value]})
        for key in keys:
            self.seen[key].setdefault(row.values[key], row.line)
        return not clashes

    # Matching -------------------------------------------------------------------------

    def _existing(self, rows: list[_Row]) -> dict[str, dict]:
        """The customers the batch's keys point at, as they were before the import."""
        wanted = {key: {row.values[key] for row in rows if key in row.values} for key in _KEYS}
        customers: dict[int, Customer] = {}
        queries = {
            "external_ref": Customer.objects.filter(external_ref__in=wanted["external_ref"]),
            "email": Customer.objects.alias(email_lower=Lower("email")).filter(email_lower__in=wanted["email"]),
            "phone": Customer.objects.filter(phone__in=wanted["phone"]),
        }
        vacated_ids = {
            self.vacated[(key, value)] for key in _KEYS for value in wanted[key] if (key, value) in self.vacated
        }
        for key, queryset in queries.items():
            if wanted[key]:
                for customer in queryset:
                    customers.setdefault(customer.pk, customer)
        if vacated_ids - customers.keys():
            for customer in Customer.objects.filter(pk__in=vacated_ids - customers.keys()):
                customers[customer.pk] = customer
        found: dict[str, dict] = {"external_ref": {}, "email": {}, "phone": {}}
        for customer in customers.values():
            if customer.pk in self.created_ids:
                continue
            current = _keys_of(customer)
            for key in _KEYS:
                if current[key] and customer.pk not in self.key_changed[key]:
                    _index(found, key, current[key], customer)
        for (key, value), customer_id in self.vacated.items():
            if value in wanted[key] and customer_id in customers:
                _index(found, key, value, customers[customer_id])
        return found

    def _match(self, row: _Row, found: dict[str, dict]) -> Customer | None | bool:
        """The customer the row updates, None to create one, False if the row is bad."""
        values = row.values
        ref, email, phone = values.get("external_ref"), values.get("email"), values.get("phone")
        customer = found["external_ref"].get(ref) if ref else None
        if customer is None and email and (by_email := found["email"].get(email)):
            if ref and by_email.external_ref and by_email.external_ref != ref:
                return self._bad(row, _('email "%(email)s" belongs to the customer with external_ref "%(ref)s"') % {
                    "email": email, "ref": by_email.external_ref})
            customer = by_email
        if customer is None and phone:
            candidates = [
                candidate for candidate in found["phone"].get(phone, ())
                if not (ref and candidate.external_ref and candidate.external_ref != ref)
                and not (email and candidate.email and candidate.email.lower() != email)
            ]
            if len(candidates) > 1:
                return self._bad(row, _('phone "%(phone)s" matches several customers; add an external_ref or an email')
                                 % {"phone": phone})
            customer = candidates[0] if candidates else None
        if email and (owner := found["email"].get(email)) is not None and owner is not customer:
            return self._bad(row, _('email "%(email)s" belongs to another customer') % {"email": email})
        if customer is not None:
            if customer.pk in self.matched:
                return self._bad(row, _("same customer as line %(line)s") % {"line": self.matched[customer.pk]})
            self.matched[customer.pk] = row.line
        return customer

    def _bad(self, row: _Row, reason: str) -> bool:
        self.errors.add(row.line, reason)
        return False

    # Writing --------------------------------------------------------------------------

    def _apply(self, row: _Row, customer: Customer) -> set[str]:
        """Set the row's values on the customer; the names of the fields that changed."""
        before = _keys_of(customer)
        changed = set()
        for name, value in row.values.items():
            current = before[name] if name in _KEYS else getattr(customer, name)
            if current != value:
                setattr(customer, name, value)
                changed.add(name)
                if name in _KEYS:
                    self.key_changed[name].add(customer.pk)
                    if current:
                        self.vacated[(name, current)] = customer.pk
        return changed

    def _write(self, creates: list[tuple[_Row, Customer]], updates: list[tuple[_Row, Customer, set[str]]]) -> None:
        now = timezone.now()
        history = set()
        if any(row.consent for row, _customer, _changed in updates):
            history = set(
                ConsentChange.objects.filter(customer__in=[customer.pk for _row, customer, _changed in updates])
                .values_list("customer_id", "channel").distinct()
            )
        consents: list[ConsentChange] = []

        def record(customer: Customer, channel: str, granted: bool) -> None:
            consents.append(ConsentChange(customer=customer, channel=channel, granted=granted,
                                          source=CONSENT_SOURCE, changed_by=self.by, changed_at=now))

        # A consent the file states is recorded for a new customer too, a "no" included:
        # the history then says where the value came from, and importing the file
        # again changes nothing.
        for row, customer in creates:
            for channel, granted in row.consent.items():
                setattr(customer, f"{channel}_opt_in", granted)
        for _row, customer in creates:
            customer.refresh_search_names()  # bulk_create does not call save()
        Customer.objects.bulk_create([customer for _row, customer in creates])
        for row, customer in creates:
            self.created_ids.add(customer.pk)
            for channel, granted in row.consent.items():
                record(customer, channel, granted)

        for row, customer, changed in updates:
            for channel, granted in row.consent.items():
                # As consent_set: record a change, or a first statement of the current value.
                field_name = f"{channel}_opt_in"
                if getattr(customer, field_name) != granted:
                    setattr(customer, field_name, granted)
                    changed.add(field_name)
                    record(customer, channel, granted)
                elif (customer.pk, channel) not in history:
                    record(customer, channel, granted)
                    changed.add("consent")
        tagged = self._add_tags(creates + [(row, customer) for row, customer, _changed in updates])
        changed_customers = []
        fields: set[str] = set()
        for row, customer, changed in updates:
            if customer.pk in tagged:
                changed.add("tags")
            if changed:
                customer.updated_at = now
                changed_customers.append(customer)
                fields |= changed - {"tags", "consent"}
        if fields & {"first_name", "last_name"}:
            fields |= {"search_name", "search_last_name"}
            for customer in changed_customers:
                customer.refresh_search_names()
        if changed_customers and fields:
            Customer.objects.bulk_update(changed_customers, [*sorted(fields), "updated_at"])
            # Audit trail: a version of each customer the file changed (core.audit; new ones are not copied).
            history_record(*changed_customers, by=self.by, reason="import")
        elif changed_customers:
            Customer.objects.filter(pk__in=[c.pk for c in changed_customers]).update(updated_at=now)
        ConsentChange.objects.bulk_create(consents)
        self.result.created += len(creates)
        self.result.updated += len(changed_customers)
        self.result.skipped += len(updates) - len(changed_customers)
        self.result.details["consent_changes"] += len(consents)
        for _row, customer in creates:
            signals.customer_created.send(sender=Customer, customer=customer)

    def _add_tags(self, rows: list[tuple[_Row, Customer]]) -> set[int]:
        """Add the rows' tags; the ids of the customers that got a new one."""
        names = {name for row, _customer in rows for name in row.tags}
        if not names:
            return set()
        Tag.objects.bulk_create([Tag(name=name) for name in names], ignore_conflicts=True)
        tag_ids = dict(Tag.objects.filter(name__in=names).values_list("name", "id"))
        through = Customer.tags.through
        wanted = {(customer.pk, tag_ids[name]) for row, customer in rows for name in row.tags}
        existing = set(
            through.objects.filter(customer_id__in={customer_id for customer_id, _tag in wanted})
            .values_list("customer_id", "tag_id")
        )
        new = wanted - existing
        through.objects.bulk_create([through(customer_id=customer_id, tag_id=tag_id) for customer_id, tag_id in new])
        return {customer_id for customer_id, _tag in new}


def _keys_of(customer: Customer) -> dict[str, str | None]:
    """The customer's keys, normalised as the file's values are."""
    return {
        "external_ref": customer.external_ref or None,
        "email": customer.email.lower() if customer.email else None,
        "phone": customer.phone.as_e164 if customer.phone else None,
    }


def _index(found: dict[str, dict], key: str, value: str, customer: Customer) -> None:
    if key == "phone":
        bucket = found["phone"].setdefault(value, [])
        if all(other.pk != customer.pk for other in bucket):
            bucket.append(customer)
    else:
        found[key][value] = customer


def _batches(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch

