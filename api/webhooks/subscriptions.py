"""Subscriptions: which events a partner may subscribe to, URL validation, destination safety,
and the subscribe/unsubscribe services.

URLs must be https:// to a public host. API_WEBHOOK_ALLOW_INSECURE_URLS (default: DEBUG) also
allows http:// and loopback/private addresses, for a receiver on a laptop or in tests.
"""

import ipaddress
import secrets
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.translation import gettext as _

from api.models import Partner, WebhookEvent, WebhookSubscription

SECRET_PREFIX = "whsec_"

# The scope a key needs to subscribe to an event: the one that reads the same data through the API
# (any one of a tuple will do). Managing subscriptions itself needs no scope, only a valid key.
EVENT_SCOPES: dict[str, tuple[str, ...]] = {
    WebhookEvent.CUSTOMER_CREATED: ("customers:read",),
    WebhookEvent.ORDER_CREATED: ("customers:read", "orders:write"),
    WebhookEvent.POINTS_EARNED: ("club:read",),
    WebhookEvent.TIER_CHANGED: ("club:read",),
    WebhookEvent.COUPON_ISSUED: ("club:read",),
    WebhookEvent.COUPON_REDEEMED: ("club:read", "coupons:redeem"),
    WebhookEvent.RETURN_UPDATED: ("returns:write",),
    WebhookEvent.SURVEY_ANSWERED: ("feedback:read",),
}


def setting(name: str, default):
    return getattr(settings, name, default)


def insecure_urls_allowed() -> bool:
    return bool(setting("API_WEBHOOK_ALLOW_INSECURE_URLS", settings.DEBUG))


def events_clean(events) -> list[str]:
    """Known event names, each once, in the documented order; at least one."""
    if isinstance(events, str) or not isinstance(events, Iterable):
        raise ValidationError({"events": _("Give a list of event names.")})
    wanted = {str(event).strip() for event in events}
    unknown = sorted(wanted - set(WebhookEvent.values))
    if unknown:
        raise ValidationError({"events": _("Unknown events: %(unknown)s. Known events: %(known)s.")
                               % {"unknown": ", ".join(unknown), "known": ", ".join(WebhookEvent.values)}})
    if not wanted:
        raise ValidationError({"events": _("Subscribe to at least one event.")})
    return [event for event in WebhookEvent.values if event in wanted]


def events_missing_scope(events: Iterable[str], scopes: Iterable[str]) -> str | None:
    """The scope (or scopes, "a or b") lacking for the first event these scopes may not receive."""
    held = set(scopes)
    for event in events:
        needed = EVENT_SCOPES[event]
        if not held.intersection(needed):
            return " or ".join(needed)
    return None


def url_clean(url: str) -> str:
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationError({"url": _("Enter a valid http(s) URL.")}) from None
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise ValidationError({"url": _("The URL must not contain a user name or password.")})
    if not insecure_urls_allowed():
        if parts.scheme != "https":
            raise ValidationError({"url": _("Webhook URLs must use https://.")})
        if is_private_host(parts.hostname or ""):
            raise ValidationError({"url": _("Webhook URLs must point to a public host.")})
    return url


def is_private_host(host: str) -> bool:
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


@dataclass(frozen=True)
class Destination:
    """Where one attempt goes: the address the host resolved to *and was checked*, so the
    connection cannot be sent elsewhere by a second DNS answer (DNS rebinding)."""

    scheme: str
    host: str  # the URL's host name: the Host header, TLS SNI and the certificate's name
    port: int
    address: str  # the IP address to connect to
    target: str  # path and query, as sent in the request line
    host_header: str


class DestinationRefused(Exception):
    """The URL may not be called now (a private address, or the host does not resolve)."""


def destination_resolve(url: str) -> Destination:
    """Resolve the URL's host once and check every address it resolves to: in production all
    must be public, so a partner cannot make the CRM call into its own network. Raises
    DestinationRefused with the reason."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    checked = not insecure_urls_allowed()
    if checked and is_private_host(host):
        raise DestinationRefused("The URL points to a private address.")
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError as error:
        raise DestinationRefused(f"Cannot resolve {host}: {error}") from None
    addresses = [info[4][0].split("%", 1)[0] for info in infos]
    if not addresses:
        raise DestinationRefused(f"Cannot resolve {host}.")
    if checked and any(is_private_host(address) for address in addresses):
        raise DestinationRefused("The URL's host resolves to a private address.")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default_port = parts.port is None or parts.port == (443 if parts.scheme == "https" else 80)
    host_name = f"[{host}]" if ":" in host else host
    return Destination(scheme=parts.scheme, host=host, port=port, address=addresses[0], target=target,
                       host_header=host_name if default_port else f"{host_name}:{port}")


@transaction.atomic
def webhook_subscribe(*, partner: Partner, url: str, events, own_data_only: bool = False,
                      active: bool = True) -> WebhookSubscription:
    """A new subscription with a new signing secret (`subscription.secret`: show it to the partner once)."""
    url = url_clean(url)
    events = events_clean(events)
    # The partner row is the lock that keeps two concurrent requests from passing the limit together.
    Partner.objects.select_for_update().filter(pk=partner.pk).exists()
    limit = int(setting("API_WEBHOOK_MAX_SUBSCRIPTIONS", 20))
    if WebhookSubscription.objects.filter(partner=partner).count() >= limit:
        raise ValidationError(_("A partner may have at most %(limit)s webhook subscriptions; delete one first.")
                              % {"limit": limit})
    return WebhookSubscription.objects.create(
        partner=partner, url=url, events=events, own_data_only=own_data_only, active=active,
        secret=SECRET_PREFIX + secrets.token_urlsafe(32),
    )


def webhook_unsubscribe(*, subscription: WebhookSubscription) -> None:
    """Delete the subscription and its deliveries (a queued task finds nothing to send)."""
    subscription.delete()
