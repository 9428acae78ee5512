"""Signed, single-purpose tokens for the public links in messages.

Each purpose has its own salt, so an open-pixel token cannot be replayed as an
unsubscribe token. The tokens carry the message's public id (a random UUID, nothing
personal) and, for clicks, the id of a recorded link: never a URL.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

UNSUBSCRIBE, OPEN, CLICK = "campaigns.unsubscribe", "campaigns.open", "campaigns.click"


class BadToken(Exception):
    pass


def _signer(purpose: str) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=purpose)


def make(purpose: str, value: str) -> str:
    return _signer(purpose).sign(value)


def read(purpose: str, token: str, *, max_age_days: int | None = None) -> str:
    if not token or len(token) > 200:
        raise BadToken
    try:
        return _signer(purpose).unsign(token, max_age=max_age_days * 86400 if max_age_days else None)
    except signing.BadSignature:  # includes SignatureExpired
        raise BadToken from None


def absolute(path: str) -> str:
    return settings.CAMPAIGNS_PUBLIC_BASE_URL + path


def unsubscribe_url(message) -> str:
    return absolute(reverse("campaigns:unsubscribe", args=[make(UNSUBSCRIBE, message.public_id.hex)]))


def open_url(message) -> str:
    return absolute(reverse("campaigns:open", args=[make(OPEN, message.public_id.hex)]))


def click_url(message, link_id: int) -> str:
    return absolute(reverse("campaigns:click", args=[make(CLICK, f"{message.public_id.hex}.{link_id}")]))
