"""The member's club card page, reached by the signed link of their membership (club.services.card_link)."""

import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from club import services
from club.exceptions import ClubError
from club.models import Membership, Offer
from club.selectors import member_card, member_coupons, offers_for_member
from core.audit import public_page
from crm.public import language_choices, page_language
from crm.picks import web_link
from crm.selectors import recommendations_for
from core.templatetags.localized import local_number

ACTIVITY_ROWS = 10
CARD_PICKS = 5
# The confirmation form carries a random nonce: a double tap or a reload of the POST returns the first coupon.
NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _rate(group, request):
    return settings.CLUB_CARD_RATE_LIMIT


def _token_key(group, request):
    return request.resolver_match.kwargs.get("token", "")


@ratelimit(key="ip", rate=_rate, block=True)
@ratelimit(key=_token_key, rate=_rate, block=True)
@require_GET
@public_page
def card(request, token: str):
    member = _member_or_404(token)
    language = _language(request, member)
    with translation.override(language):
        if member.status == Membership.Status.LEFT:
            return _page(request, "club/card/left.html", _context(member), language, status=410)
        summary = member_card(member, rows=ACTIVITY_ROWS)
        context = _context(member) | {
            "card": summary,
            "qr": services.member_number_qr_svg(member.member_number, title=_("QR code of your member number")),
            "offers": offers_for_member(member) if member.is_active else [],
            "coupons": [(coupon, services.coupon_code_format(coupon.code))
                        for coupon in member_coupons(member, usable_only=True)[:20]],
            "activity": summary.transactions,
            # Picked for you: the member's stored recommendations, products on sale only (one query).
            "picks": [(pick, web_link(pick.product))
                      for pick in recommendations_for([member.customer_id], limit=CARD_PICKS)],
            "token": token,
        }
        return _page(request, "club/card/card.html", context, language)


@ratelimit(key="ip", rate=_rate, block=True)
@ratelimit(key=_token_key, rate=_rate, block=True)
@require_http_methods(["GET", "POST"])
@public_page
def redeem(request, token: str, offer_id: int):
    """GET asks the member to confirm; POST (with CSRF) spends the points and shows the coupon code."""
    member = _member_or_404(token)
    language = _language(request, member)
    with translation.override(language):
        context = _context(member) | {"token": token}
        if member.status == Membership.Status.LEFT:
            return _page(request, "club/card/left.html", context, language, status=410)
        offer = Offer.objects.select_related("min_tier").filter(pk=offer_id, is_active=True).first()
        if offer is None:
            return _refused(request, context, language, _("This offer is not available."), status=404)
        context["offer"] = offer
        if request.method == "GET":
            refusal = _refusal(member, offer)
            if refusal:
                return _refused(request, context, language, refusal)
            context |= {"nonce": secrets.token_urlsafe(16), "balance_after": member.points_balance - offer.points_cost}
            return _page(request, "club/card/redeem_confirm.html", context, language)
        nonce = request.POST.get("nonce", "")
        key = f"card:{member.pk}:{offer.pk}:{nonce}" if NONCE.match(nonce) else None
        try:
            coupon = services.offer_redeem(member=member, offer=offer, idempotency_key=key)
        except ValidationError as error:
            return _refused(request, context, language, _first_message(error))
        except ClubError as error:
            return _refused(request, context, language, error.message)
        member.refresh_from_db(fields=["points_balance"])
        context |= {"coupon": coupon, "code": services.coupon_code_format(coupon.code)}
        return _page(request, "club/card/redeemed.html", context, language)


def _member_or_404(token: str) -> Membership:
    try:
        return services.member_for_card_link(token)
    except Membership.DoesNotExist:
        raise Http404 from None


def _language(request, member: Membership) -> str:
    return page_language(request, member.customer.language)


def _context(member: Membership) -> dict:
    return {
        "member": member,
        "member_number": services.member_number_format(member.member_number),
        "languages": language_choices(),
    }


def _refusal(member: Membership, offer: Offer) -> str | None:
    """Why the confirmation page cannot offer the redemption; the service checks it all again under a lock."""
    refusal = services.offer_refusal(member=member, offer=offer)
    if refusal:
        return refusal
    if offer.per_member_limit is not None and member.coupons.filter(offer=offer).count() >= offer.per_member_limit:
        return _("You have already redeemed this offer the most times allowed.")
    if offer.total_limit is not None and offer.redeemed_count >= offer.total_limit:
        return _("This offer has run out.")
    if member.points_balance < offer.points_cost:
        return _("This offer costs %(cost)s points; you have %(balance)s.") % {
            "cost": local_number(offer.points_cost), "balance": local_number(member.points_balance),
        }
    return None


def _first_message(error: ValidationError) -> str:
    messages = [message for messages in error.message_dict.values() for message in messages] \
        if hasattr(error, "error_dict") else error.messages
    return messages[0] if messages else _("This offer cannot be redeemed now.")


def _refused(request, context: dict, language: str, message: str, *, status: int = 409):
    return _page(request, "club/card/refused.html", context | {"message": message}, language, status=status)


def _page(request, template: str, context: dict, language: str, *, status: int = 200):
    response = render(request, template, context, status=status)
    response.headers["Content-Language"] = language
    response.headers["Cache-Control"] = "no-store"  # balances and coupon codes: never from a shared cache
    return response
