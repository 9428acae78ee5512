"""What both CSV imports share: reading the file, the header, the result, the error path
and the parsers for the cell values.

Every message a user sees is `line N: reason`, N counting the file's physical lines with
the header as line 1, so the user can open the file at that line.
"""

import codecs
import csv
import functools
import os
import re
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Union

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core import db_errors
from crm.services.order_input import clean_money, clean_placed_at, clean_quantity, clean_text

Progress = Callable[[int], None]
Source = Union[str, os.PathLike, IO[bytes], IO[str], Iterable[bytes], Iterable[str]]

_BOM = codecs.BOM_UTF8


class ImportFailed(ValidationError):
    """The file was not imported because some rows are bad; nothing was written.

    `errors` holds one `line N: reason` message per bad row, sorted by line."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__(self.errors, code="import_failed")

    @classmethod
    def refused_by_database(cls, exc: Exception) -> "ImportFailed":
        """A value every row check let through but the database refused (a DataError): the
        file's fault and the same on every run, so it is reported like a bad row, never as a
        crash or as "try again"; the log keeps the error so that the missing check gets added."""
        return cls([_("the database refused a value of this file (%(reason)s); nothing was imported")
                    % {"reason": db_errors.refused_value(exc)}])


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    # Figures only one kind of import has: order lines and products for orders,
    # consent changes for customers.
    details: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        text = ngettext(
            "%(rows)s row: %(created)s created, %(updated)s updated, %(skipped)s skipped",
            "%(rows)s rows: %(created)s created, %(updated)s updated, %(skipped)s skipped",
            self.rows,
        ) % {"rows": self.rows, "created": self.created, "updated": self.updated, "skipped": self.skipped}
        extra = ", ".join(f"{value} {_DETAILS.get(name, name)}" for name, value in self.details.items())
        return f"{text} ({extra})." if extra else f"{text}."


_DETAILS = {
    "products_created": gettext_lazy("products created"),
    "lines_created": gettext_lazy("order lines created"),
    "consent_changes": gettext_lazy("consent changes recorded"),
}


class ErrorList:
    """Reasons collected per line; a line with several reasons gets one message."""

    def __init__(self):
        self._by_line: dict[int, list[str]] = {}

    def add(self, line: int, reason: str) -> None:
        self._by_line.setdefault(line, []).append(reason)

    def __bool__(self) -> bool:
        return bool(self._by_line)

    def messages(self) -> list[str]:
        return [
            _("line %(line)s: %(reason)s") % {"line": line, "reason": "; ".join(reasons)}
            for line, reasons in sorted(self._by_line.items())
        ]

    def raise_if_any(self) -> None:
        if self._by_line:
            raise ImportFailed(self.messages())


def _csv_error(exc: csv.Error) -> str:
    """The csv module's error in words a person importing a file can act on."""
    if "field larger than field limit" in str(exc):
        return _("a cell is longer than %(limit)s characters") % {"limit": csv.field_size_limit()}
    return _("this is not valid CSV (%(error)s)") % {"error": exc}


class CsvRows:
    """Stream the records of a CSV file as (line, cells), the header excluded.

    Accepts a path, a binary or text file object (an upload, `open(path, "rb")`,
    `io.StringIO`) or any iterable of lines. The bytes must be UTF-8, with or without
    a BOM; a line that is not is reported and its record skipped. `progress` is called
    with the number of bytes read since its previous call, every `progress_every` records.
    """

    def __init__(self, source: Source, errors: ErrorList, *, progress: Progress | None = None,
                 progress_every: int = 5000):
        self._source = source
        self._errors = errors
        self._progress = progress
        self._progress_every = progress_every
        self._read = 0  # bytes read, when the source cannot tell its position
        self._reported = 0
        self._position: Callable[[], int] = lambda: self._read
        self._bad_encoding_line = 0
        self._handle = None
        self.header: list[str] | None = None

    def __enter__(self):
        source = self._source
        if isinstance(source, (str, os.PathLike)):
            source = self._handle = open(source, "rb")  # noqa: SIM115 - closed in __exit__
        self._reader = csv.reader(self._lines(source), strict=True)
        try:
            self.header = next(self._reader)
        except StopIteration:
            self.header = None
        except csv.Error as exc:
            self._errors.add(1, _("the header is not valid CSV (%(error)s)") % {"error": _csv_error(exc)})
            self.header = None
        if self._bad_encoding_line:
            self._errors.add(1, _("the text is not UTF-8"))
            self._bad_encoding_line = 0
            self.header = None
        return self

    def __exit__(self, *exc_info):
        self._report_progress()
        if self._handle is not None:
            self._handle.close()

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        reader, errors, every = self._reader, self._errors, self._progress_every
        report = self._progress is not None
        last = reader.line_num
        count = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                # The csv module cannot resynchronise after a broken quote or an over-long cell;
                # everything after it would be guesswork, so report it and stop reading.
                errors.add(last + 1, _csv_error(exc))
                return
            line = last + 1
            last = reader.line_num
            if self._bad_encoding_line:
                errors.add(self._bad_encoding_line, _("the text is not UTF-8"))
                self._bad_encoding_line = 0
                continue
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # a blank line
            if any("\x00" in cell for cell in cells):
                # No stored text can hold it (PostgreSQL refuses it, and COPY would break on it).
                errors.add(line, _("a cell holds a NUL character"))
                continue
            count += 1
            if report and count % every == 0:
                self._report_progress()
            yield line, cells

    def _report_progress(self) -> None:
        if self._progress is None:
            return
        position = self._position()
        if position > self._reported:
            self._progress(position - self._reported)
            self._reported = position

    # Lines of text, physical line numbers counted from 1 --------------------------------

    def _lines(self, source) -> Iterator[str]:
        lines = iter(source)
        first = next(lines, None)
        if first is None:
            return iter(())
        if isinstance(first, str):
            return self._counted_text(first, lines)
        tell = getattr(source, "tell", None)
        if tell is not None:
            try:
                tell()
            except (OSError, ValueError):
                tell = None
        if tell is None:
            return self._decoded(first, self._counted_bytes(lines))
        self._position = tell
        return self._decoded(first, lines)

    def _decoded(self, first: bytes, rest: Iterator[bytes]) -> Iterator[str]:
        number = 1
        try:
            yield first.removeprefix(_BOM).decode("utf-8")
        except UnicodeDecodeError:
            self._bad_encoding_line = number
            yield first.removeprefix(_BOM).decode("utf-8", "replace")
        for raw in rest:
            number += 1
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                self._bad_encoding_line = self._bad_encoding_line or number
                yield raw.decode("utf-8", "replace")

    def _counted_bytes(self, lines: Iterator[bytes]) -> Iterator[bytes]:
        for raw in lines:
            self._read += len(raw)
            yield raw

    def _counted_text(self, first: str, rest: Iterator[str]) -> Iterator[str]:
        self._read += len(first)
        yield first.removeprefix("\ufeff")
        for line in rest:
            self._read += len(line)
            yield line


