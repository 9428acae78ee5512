"""The admin speaks each staff member's own language (crm.models.StaffPreference).

The preference is read once, when the staff member signs in, and kept in their session; the
middleware then activates it for admin requests without a query of its own. Changing it on the
"My language" page updates the session at once; a change made by someone else applies from the
staff member's next sign-in. Customer pages are not affected: they choose the customer's language
(crm.public).
"""

from django.conf import settings
from django.urls import reverse
from django.utils import translation

SESSION_KEY = "_staff_language"


def _known(language: str) -> bool:
    return language in {code for code, _name in settings.LANGUAGES}


def remember_staff_language(sender, request, user, **kwargs) -> None:
    """Receiver of user_logged_in: keep the staff member's language in the new session ("" for none)."""
    if request is None or not hasattr(request, "session") or not user.is_staff:
        return
    from crm.models import StaffPreference

    language = StaffPreference.objects.filter(user=user).values_list("language", flat=True).first() or ""
    request.session[SESSION_KEY] = language


def staff_language_set(*, user, language: str, request=None):
    """Save the staff member's admin language ("" for the browser's) and apply it to their session."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    from crm.models import StaffPreference

    if language and not _known(language):
        raise ValidationError({"language": _("Choose one of the offered languages.")})
    preference, _created = StaffPreference.objects.update_or_create(user=user, defaults={"language": language})
    if request is not None and getattr(request, "user", None) == user:
        request.session[SESSION_KEY] = language
    return preference


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
            if language and _known(language) and request.user.is_authenticated and request.user.is_staff:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)
