"""The project's admin site: every admin view runs as an audited entry point.

Each view the site serves (its own and every ModelAdmin's, including the extra URLs they add
with `admin_site.admin_view`) records its changes with source "admin" and the signed-in staff
member as the actor (core.audit), without any look at the URL.
"""

from functools import update_wrapper

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.views.i18n import JavaScriptCatalog

from core.audit import ADMIN, history_source


class AuditedAdminSite(admin.AdminSite):
    def admin_view(self, view, cacheable=False):
        def audited_view(request, *args, **kwargs):
            with history_source(ADMIN, by=request.user):
                return view(request, *args, **kwargs)

        return super().admin_view(update_wrapper(audited_view, view), cacheable)

    def i18n_javascript(self, request, extra_context=None):
        """The admin's JavaScript catalog, and after it core's: the strings of the admin's widgets that Django
        ships untranslated in Persian and Arabic ("Choose all %s", the day names of the calendar)."""
        return JavaScriptCatalog.as_view(packages=["django.contrib.admin", "core"])(request)


class AdminConfig(DjangoAdminConfig):
    """django.contrib.admin with the audited site as `admin.site` (named in INSTALLED_APPS)."""

    default_site = "core.admin_site.AuditedAdminSite"
