"""Scopes: each view maps HTTP methods to the scope they need (`required_scopes`)."""

from django.utils.translation import gettext as _
from rest_framework import exceptions, permissions

from api.models import ApiKey


class MissingScope(exceptions.PermissionDenied):
    default_code = "missing_scope"

    def __init__(self, scope: str):
        super().__init__(_("This API key lacks the %(scope)s scope.") % {"scope": scope})
        self.scope = scope


class HasScopes(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return False  # DRF answers 401 (not authenticated)
        method = "GET" if request.method == "HEAD" else request.method
        if method == "OPTIONS":
            return True
        required = getattr(view, "required_scopes", {}) or {}
        if method not in required:
            # An unmapped method is refused unless the view does not implement it (then 405 follows).
            if hasattr(view, request.method.lower()):
                raise exceptions.PermissionDenied(_("No API scope allows this method here."))
            return True
        # A tuple means any one of these scopes will do.
        wanted = required[method]
        wanted = (wanted,) if isinstance(wanted, str) else tuple(wanted)
        if wanted and not any(key.has_scope(scope) for scope in wanted):
            raise MissingScope(" or ".join(wanted))
        return True
