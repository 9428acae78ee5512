"""Admin building blocks every app uses."""


class ReadOnlyAdminMixin:
    """A history or log in the admin: viewable by those allowed, never added, changed or deleted there."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
