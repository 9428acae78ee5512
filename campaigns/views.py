"""Public endpoints of messages: unsubscribe, the open pixel and click redirects, and the SMS
provider's delivery reports. No login.

Every URL carries a signed token for one purpose; a bad, tampered or expired token is a 404
and says nothing about any customer.
"""

import base64

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from campaigns import sms, tokens
from campaigns.models import Message, TrackedLink
from campaigns.services import delivery, tracking
from core.audit import public_page
from crm.public import language_choices, page_language

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _rate(group, request):
    return settings.CAMPAIGNS_PUBLIC_RATE_LIMIT


def _token_key(group, request):
    return request.resolver_match.kwargs.get("token", "")


def _language(request, message: Message | None) -> str:
    return page_language(request, message.language if message else "")


def _render(request, template: str, context: dict, language: str, status: int = 200):
    with translation.override(language):
        response = render(request, template, context, status=status)
    response.headers["Content-Language"] = language
    response.headers["Cache-Control"] = "no-store"
    return response


# Exempt from CSRF for exactly this view: mailbox providers POST "List-Unsubscribe=One-Click"
# (RFC 8058) with no cookie and no form token; the signed token in the URL is the authority.
@csrf_exempt
@ratelimit(key="ip", rate=_rate, method="GET", block=True)
@ratelimit(key=_token_key, rate=_rate, block=True)
@require_http_methods(["GET", "POST"])
@public_page
def unsubscribe(request, token: str):
    """GET: a confirmation page that changes nothing. POST (one click, or the page's button):
    unsubscribe, answer 200 with no redirect."""
    try:
        message = tracking.message_for_token(tokens.UNSUBSCRIBE, token, max_age_days=settings.CAMPAIGNS_UNSUBSCRIBE_LINK_DAYS)
    except Message.DoesNotExist:
        return _render(request, "campaigns/unsubscribe_invalid.html", {}, _language(request, None), status=404)
    language = _language(request, message)
    context = {"channel": message.get_channel_display(), "channel_code": message.channel,
               "languages": language_choices()}
    if request.method == "POST":
        tracking.message_unsubscribe(message)
        return _render(request, "campaigns/unsubscribe_done.html", context, language)
    return _render(request, "campaigns/unsubscribe.html", context, language)


@never_cache
@require_GET
@public_page
def open_pixel(request, token: str):
    try:
        message = tracking.message_for_token(tokens.OPEN, token)
    except Message.DoesNotExist:
        raise Http404 from None
    tracking.message_mark_opened(message)
    return HttpResponse(PIXEL, content_type="image/gif")


@never_cache
@require_GET
@public_page
def click(request, token: str):
    """Redirect to a link recorded for the message's own campaign; anything else is a 404."""
    try:
        message, link = tracking.link_for_click(token)
    except (Message.DoesNotExist, TrackedLink.DoesNotExist):
        raise Http404 from None
    tracking.message_mark_clicked(message, link)
    return HttpResponseRedirect(link.url)


# Providers whose delivery reports we receive, and how each reads a status code.
SMS_REPORTERS = {"kavenegar": sms.KavenegarBackend}


# No CSRF cookie or form token can come from the provider: the secret in the URL is the authority.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def sms_delivery(request, provider: str, token: str):
    """An SMS operator's delivery report: Kavenegar posts `messageid` and `status` to the URL set in its
    panel (`manage.py sms_callback_url`). A wrong secret is a 403 and writes nothing; a report about a
    message we do not know, or a replay, is a 200 that changes nothing (the provider would retry an error)."""
    reporter = SMS_REPORTERS.get(provider)
    if reporter is None or not tokens.sms_callback_token_valid(provider, token):
        return HttpResponseForbidden("bad delivery report URL", content_type="text/plain")
    data = request.POST if request.method == "POST" else request.GET
    fields = {name: (data.get(name) or "").strip() for name in ("messageid", "status")}
    for name, value in fields.items():
        if not value or len(value) > 40 or not value.isdigit():
            return HttpResponseBadRequest(f"{name}: a number is required", content_type="text/plain")
    delivery.sms_delivery_record(provider=provider, provider_message_id=fields["messageid"],
                                 report=reporter.report(fields["status"], (data.get("statustext") or "")[:200]))
    return HttpResponse("ok", content_type="text/plain")
