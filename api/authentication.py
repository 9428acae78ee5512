"""`Authorization: Api-Key <prefix>.<secret>`, and nothing else.

Keys in URLs end up in access logs, proxies and browser histories, so a request that
carries one in its query string is refused outright, even with a valid header."""

import hmac
from dataclasses import dataclass

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from api.keys import api_key_by_prefix
from api.models import ApiKey, Partner
from api.services import api_key_hash, api_key_touch
from api.throttling import authentication_failure_count
from core.audit import api_source, history_source_set

KEYWORD = "Api-Key"
QUERY_PARAMS_REFUSED = ("api_key", "apikey", "api-key", "key", "token", "access_token", "authorization")


@dataclass(frozen=True)
class ApiClient:
    """request.user for API calls: the partner behind the key."""

    partner: Partner
    key: ApiKey
    is_authenticated: bool = True
    is_anonymous: bool = False
    is_staff: bool = False
    is_superuser: bool = False

    def __str__(self):
        return f"{self.partner} ({self.key.prefix})"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Every request without a usable key (none, malformed, wrong, revoked, expired) is counted per
    client address (api.throttling): 401 up to API_AUTH_FAILURE_RATE, then 429 with Retry-After.
    A wrong, revoked or expired key, or one of an inactive partner, gets the same answer."""

    def authenticate(self, request):
        try:
            return self._authenticate(request)
        except exceptions.AuthenticationFailed:
            authentication_failure_count(request)
            raise

    def _authenticate(self, request):
        if any(name in request.query_params for name in QUERY_PARAMS_REFUSED):
            raise exceptions.AuthenticationFailed(_("API keys in the URL are refused; send the Authorization: Api-Key header."))
        header = request.headers.get("Authorization", "")
        keyword, _sep, token = header.strip().partition(" ")
        if not header or keyword.lower() != KEYWORD.lower():
            authentication_failure_count(request)  # no key: the permission check answers 401
            return None
        prefix, dot, secret = token.strip().partition(".")
        if not dot or len(prefix) != ApiKey.PREFIX_LENGTH or not secret:
            raise exceptions.AuthenticationFailed(_("Malformed API key."))
        key = api_key_by_prefix(prefix)
        if key is None or not hmac.compare_digest(key.hashed_key, api_key_hash(secret)):
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
        refusal = key.refusal()
        if refusal:
            # Exactly the unknown key's answer: whoever guesses prefixes learns nothing. The owner sees
            # why in the admin (the key's state) and in the call log (api.middleware).
            request._request.api_key_refused = (key, refusal)
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
        api_key_touch(key=key)
        # The API is an audited entry point (core.audit): the partner is where the call's changes
        # come from, for the rest of the request (core.middleware.AuditScopeMiddleware forgets it).
        history_source_set(api_source(key.partner))
        return ApiClient(partner=key.partner, key=key), key

    def authenticate_header(self, request):
        return KEYWORD
