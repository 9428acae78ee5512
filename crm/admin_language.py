"""The admin's "My language" page: each staff member chooses the language the admin speaks to them.

Listed under Customers for every staff member; it only ever shows and changes the signed-in
member's own preference (crm.middleware applies it).
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from crm.middleware import staff_language_set
from crm.models import StaffPreference


class MyLanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Admin language"), required=False,
                                 help_text=_("The admin will use this language for you on every device."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(code, translation.get_language_info(code)["name_local"]) for code, _name in settings.LANGUAGES]
        self.fields["language"].choices = [("", _("The language of my browser")), *choices]


@admin.register(StaffPreference)
class StaffPreferenceAdmin(admin.ModelAdmin):
    """One page, no list: the signed-in staff member's own language."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and (obj is None or obj.user_id == request.user.pk)

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False  # the page below creates the row

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        """Only the page below: no per-object pages through which to reach someone else's row."""
        from django.urls import path

        info = self.opts.app_label, self.opts.model_name
        return [path("", self.admin_site.admin_view(self.changelist_view), name="%s_%s_changelist" % info)]

    def changelist_view(self, request, extra_context=None):
        if not self.has_module_permission(request):
            raise PermissionDenied
        current = StaffPreference.objects.filter(user=request.user).values_list("language", flat=True).first() or ""
        form = MyLanguageForm(request.POST or None, initial={"language": current})
        if request.method == "POST" and form.is_valid():
            try:
                staff_language_set(user=request.user, language=form.cleaned_data["language"], request=request)
            except ValidationError as error:
                form.add_error("language", error.messages)
            else:
                chosen = form.cleaned_data["language"] or translation.get_language_from_request(request)
                with translation.override(chosen):
                    self.message_user(request, translation.gettext("Your admin language is saved."), messages.SUCCESS)
                return HttpResponseRedirect(request.path)
        return TemplateResponse(request, "admin/crm/staffpreference/my_language.html", {
            **self.admin_site.each_context(request),
            "title": _("My language"),
            "opts": self.opts,
            "form": form,
        }, status=400 if request.method == "POST" else 200)
