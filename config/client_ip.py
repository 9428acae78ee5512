"""The client's IP address, for login throttling (django-axes) and the public pages' rate limits.

Behind a load balancer every request comes from the balancer's address, so throttling by
REMOTE_ADDR would lock out everybody at once. Each trusted proxy appends the address it received
the request from to X-Forwarded-For, so with N trusted proxies the client is the N-th entry from
the right; anything further left was written by the client and can be forged. TRUSTED_PROXY_COUNT=0
(the default) ignores the header entirely.
"""

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < count:
        return remote  # not through all our proxies (a direct request): the peer is the client
    candidate = forwarded[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
