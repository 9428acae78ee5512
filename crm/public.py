"""Helpers shared by the customer-facing pages of every app (surveys, returns, club card, unsubscribe)."""

from django.conf import settings
from django.utils import translation


def page_language(request, preferred: str = "", *, offered: list[str] | None = None) -> str:
    """An explicit ?lang= choice, else the customer's preferred language, else the browser's;
    among the offered languages (default: all of LANGUAGES). Kept on the request, so that an error
    page of the same request (core.error_pages) answers in it too."""
    request.public_language = _choose(request, preferred, offered or [code for code, _name in settings.LANGUAGES])
    return request.public_language


def _choose(request, preferred: str, offered: list[str]) -> str:
    for candidate in (request.GET.get("lang", ""), preferred, translation.get_language_from_request(request)):
        code = (candidate or "").split("-")[0]
        if code in offered:
            return code
    return settings.LANGUAGE_CODE if settings.LANGUAGE_CODE in offered else offered[0]


def language_choices(codes: list[str] | None = None) -> list[tuple[str, str]]:
    """(code, the language's own name) for the page's language switcher."""
    codes = codes or [code for code, _name in settings.LANGUAGES]
    return [(code, translation.get_language_info(code)["name_local"]) for code in codes]
