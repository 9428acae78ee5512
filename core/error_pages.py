"""The HTML answer of a public page whose request failed (core.errors decides the class).

- UNAVAILABLE (the database or the broker could not be reached): 503 with Retry-After, "briefly
  unavailable, try again in a minute";
- anything else: 500 showing the request id, which the log line of the error carries too.

A page is rendered without the request, so no context processor runs: this answer must not touch
the database, which may be the very thing that failed. It speaks the language the page had chosen
(crm.public keeps it on the request), else an explicit ?lang=, else LocaleMiddleware's (the browser's).
"""

from django.conf import settings
from django.http import HttpResponse
from django.template import loader
from django.utils import translation
from django.utils.cache import add_never_cache_headers

from core import errors

PAGE_LANGUAGE_ATTRIBUTE = "public_language"  # set by crm.public.page_language


def server_error_page(request, exc: BaseException | None) -> HttpResponse:
    unavailable = errors.classify(exc) == errors.UNAVAILABLE
    template, status = ("503.html", 503) if unavailable else ("500.html", 500)
    request_id = getattr(request, "request_id", "") or errors.request_id()
    with translation.override(_language(request)):
        try:
            body = loader.render_to_string(template, {"request_id": request_id})
        except Exception:  # noqa: BLE001 - the error page itself must never fail; a plain line still helps
            body = f"Error {status}. Reference: {request_id}"
    response = HttpResponse(body, status=status)
    if unavailable:
        response["Retry-After"] = str(errors.retry_after_seconds())
    add_never_cache_headers(response)
    return response


def _language(request) -> str:
    offered = {code for code, _name in settings.LANGUAGES}
    for candidate in (getattr(request, PAGE_LANGUAGE_ATTRIBUTE, ""), request.GET.get("lang", ""), translation.get_language()):
        code = (candidate or "").split("-")[0]
        if code in offered:
            return code
    return settings.LANGUAGE_CODE
