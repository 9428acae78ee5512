"""Cursor pages, and the limits of a page checked before any query runs.

A cursor is ours (base64 of o=, r=, p=), but it travels through a partner's hands: a forged or
truncated one is the caller's fault (400 naming `cursor`), never a 404 or a database error. The
position a cursor carries is checked against the ordering column the way the database would read
it (an integer within 64 bits, an aware date-time within the calendar), so the query never sees a
value it would refuse. A page size outside 1..API_MAX_PAGE_SIZE is a 400 naming `page_size`.
"""

from base64 import b64decode
from binascii import Error as Base64Error
from datetime import timezone as dt_timezone
from urllib import parse

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import Cursor, CursorPagination

BIGINT_MAX = 2**63 - 1


class ApiCursorPagination(CursorPagination):
    """Cursor pages: constant time on any table size, no COUNT(*)."""

    page_size = settings.API_PAGE_SIZE
    max_page_size = settings.API_MAX_PAGE_SIZE
    page_size_query_param = "page_size"
    ordering = "-id"

    def paginate_queryset(self, queryset, request, view=None):
        self._queryset_model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [
                _("Enter a whole number from 1 to %(limit)d.") % {"limit": self.max_page_size}]})
        return size

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                # The bounds get_page_size checks, so clients (and the fuzzer) know them.
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters

    def decode_cursor(self, request):
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            querystring = b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
            tokens = parse.parse_qs(querystring, keep_blank_values=True, strict_parsing=bool(querystring))
            offset = int(tokens.get("o", ["0"])[0])
            reverse = int(tokens.get("r", ["0"])[0])
            position = tokens.get("p", [None])[0]
            if not 0 <= offset <= self.offset_cutoff or reverse not in (0, 1) or set(tokens) - {"o", "r", "p"}:
                raise ValueError
            if position is not None:
                position = self._checked_position(position)
        except (TypeError, ValueError, UnicodeError, Base64Error, DjangoValidationError, OverflowError):
            raise ValidationError({self.cursor_query_param: [
                _("This cursor is not valid. Use the next or previous link of a page as it is.")]})
        return Cursor(offset=offset, reverse=bool(reverse), position=position)

    def _checked_position(self, position: str) -> str:
        """The position as the ordering column holds it; ValueError when the database would refuse it."""
        model = getattr(self, "_queryset_model", None)
        ordering = self.ordering if isinstance(self.ordering, str) else self.ordering[0]
        if model is None:
            return position
        field = model._meta.get_field(ordering.lstrip("-"))
        if isinstance(field, (models.IntegerField, models.AutoField)):
            if not -BIGINT_MAX <= int(position) <= BIGINT_MAX:
                raise ValueError
        elif isinstance(field, models.DateTimeField):
            value = field.to_python(position)
            if value is None or value.tzinfo is None:
                raise ValueError
            value.astimezone(dt_timezone.utc)  # OverflowError near year 1 or 9999
        else:
            field.to_python(position)
        return position