def read_header(header: list[str] | None, errors: ErrorList, *, allowed: Iterable[str],
                required: Iterable[str] = ()) -> dict[str, int]:
    """Column name -> index. Names are compared without surrounding spaces and case."""
    if header is None:
        if not errors:
            errors.add(1, _("the file is empty; the first line must name the columns"))
        return {}
    allowed = tuple(allowed)
    columns: dict[str, int] = {}
    for index, raw_name in enumerate(header):
        name = raw_name.strip().lower()
        if name not in allowed:
            errors.add(1, _('unknown column "%(name)s"') % {"name": raw_name.strip()})
        elif name in columns:
            errors.add(1, _('column "%(name)s" appears twice') % {"name": name})
        else:
            columns[name] = index
    for name in required:
        if name not in columns:
            errors.add(1, _('missing column "%(name)s"') % {"name": name})
    return columns


def wrong_width(cells: list[str], width: int) -> str | None:
    if len(cells) == width:
        return None
    return _("expected %(expected)s values, found %(found)s") % {"expected": width, "found": len(cells)}


# Cell parsers. Each returns the value or raises ValueError with the reason.

def local_timezone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def parse_datetime(text: str, column: str, tz: zoneinfo.ZoneInfo) -> datetime:
    """An ISO 8601 date or datetime; a date or a time without offset is in TIME_ZONE."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            _('%(column)s "%(value)s" is not an ISO 8601 date or datetime') % {"column": column, "value": text}
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return clean_placed_at(value, column)


def parse_date(text: str, column: str) -> date:
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            _('%(column)s "%(value)s" is not an ISO 8601 date (YYYY-MM-DD)') % {"column": column, "value": text}
        ) from None
    if value.year < 1900:
        raise ValueError(_('%(column)s "%(value)s" is out of range') % {"column": column, "value": text})
    return value


# The usual way an amount is written; anything else goes the slow way through Decimal.
# 15 integer digits at most: below core.bounds.AMOUNT_MAX by construction.
PLAIN_MONEY = re.compile(r"\d{1,15}(?:\.\d{1,2})?")


def parse_money(text: str, column: str) -> str:
    """A non-negative amount with at most 2 decimal places, returned as canonical text
    (crm.services.order_input.clean_money, the check every road shares)."""
    if PLAIN_MONEY.fullmatch(text):
        return text
    return f"{clean_money(text, column):f}"


def parse_quantity(text: str, column: str) -> int:
    return clean_quantity(text, column)


_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}


def parse_bool(text: str, column: str) -> bool:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(
        _('%(column)s "%(value)s" is not one of 1, 0, true, false, yes, no') % {"column": column, "value": text}
    )


def check_length(text: str, column: str, limit: int) -> str:
    return clean_text(text, column, limit)


def parse_phone(text: str, column: str) -> str:
    """A phone number in E.164; numbers without a country code are read in PHONENUMBER_DEFAULT_REGION."""
    e164 = _phone_e164(text, settings.PHONENUMBER_DEFAULT_REGION, strict=True)
    if e164 is None:
        raise ValueError(_('%(column)s "%(value)s" is not a valid phone number') % {"column": column, "value": text})
    if _has_extension(text, settings.PHONENUMBER_DEFAULT_REGION):  # E.164 has no room for it: refuse, never drop
        raise ValueError(_('%(column)s "%(value)s" has an extension, which is not kept; give the number without it')
                         % {"column": column, "value": text})
    return e164


@functools.lru_cache(maxsize=4096)
def _has_extension(text: str, region: str | None) -> bool:
    try:
        return bool(phonenumbers.parse(text, region).extension)
    except phonenumbers.NumberParseException:
        return False


_PHONE_CHARS = frozenset("+0123456789 -().")


def ref_as_phone(text: str) -> str | None:
    """The E.164 form of a reference that looks like a phone number, else None."""
    if not _PHONE_CHARS.issuperset(text) or sum(ch.isdigit() for ch in text) < 6:
        return None
    return _phone_e164(text, settings.PHONENUMBER_DEFAULT_REGION, strict=False)


@functools.lru_cache(maxsize=65536)
def _phone_e164(text: str, region: str | None, *, strict: bool) -> str | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    valid = phonenumbers.is_valid_number(number) if strict else phonenumbers.is_possible_number(number)
    if not valid:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
