"""Domain exceptions of the club.

Invalid input raises django's ValidationError (the API answers 400). A request that was
valid but lost a race or met a state that forbids it raises `Conflict` (the API answers 409):
a coupon already used, points already spent by another till, a limit reached.
"""


class ClubError(Exception):
    code = "club_error"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code

    def __str__(self):
        return self.message


class Conflict(ClubError):
    """The API maps this to 409."""

    code = "conflict"


class InsufficientPoints(Conflict):
    code = "insufficient_points"


class CouponAlreadyRedeemed(Conflict):
    code = "coupon_redeemed"


class LimitReached(Conflict):
    code = "limit_reached"


class NotAMember(ClubError):
    """The customer has no active membership (the API maps this to 404 or 400)."""

    code = "not_a_member"
