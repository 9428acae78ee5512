"""What apps add to another app's admin: panels on the customer page, actions on a changelist.

A *panel* is `render(request, customer) -> SafeString` (HTML from a template, or "" to show
nothing); it checks its own permissions. A plain str is shown as text (escaped), never as HTML.

An *admin action* is an ordinary admin action function contributed to the ModelAdmin of a model
the contributing app does not own (campaigns' "add to a static segment" on crm's customers). The
ModelAdmin that accepts contributions mixes in `ContributedActionsMixin`; nobody reaches into
another app's ModelAdmin. Both are declared in the contributing app's contributions module.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.admin.options import IS_POPUP_VAR
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString

from core.registry import Registry

# name -> render(request, customer)
panel_registry: Registry[Callable] = Registry("customer panels")


def customer_panels(request, customer) -> list[SafeString]:
    rendered = (render(request, customer) for render in panel_registry.values())
    return [conditional_escape(html) for html in rendered if html]


@dataclass(frozen=True)
class AdminAction:
    model: str  # the target model's label, lower case: "crm.customer"
    func: Callable  # an admin action: func(modeladmin, request, queryset), with @admin.action's attributes


# action name -> AdminAction; the name is the action's name in the changelist's form.
admin_action_registry: Registry[AdminAction] = Registry("admin actions")


def contributed_actions(model_label: str) -> dict[str, Callable]:
    return {name: action.func for name, action in admin_action_registry.items() if action.model == model_label}


class ContributedActionsMixin:
    """A ModelAdmin that also offers the actions other apps contribute to its model
    (permissions checked as for its own actions)."""

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.actions is None or IS_POPUP_VAR in request.GET:
            return actions
        extra = [self.get_action(func) for func in contributed_actions(self.model._meta.label_lower).values()]
        for func, name, description in self._filter_actions_by_permissions(request, extra):
            actions.setdefault(name, (func, name, description))
        return actions


@dataclass(frozen=True)
class ListColumns:
    """Columns an app adds to the changelist of a model it does not own (analytics' retention and churn on
    campaigns' segment list). `annotations()` returns QuerySet annotations, so the list stays one query
    whatever the number of rows; each column is an admin display function `column(obj)`."""

    model: str  # the target model's label, lower case: "campaigns.segment"
    annotations: Callable[[], dict]
    columns: tuple[Callable, ...]


# name -> ListColumns
list_columns_registry: Registry[ListColumns] = Registry("changelist columns")


def contributed_list_columns(model_label: str) -> list[ListColumns]:
    return [item for item in list_columns_registry.values() if item.model == model_label]


class ContributedListColumnsMixin:
    """A ModelAdmin whose changelist also shows the columns other apps contribute to its model."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        for extension in contributed_list_columns(self.model._meta.label_lower):
            queryset = queryset.annotate(**extension.annotations())
        return queryset

    def get_list_display(self, request):
        extra = [column for extension in contributed_list_columns(self.model._meta.label_lower)
                 for column in extension.columns]
        return (*super().get_list_display(request), *extra)
