"""Panels that other apps add to the admin's customer page (the club's member card, ...).

A panel is `render(request, customer) -> SafeString` (HTML from a template, or "" to show
nothing); it checks its own permissions. A plain str is shown as text (escaped), never as
HTML. Registered in the app's AppConfig.ready(), so crm never imports it.
"""

from collections.abc import Callable

from django.utils.html import conditional_escape
from django.utils.safestring import SafeString

_panels: dict[str, Callable] = {}


def register_customer_panel(name: str, render: Callable) -> None:
    _panels[name] = render


def customer_panels(request, customer) -> list[SafeString]:
    rendered = (render(request, customer) for render in _panels.values())
    return [conditional_escape(html) for html in rendered if html]
