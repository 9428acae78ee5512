"""The member's club card page: a signed link per member, and the QR code of their number for the till."""

from datetime import timedelta

import segno
from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from club.models import Membership
from core.links import CustomerLink, public_url
from core.templatetags.localized import local_date

CARD_LINK_SALT = "club.card"


def card_link(member: Membership) -> str:
    """The path of the member's card page: signed, valid for CLUB_CARD_LINK_DAYS."""
    token = signing.dumps({"m": member.pk}, salt=CARD_LINK_SALT, compress=True)
    return reverse("club_card:card", args=[token])


def member_for_card_link(token: str) -> Membership:
    """The member of a card link; Membership.DoesNotExist for a bad, forged or expired link."""
    try:
        data = signing.loads(token, salt=CARD_LINK_SALT, max_age=timedelta(days=settings.CLUB_CARD_LINK_DAYS))
    except signing.BadSignature:  # includes SignatureExpired
        raise Membership.DoesNotExist from None
    if not isinstance(data, dict) or not isinstance(data.get("m"), int):
        raise Membership.DoesNotExist
    return Membership.objects.select_related("customer", "tier").get(pk=data["m"])


def member_number_qr_svg(member_number: str, *, title: str) -> SafeString:
    """An inline SVG QR code of the member number (no script, no external image: the public CSP allows neither)."""
    svg = segno.make(member_number, error="m").svg_inline(
        scale=6, border=4, dark="#000", light="#fff", title=title, svgclass="qr", lineclass=None, omitsize=True,
    )
    # segno escapes the title and writes only fixed markup and path data around it, so the result is safe to inline.
    return mark_safe(svg.replace("<svg ", '<svg role="img" focusable="false" ', 1))  # nosec B308 B703


def card_links(member: Membership) -> list[CustomerLink]:
    """The card link as the staff's pages show it, with a copy button (core.links)."""
    if member.status != Membership.Status.ACTIVE:
        return []
    valid_until = timezone.now() + timedelta(days=settings.CLUB_CARD_LINK_DAYS)
    return [CustomerLink(key="card", label=_("Club card link"), url=public_url(card_link(member)),
                         help=_("Points, tier, offers and coupons; this link works until %(date)s.") % {
                             "date": local_date(valid_until)})]


def customer_card_links(customer) -> list[CustomerLink]:
    member = Membership.objects.filter(customer=customer).first()
    return card_links(member) if member else []
