"""Request middleware of the platform: the audit scope of each request, and the staff member's language.

The admin speaks each staff member's own language (core.models.StaffPreference).

The preference is read once, when the staff member signs in, and kept in their session; the
middleware then activates it for admin requests without a query of its own. Changing it on the
"My language" page updates the session at once; a change made by someone else applies from the
staff member's next sign-in. Customer pages are not affected: they choose the customer's language
(crm.public).
"""

from django.urls import reverse
from django.utils import translation

from core import errors
from core.audit import audit_scope
from core.services import STAFF_LANGUAGE_SESSION_KEY as SESSION_KEY
from core.services import language_is_offered


def remember_staff_language(sender, request, user, **kwargs) -> None:
    """Receiver of user_logged_in: keep the staff member's language in the new session ("" for none)."""
    if request is None or not hasattr(request, "session") or not user.is_staff:
        return
    from core.models import StaffPreference

    language = StaffPreference.objects.filter(user=user).values_list("language", flat=True).first() or ""
    request.session[SESSION_KEY] = language


class StaffLanguageMiddleware:
    """After AuthenticationMiddleware (and LocaleMiddleware): an admin request is answered in the
    staff member's chosen language, whatever the browser asks for."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = None

    def __call__(self, request):
        if self.admin_prefix is None:
            self.admin_prefix = reverse("admin:index")
        if request.path_info.startswith(self.admin_prefix) and hasattr(request, "session"):
            language = request.session.get(SESSION_KEY, "")
            if language and language_is_offered(language) and request.user.is_authenticated and request.user.is_staff:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)


class AuditScopeMiddleware:
    """Each request starts with no audit source or actor (core.audit) and forgets, when it ends, what
    its entry point set (the API's authentication sets them without a block of its own). The entry
    point, not this middleware, says what they are: nothing here looks at the URL."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with audit_scope():
            return self.get_response(request)


class RequestIdMiddleware:
    """First of all: each request gets an id (the caller's X-Request-ID or a new one, core.errors),
    which every log line of the request carries, the response echoes, and a 500 page shows."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = errors.begin_request(request.META.get("HTTP_X_REQUEST_ID"))
        request.request_id = errors.request_id()
        try:
            response = self.get_response(request)
            response[errors.REQUEST_ID_HEADER] = request.request_id
            return response
        finally:
            errors.end_request(token)
