"""What an API key may do: one scope per kind of access, checked on every endpoint."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

SCOPES = (
    "customers:read",
    "customers:write",
    "interactions:write",
    "orders:write",
    "club:read",
    "club:write",
    "coupons:redeem",
    "feedback:read",
    "returns:write",
    "segments:read",
    "metrics:read",
    "campaigns:read",
)


def scopes_clean(scopes) -> list[str]:
    """A sorted list of known scopes; unknown ones are refused, not dropped."""
    if isinstance(scopes, str):
        scopes = scopes.split(",")
    wanted = {str(scope).strip() for scope in scopes if str(scope).strip()}
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise ValidationError(
            {"scopes": _("Unknown scopes: %(unknown)s. Known scopes: %(known)s.")
             % {"unknown": ", ".join(unknown), "known": ", ".join(SCOPES)}}
        )
    if not wanted:
        raise ValidationError({"scopes": _("Give the key at least one scope.")})
    return sorted(wanted)
