"""Helpers that keep admin list pages fast on tables with millions of rows.

Any app's admin can use them; nothing here knows about crm's models.
"""

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from core.admin_utils import ReadOnlyAdminMixin

__all__ = ["EstimatedCountPaginator", "FastChangeListMixin", "InputFilter", "ReadOnlyAdminMixin"]  # the last: core.admin_utils


class EstimatedCountPaginator(Paginator):
    """A paginator that never runs a full COUNT(*) over a big PostgreSQL table.

    - Unfiltered list (the query has no WHERE): PostgreSQL's planner estimate
      (`pg_class.reltuples`, kept fresh by autovacuum's ANALYZE). Below
      `exact_below` rows the estimate is worth little and an exact count is cheap, so
      the same single statement counts instead.
    - Filtered or searched list: an exact count that stops at the first
      `count_cap + 1` matching rows ("more than 1,000"), so a filter that matches much
      of a big table does not read all of it.
    - SQLite (development): a plain exact count.

    `count_kind` ("exact", "estimate" or "at_least") tells the templates to say
    "about" or "more than".
    """

    exact_below = 100_000
    count_cap = 1_000

    count_kind = "exact"

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        query = getattr(queryset, "query", None)
        if query is None:  # a list, not a QuerySet
            return super().count
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return queryset.count()
        if self._is_unfiltered(query):
            return self._estimated_table_count(connection, queryset.model._meta.db_table)
        # Any count_cap + 1 rows tell whether there are more: no ORDER BY, so the
        # database may stop at the first rows that match, in whatever order is cheapest.
        capped = queryset.order_by()[: self.count_cap + 1].count()
        if capped > self.count_cap:
            self.count_kind = "at_least"
            return self.count_cap
        return capped

    @staticmethod
    def _is_unfiltered(query) -> bool:
        return not query.where and not query.distinct and not query.combinator and not query.is_sliced

    def _estimated_table_count(self, connection, table: str) -> int:
        quoted = connection.ops.quote_name(table)
        # One statement either way: the uncorrelated sub-select is an InitPlan, which
        # PostgreSQL runs only when the ELSE branch needs it.
        sql = (
            "SELECT CASE WHEN c.reltuples >= %s THEN c.reltuples::bigint "
            f"ELSE (SELECT COUNT(*) FROM {quoted}) END FROM pg_class c WHERE c.oid = %s::regclass"  # nosec B608 - quoted table name; values are parameters
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.exact_below, quoted])
            row = cursor.fetchone()
        count = int(row[0]) if row else 0
        if count >= self.exact_below:
            self.count_kind = "estimate"
        return count


class FastChangeListMixin:
    """For a ModelAdmin over a big table: estimated counts and no second full count."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False


class InputFilter(admin.SimpleListFilter):
    """A list filter that is a small text box instead of a list of every distinct value,
    which would cost a full scan of the table on each page."""

    template = "admin/crm/input_filter.html"

    def lookups(self, request, model_admin):
        # Something non-empty, or the admin hides the filter.
        return ((None, None),)

    def choices(self, changelist):
        # The template reads the current value and the query string without this
        # filter's own parameter, to rebuild the form's hidden fields.
        others = {key: values for key, values in changelist.filter_params.items() if key != self.parameter_name}
        yield {
            "value": self.value() or "",
            "parameter_name": self.parameter_name,
            "other_params": [(key, value) for key, values in others.items() for value in values],
            "clear_url": changelist.get_query_string(remove=[self.parameter_name]),
            "placeholder": getattr(self, "placeholder", ""),
            "label": _("Filter"),
        }
