"""The one definition of how large a figure may be, used by the columns, the API
serializers, the file importers and the services alike.

A Rial business writes totals of 10^12 and more in major units. Three sizes:
- an amount someone types or sends (an order's total, a line's price, a refund, an offer's
  value) is below 10^15 (AMOUNT_MAX);
- a money column holding one such amount is MONEY (< 10^16), so a difference of two amounts
  (a generated net total) or a discount computed from one always fits;
- a column that adds many amounts up (a customer's total spent, a predicted CLV, a
  campaign's revenue) is MONEY_SUM (< 10^22): a billion orders at the largest amount.
Points are 64-bit integers: any points figure or resulting balance is at most POINTS_MAX.

Validation refuses what is larger before any write, so the database never has to.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 18, "decimal_places": 2}
MONEY_SUM = {"max_digits": 24, "decimal_places": 2}
AMOUNT_MAX = Decimal("999999999999999.99")
POINTS_MAX = 2**63 - 1
POINTS_MIN = -POINTS_MAX  # a signed adjustment mirrors the largest credit

# The model fields' validators of an amount: full_clean() in the services and the admin's
# forms refuse a larger one with code max_value and the limit in params["limit_value"].
AMOUNT_VALIDATORS = [MinValueValidator(0), MaxValueValidator(AMOUNT_MAX)]

# Worded as Django's MaxValueValidator, which full_clean() uses for the same bound.
TOO_LARGE = _("Ensure this value is less than or equal to %(limit_value)s.")


def amount_limit_text() -> str:
    """The limit as every road prints it (Django's validators print str(limit))."""
    return str(AMOUNT_MAX)


def check_amount(value, *, field: str) -> None:
    """A money amount one caller sends: refuse one the columns could not hold (code max_value)."""
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return  # not a number at all is the caller's other check; this one is only about size
    if number.is_finite() and abs(number) > AMOUNT_MAX:
        raise ValidationError(
            {field: ValidationError(TOO_LARGE, code="max_value", params={"limit_value": AMOUNT_MAX, "value": value})}
        )


def check_points(value: int, *, field: str) -> None:
    """A points figure, or the balance it would leave: at most a 64-bit integer (code max_value)."""
    if abs(value) > POINTS_MAX:
        raise ValidationError(
            {field: ValidationError(TOO_LARGE, code="max_value", params={"limit_value": POINTS_MAX, "value": value})}
        )
