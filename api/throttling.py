from array import array

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext
from rest_framework import exceptions
from rest_framework.throttling import SimpleRateThrottle

from api.models import ApiKey


class ApiKeyRateThrottle(SimpleRateThrottle):
    """API_RATE_LIMIT requests per key (e.g. "1200/min"), counted in the shared cache."""

    scope = "api_key"

    def get_rate(self):
        return settings.API_RATE_LIMIT

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}

    def throttle_success(self):
        # The key's history (a time per request of the period, newest first: DRF's own algorithm, unchanged) kept as an
        # array of floats, which the cache stores as one block of bytes: a list was pickled float by float on every
        # request, a cost that grows with the rate (issue 17: 0.36 ms a request at 8,400 requests a minute, 0.07 ms
        # so). A list stored by an older process is read as before and stored back as an array.
        if not isinstance(self.history, array):
            self.history = array("d", self.history)
        return super().throttle_success()


class FailedAuthenticationThrottle(SimpleRateThrottle):
    """API_AUTH_FAILURE_RATE requests without a usable key per client address, counted in the shared cache.

    The address is the one the trusted proxies saw (settings.CLIENT_IP_CALLABLE), not a forgeable
    X-Forwarded-For. Only refused requests count and only they are refused here: a valid key is
    never locked out by a neighbour behind the same address (it has its own per-key rate)."""

    scope = "api_auth_failure"

    def get_rate(self):
        return settings.API_AUTH_FAILURE_RATE

    def get_cache_key(self, request, view):
        address = import_string(settings.CLIENT_IP_CALLABLE)(request) or "unknown"
        return self.cache_format % {"scope": self.scope, "ident": address}


def authentication_failure_count(request) -> None:
    """Count one request refused for its key; raise Throttled (429, Retry-After) beyond the rate."""
    throttle = FailedAuthenticationThrottle()
    if not throttle.allow_request(request, None):
        raise exceptions.Throttled(wait=throttle.wait())


class EnrolCodeThrottle(SimpleRateThrottle):
    """API_ENROL_CODE_RATE one-time enrolment codes per key (e.g. "200/hour"), counted in the shared cache:
    every code is a message the shop pays for, and a key must not be able to spend them without bound."""

    scope = "api_enrol_codes"

    def get_rate(self):
        return settings.API_ENROL_CODE_RATE

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


def enrol_code_count(request) -> None:
    """Count one enrolment code the key asks to send; raise Throttled (429, Retry-After) beyond the rate."""
    throttle = EnrolCodeThrottle()
    if not throttle.allow_request(request, None):
        raise exceptions.Throttled(wait=throttle.wait(), code="enrol_code_rate", detail=gettext(
            "This key has asked for as many enrolment codes as it may in this period (API_ENROL_CODE_RATE, %(rate)s): "
            "wait for Retry-After seconds.") % {"rate": settings.API_ENROL_CODE_RATE})
