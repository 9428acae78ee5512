"""System checks for the campaign settings (`manage.py check`, `check --deploy`)."""

from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string


@checks.register(checks.Tags.security, deploy=True)
def public_base_url_is_https(app_configs=None, **kwargs):
    if settings.CAMPAIGNS_PUBLIC_BASE_URL.startswith("https://"):
        return []
    return [checks.Warning(
        "PUBLIC_BASE_URL is not an https:// URL: unsubscribe and tracking links in messages would be plain http, "
        "and mailbox providers ignore a List-Unsubscribe link that is not https.",
        id="campaigns.W001",
    )]


@checks.register()
def sms_backend_is_importable(app_configs=None, **kwargs):
    try:
        import_string(settings.SMS_BACKEND)
    except ImportError as error:
        return [checks.Error(f"SMS_BACKEND={settings.SMS_BACKEND!r} cannot be imported: {error}", id="campaigns.E001")]
    return []
