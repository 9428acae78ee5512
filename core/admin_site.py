"""The project's admin site: every admin view runs as an audited entry point.

Each view the site serves (its own and every ModelAdmin's, including the extra URLs they add
with `admin_site.admin_view`) records its changes with source "admin" and the signed-in staff
member as the actor (core.audit), without any look at the URL. Every admin registered on it shows and
reads dates in the reader's calendar (core.admin_dates).
"""

from functools import update_wrapper

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.views.i18n import JavaScriptCatalog

from core.admin_dates import with_local_dates
from core.audit import ADMIN, history_source


class AuditedAdminSite(admin.AdminSite):
    # The product's name, a brand that stays as it is in every language (Django's default says "Django administration").
    site_header = site_title = "Club CRM"

    def register(self, model_or_iterable, admin_class=None, **options):
        """Every model admin on the site, ours and the installed apps' alike, writes and reads dates in the
        reader's calendar (core.admin_dates): one calendar on every admin page."""
        super().register(model_or_iterable, with_local_dates(admin_class or admin.ModelAdmin), **options)

    def admin_view(self, view, cacheable=False):
        def audited_view(request, *args, **kwargs):
            with history_source(ADMIN, by=request.user):
                return view(request, *args, **kwargs)

        return super().admin_view(update_wrapper(audited_view, view), cacheable)

    def i18n_javascript(self, request, extra_context=None):
        """The admin's JavaScript catalog, and after it the project's (locale/*/djangojs.po): the strings of the
        admin's widgets that Django ships untranslated in Persian and Arabic ("Choose all %s", the day names)."""
        return AdminJavaScriptCatalog.as_view(packages=["django.contrib.admin"])(request)


class AdminJavaScriptCatalog(JavaScriptCatalog):
    def get_paths(self, packages):
        return [*super().get_paths(packages), *map(str, settings.LOCALE_PATHS)]


class AdminConfig(DjangoAdminConfig):
    """django.contrib.admin with the audited site as `admin.site` (named in INSTALLED_APPS)."""

    default_site = "core.admin_site.AuditedAdminSite"
