"""Member numbers and coupon codes: how they are checked, typed and shown.

Pure functions over strings, below both the selectors and the services, so the read
side (search, the card) and the write side (enrolment, coupons) share one definition.
Making a new number or code is a write and lives with its service.
"""

MEMBER_NUMBER_DIGITS = 10  # nine random digits and a Luhn check digit

# No 0/O, 1/I/L: codes are read aloud at tills. 32 symbols, 12 of them: 60 random bits.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12


def luhn_check_digit(digits: str) -> int:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def member_number_normalize(term: str) -> str | None:
    """The member number in what someone typed ("1234 5678 90", "1234-5678-90"), or None."""
    digits = "".join(char for char in term if char not in " -")
    if len(digits) != MEMBER_NUMBER_DIGITS or not digits.isdigit():
        return None
    if luhn_check_digit(digits[:-1]) != int(digits[-1]):
        return None
    return digits


def member_number_format(number: str) -> str:
    return f"{number[:4]} {number[4:8]} {number[8:]}" if len(number) == MEMBER_NUMBER_DIGITS else number


def coupon_code_normalize(code: str) -> str:
    return "".join(char for char in (code or "").upper() if char not in " -")


def coupon_code_format(code: str) -> str:
    return "-".join(code[index:index + 4] for index in range(0, len(code), 4))
