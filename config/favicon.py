"""/favicon.ico: browsers ask for it on every page, whatever the page links; answer the SVG icon
(static/favicon.svg, which the public and admin pages link) instead of a 404 in every log."""

from functools import lru_cache

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe


@lru_cache(maxsize=1)
def _icon() -> bytes:
    return (settings.BASE_DIR / "static" / "favicon.svg").read_bytes()


@require_safe
@cache_control(max_age=86400, public=True)
def favicon(request):
    return HttpResponse(_icon(), content_type="image/svg+xml")
