"""Signed, single-purpose tokens for the public links in messages.

Each purpose has its own salt, so an open-pixel token cannot be replayed as an
unsubscribe token. The tokens carry the message's public id (a random UUID, nothing
personal) and, for clicks, the id of a recorded link: never a URL.
"""

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac
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


SMS_CALLBACK = "campaigns.sms_callback"


def sms_callback_token(provider: str) -> str:
    """The secret in an SMS provider's delivery report URL. Kavenegar signs nothing and sets one URL per
    account in its panel, so the URL itself carries the proof: an HMAC of the provider's name under
    SMS_CALLBACK_SECRET (SECRET_KEY when empty). Changing the secret revokes the old URL."""
    return salted_hmac(SMS_CALLBACK, provider, secret=settings.SMS_CALLBACK_SECRET or None,
                       algorithm="sha256").hexdigest()[:40]


def sms_callback_token_valid(provider: str, token: str) -> bool:
    return constant_time_compare(token or "", sms_callback_token(provider))


def sms_callback_url(provider: str) -> str:
    return absolute(reverse("campaigns:sms_delivery", args=[provider, sms_callback_token(provider)]))
