"""The API's JSON parser, with the limits of a body checked before any view runs.

The body's size is checked by Django against DATA_UPLOAD_MAX_MEMORY_SIZE from Content-Length,
before it is read (a larger one is a 413, api.exceptions). Its depth is checked here: Python's
json module recurses once per nested array or object and gives up with RecursionError near a
thousand levels, which would be a 500; no request of this API nests deeper than a few levels, so
anything deeper than API_MAX_JSON_DEPTH is refused as a 400 with a clear message.
"""

import json

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
            data = json.loads(text, parse_constant=_refuse_constant)
        except RecursionError:
            raise ParseError(_too_deep())
        except (ValueError, UnicodeError) as exc:
            raise ParseError(_("JSON parse error - %(reason)s") % {"reason": exc})
        if depth(data) > settings.API_MAX_JSON_DEPTH:
            raise ParseError(_too_deep())
        return data


def depth(data) -> int:
    """How deeply arrays and objects nest in parsed JSON (a scalar is 0), without recursion: level by
    level, stopping at the first level past the limit."""
    limit = settings.API_MAX_JSON_DEPTH
    level, values = 0, [data]
    while values:
        containers = [value for value in values if isinstance(value, (dict, list))]
        if not containers:
            break
        level += 1
        if level > limit:
            break
        values = []
        for container in containers:
            values.extend(container.values() if isinstance(container, dict) else container)
    return level


def _refuse_constant(name: str):
    raise ValueError(_("%(name)s is not a JSON value") % {"name": name})


def _too_deep() -> str:
    return _("The JSON body nests arrays and objects more than %(limit)d levels deep.") % {
        "limit": settings.API_MAX_JSON_DEPTH}
