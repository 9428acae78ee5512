"""A Content-Security-Policy for the customer-facing pages.

Django 5.2 has no CSP support of its own. The public pages (surveys, returns, unsubscribe,
message links, the club card) use no inline script or style, so a strict policy costs nothing
there (the card's QR code is inline SVG markup, not an image or a script); the admin is left
alone (its widgets use inline scripts and styles).
"""

from django.conf import settings


class PublicContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.prefixes = tuple(settings.PUBLIC_CSP_PATH_PREFIXES)
        self.policy = settings.PUBLIC_CONTENT_SECURITY_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy and request.path_info.startswith(self.prefixes):
            response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
