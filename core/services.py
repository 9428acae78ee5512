"""The platform's writes."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.models import StaffPreference

STAFF_LANGUAGE_SESSION_KEY = "_staff_language"


def language_is_offered(language: str) -> bool:
    return language in {code for code, _name in settings.LANGUAGES}


def staff_language_set(*, user, language: str, request=None) -> StaffPreference:
    """Save the staff member's admin language ("" for the browser's) and apply it to their session."""
    if language and not language_is_offered(language):
        raise ValidationError({"language": _("Choose one of the offered languages.")})
    preference, _created = StaffPreference.objects.update_or_create(user=user, defaults={"language": language})
    if request is not None and getattr(request, "user", None) == user:
        request.session[STAFF_LANGUAGE_SESSION_KEY] = language
    return preference
