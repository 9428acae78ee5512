"""django-anymail's webhook URLs (/anymail/<provider>/tracking/, checked by anymail with the provider's
signature or basic auth), each answering 404 while its provider is not configured: anymail raises
ImproperlyConfigured (a 500) when, say, Mailgun's signing key is missing, and anyone can post there."""

import functools

from anymail.urls import urlpatterns as anymail_urlpatterns
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404
from django.urls.resolvers import URLPattern

app_name = "anymail"


def _not_configured_is_404(view):
    @functools.wraps(view)  # keeps csrf_exempt: providers post without a CSRF token
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except ImproperlyConfigured:
            raise Http404("This email provider is not configured.") from None

    return wrapper


urlpatterns = [URLPattern(pattern.pattern, _not_configured_is_404(pattern.callback), pattern.default_args, pattern.name)
               for pattern in anymail_urlpatterns]
