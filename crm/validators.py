"""Plausible customer values, the same on every road (the API, the admin, the file import).

Model field validators (full_clean runs them for the services and the admin's forms); the file
import calls the same functions for its `line N: reason` messages."""

from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

EARLIEST_BIRTH_DATE = date(1900, 1, 1)

# Explicit directional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) and the
# directional marks (U+200E, U+200F, U+061C): in a name they only serve to make it display as
# something else ("Trojan source"). ZWNJ (U+200C) and ZWJ (U+200D) are kept: Persian spelling needs them.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_BIDI_TABLE = {ord(char): None for char in BIDI_CONTROLS}


def strip_bidi_controls(text: str) -> str:
    return text.translate(_BIDI_TABLE) if text else text


def birth_date_problem(value: date) -> str | None:
    """Why a birth date is not plausible (before 1900 or in the future), or None."""
    if value < EARLIEST_BIRTH_DATE:
        return str(_("A birth date before %(earliest)s is not plausible.") % {"earliest": EARLIEST_BIRTH_DATE.isoformat()})
    if value > timezone.localdate():
        return str(_("A birth date cannot be in the future."))
    return None


def validate_birth_date(value: date) -> None:
    problem = birth_date_problem(value) if value else None
    if problem:
        raise ValidationError(problem, code="implausible_birth_date")


PHONE_EXTENSION_REFUSED = _("Phone extensions are not kept: send the number without its extension.")


def validate_phone_without_extension(value) -> None:
    """A customer's phone is stored as E.164, which has no room for an extension: refuse one rather than drop it."""
    if getattr(value, "extension", None):
        raise ValidationError(PHONE_EXTENSION_REFUSED, code="phone_extension")
