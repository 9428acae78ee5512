"""The forms of the campaign pages: the campaign, its variants (templates checked before
saving), and a test send."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.contrib.admin.widgets import AdminSplitDateTime
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationStackedInline

from campaigns import holdout, rendering, services
from campaigns.models import Campaign, CampaignVariant
from core.date_inputs import use_local_date_inputs

CONTENT_PREFIXES = ("subject", "body", "sms_text")


def template_errors(form) -> None:
    for name, value in list(form.cleaned_data.items()):
        if name.startswith(CONTENT_PREFIXES) and isinstance(value, str) and value:
            try:
                rendering.validate_template(value)
            except ValidationError as error:
                form.add_error(name, error)


class HoldoutFieldMixin:
    """The holdout share may be left empty: the default share (10%) then."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "holdout_percent" in self.fields:
            self.fields["holdout_percent"].required = False

    def clean_holdout_percent(self):
        value = self.cleaned_data.get("holdout_percent")
        return holdout.DEFAULT_PERCENT if value is None else value


class CampaignForm(HoldoutFieldMixin, forms.ModelForm):
    class Meta:
        model = Campaign
        fields = "__all__"  # the admin's fieldsets choose; modeltranslation adds the language columns

    def clean(self):
        cleaned = super().clean()
        template_errors(self)
        return cleaned


class VariantForm(forms.ModelForm):
    class Meta:
        model = CampaignVariant
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        template_errors(self)
        return cleaned


class VariantFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        splits = [
            (form.cleaned_data.get("label"), form.cleaned_data.get("split_percent") or 0)
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        services.variants_validate(splits)


class CampaignVariantInline(TranslationStackedInline):
    model = CampaignVariant
    form = VariantForm
    formset = VariantFormSet
    extra = 0
    max_num = 4
    fields = ("label", "split_percent", "subject", "body", "sms_text")

    def _editable(self, obj):
        return obj is None or obj.status == Campaign.Status.DRAFT

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


class TestSendForm(forms.Form):
    to = forms.CharField(label=_("Send to"), max_length=254,
                         help_text=_("A staff email address, or a phone number in international form for an SMS test."))
    customer = forms.CharField(label=_("Personalise as customer"), required=False,
                               help_text=_("Optional: a customer's email or public id; empty uses the first customer who "
                                           "would receive the campaign."))
    variant = forms.ChoiceField(label=_("Variant"), choices=CampaignVariant.Label.choices, initial="A")
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)


class ScheduleForm(forms.Form):
    """When a scheduled campaign starts; empty keeps the campaign's "send at" (or starts at once)."""

    at = forms.SplitDateTimeField(label=_("Send at"), required=False, widget=AdminSplitDateTime)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        use_local_date_inputs(self)
