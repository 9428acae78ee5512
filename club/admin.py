"""The club in the Django admin.

Club managers edit tiers, earning rules and offers (their names, titles and descriptions in every
language: modeltranslation's per-language fields, see club/translation.py), and work each member's card
(points adjustments, tier overrides). The ledger, tier history, coupons and birthday
rewards are read-only here: they change only through `club.services`, which the
admin forms call.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin

from club import services
from club.admin_liability import PointsLiabilityAdmin
from club.models import (
    BirthdayReward,
    Coupon,
    CouponRedemption,
    EarningRule,
    Membership,
    MemberNotice,
    Offer,
    PendingPoints,
    PointsLiability,
    PointsTransaction,
    Referral,
    Tier,
    TierChange,
)
from club.card import card_links
from club.selectors import member_card
from core.admin_utils import LabelledListEditableMixin, TranslatedFieldsDirectionMixin
from core.date_inputs import use_local_date_inputs
from core.bounds import POINTS_MAX, POINTS_MIN
from crm.admin.utils import ReadOnlyAdminMixin
from crm.models import Customer


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Rows written by the services only: visible, never added, changed or deleted by hand."""



class MemberNumberSearchMixin:
    """Search by member number as people type it ("1234 5678 90"), besides the usual fields."""

    member_lookup = "member__member_number"

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        number = services.member_number_normalize(search_term or "")
        if number:
            results = results | queryset.filter(**{self.member_lookup: number})
        return results, may_have_duplicates


@admin.register(Tier)
class TierAdmin(TranslatedFieldsDirectionMixin, TranslationAdmin):
    list_display = ("name", "rank", "threshold", "points_multiplier", "birthday_discount", "exclusive_offers", "counts_as_loyal")
    ordering = ("rank",)

    @admin.display(description=_("birthday discount"))
    def birthday_discount(self, tier):
        if not tier.birthday_discount_value:
            return "-"
        return f"{tier.birthday_discount_value}%" if tier.birthday_discount_kind == "percent" else tier.birthday_discount_value


@admin.register(EarningRule)
class EarningRuleAdmin(LabelledListEditableMixin, TranslatedFieldsDirectionMixin, TranslationAdmin):
    list_display = ("name", "kind", "event_name", "enabled", "starts_at", "ends_at", "points", "points_per_unit", "limit")
    list_filter = ("kind", "enabled", "limit")
    list_editable = ("enabled",)
    search_fields = ("name", "event_name")
    fieldsets = (
        (None, {"fields": ("name", "kind", "event_name", "enabled", ("starts_at", "ends_at"))}),
        (_("Points"), {"fields": ("points", "referee_points")}),
        (_("Purchases"), {"fields": ("points_per_unit", "apply_tier_multiplier", "category_multipliers", "min_order_value")}),
        (_("Limit"), {"fields": ("limit", "limit_count", "limit_period_days")}),
    )


@admin.register(Offer)
class OfferAdmin(TranslatedFieldsDirectionMixin, TranslationAdmin):
    list_display = ("title", "kind", "value", "points_cost", "min_tier", "exclusive", "starts_at", "ends_at", "redeemed", "is_active")
    list_filter = ("kind", "exclusive", "is_active", "min_tier")
    search_fields = ("title",)
    raw_id_fields = ("gift_product",)
    readonly_fields = ("redeemed_count",)

    @admin.display(description=_("redeemed"))
    def redeemed(self, offer):
        return f"{offer.redeemed_count} / {offer.total_limit}" if offer.total_limit else offer.redeemed_count


class MembershipAddForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ("customer",)


class MembershipChangeForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ("status",)


class HasShortfallFilter(admin.SimpleListFilter):
    title = _("reversal shortfall")
    parameter_name = "shortfall"

    def lookups(self, request, model_admin):
        return (("yes", _("Has a shortfall")),)

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(points_shortfall__gt=0)
        return queryset


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("number", "customer", "status", "tier", "points_balance", "pending_points", "points_shortfall", "joined_at")
    list_filter = ("status", "tier", HasShortfallFilter)
    search_fields = ("member_number", "customer__email", "customer__last_name", "customer__first_name")
    list_select_related = ("customer", "tier")
    raw_id_fields = ("customer",)
    change_form_template = "admin/club/membership/change_form.html"
    readonly_fields = ("number", "customer", "tier", "joined_at", "source", "points_balance", "pending_points", "points_shortfall",
                       "tier_frozen_until")

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        number = services.member_number_normalize(search_term or "")
        if number:
            results = results | queryset.filter(member_number=number)
        if search_term.strip():
            # The customer search too: a name typed with either letter form, a phone in any usual form.
            results = results | queryset.filter(customer__in=Customer.objects.search(search_term).values("pk"))
        return results, may_have_duplicates

    @admin.display(description=_("member number"), ordering="member_number")
    def number(self, member):
        return services.member_number_format(member.member_number)

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = MembershipChangeForm if obj else MembershipAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("customer",)
        return ("number", "customer", "status", "tier", "tier_frozen_until", "joined_at", "source")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            services.member_set_status(member=obj, status=form.cleaned_data["status"], by=request.user)
        else:
            enrolled = services.member_enroll(customer=form.cleaned_data["customer"], by=request.user, source="admin")
            obj.pk = enrolled.pk
            obj.refresh_from_db()

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/adjust/", view(self.adjust_points_view), name="club_membership_adjust"),
            path("<int:pk>/tier/", view(self.set_tier_view), name="club_membership_tier"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        member = self.get_object(request, object_id)
        if member is not None:
            extra_context.update(
                card=member_card(member),
                links=card_links(member),
                can_adjust=request.user.has_perm("club.adjust_points"),
                can_override_tier=request.user.has_perm("club.override_tier"),
                adjust_url=reverse("admin:club_membership_adjust", args=[member.pk]),
                tier_url=reverse("admin:club_membership_tier", args=[member.pk]),
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def adjust_points_view(self, request, pk):
        if not request.user.has_perm("club.adjust_points"):
            raise PermissionDenied
        member = get_object_or_404(Membership.objects.select_related("customer", "tier"), pk=pk)
        form = AdjustPointsForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                row = services.points_adjust(
                    member=member, points=form.cleaned_data["points"], reason=form.cleaned_data["reason"], by=request.user
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                self.message_user(request, _("%(points)+d points recorded for %(member)s.") % {
                    "points": row.points, "member": member.member_number}, messages.SUCCESS)
                return redirect("admin:club_membership_change", member.pk)
        return self._form_page(request, member, form, _("Adjust points"))

    def set_tier_view(self, request, pk):
        if not request.user.has_perm("club.override_tier"):
            raise PermissionDenied
        member = get_object_or_404(Membership.objects.select_related("customer", "tier"), pk=pk)
        form = SetTierForm(request.POST or None, initial={"tier": member.tier_id})
        if request.method == "POST" and form.is_valid():
            try:
                services.tier_set(member=member, tier=form.cleaned_data["tier"], by=request.user,
                                  note=form.cleaned_data["note"], frozen_until=form.cleaned_data["frozen_until"])
            except ValidationError as error:
                _add_errors(form, error)
            else:
                self.message_user(request, _("Tier set."), messages.SUCCESS)
                return redirect("admin:club_membership_change", member.pk)
        return self._form_page(request, member, form, _("Set tier"))

    def _form_page(self, request, member, form, title):
        context = {
            **self.admin_site.each_context(request),
            "title": f"{title}: {services.member_number_format(member.member_number)} {member.customer}",
            "form": form, "member": member, "opts": self.model._meta, "card": member_card(member),
            "back_url": reverse("admin:club_membership_change", args=[member.pk]),
        }
        return TemplateResponse(request, "admin/club/membership/action_form.html", context)


def _add_errors(form: forms.Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


class AdjustPointsForm(forms.Form):
    points = forms.IntegerField(label=_("Points"), help_text=_("Positive to add, negative to remove."),
                                min_value=POINTS_MIN, max_value=POINTS_MAX)
    reason = forms.CharField(label=_("Reason"), max_length=255, help_text=_("Required: the member and other staff will see it."))


class SetTierForm(forms.Form):
    tier = forms.ModelChoiceField(queryset=Tier.objects.order_by("rank"), required=False, label=_("Tier"))
    frozen_until = forms.DateField(required=False, label=_("Frozen until"),
                                   help_text=_("Until this date, neither upgrades nor the periodic review change the tier."))
    note = forms.CharField(max_length=255, label=_("Why"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        use_local_date_inputs(self)


@admin.register(PointsTransaction)
class PointsTransactionAdmin(MemberNumberSearchMixin, ReadOnlyAdmin):
    list_display = ("created_at", "member", "signed_points", "kind", "source", "description", "shortfall", "expires_at",
                    "created_by", "audit_source")
    list_filter = ("kind", "source")
    search_fields = ("idempotency_key", "reason", "order__order_number")
    list_select_related = ("member__customer", "created_by")
    date_hierarchy = "created_at"
    raw_id_fields = ("member", "order", "original", "rule")

    def get_queryset(self, request):
        return super().get_queryset(request).with_facts()

    @admin.display(description=_("description"))
    def description(self, row):
        return row.description

    @admin.display(description=_("points"), ordering="points")
    def signed_points(self, row):
        return format_html("<b>{}</b>", f"{row.points:+d}")


@admin.register(Coupon)
class CouponAdmin(MemberNumberSearchMixin, ReadOnlyAdmin):
    list_display = ("formatted_code", "member", "kind", "discount_kind", "value", "issued_at", "expires_at", "redeemed_at")
    list_filter = ("kind", "discount_kind", ("redeemed_at", admin.EmptyFieldListFilter))
    search_fields = ("code",)
    list_select_related = ("member__customer",)
    raw_id_fields = ("member", "offer", "points_transaction")

    def get_search_results(self, request, queryset, search_term):
        # Codes are stored without the dashes and spaces they are printed with.
        code = services.coupon_code_normalize(search_term or "")
        return super().get_search_results(request, queryset, code if len(code) == 12 else search_term)

    @admin.display(description=_("code"), ordering="code")
    def formatted_code(self, coupon):
        return services.coupon_code_format(coupon.code)


@admin.register(CouponRedemption)
class CouponRedemptionAdmin(ReadOnlyAdmin):
    list_display = ("coupon", "order_value", "discount", "reference", "redeemed_at", "audit_source")
    search_fields = ("coupon__code", "reference")


@admin.register(TierChange)
class TierChangeAdmin(MemberNumberSearchMixin, ReadOnlyAdmin):
    list_display = ("changed_at", "member", "from_tier", "to_tier", "reason", "changed_by", "audit_source")
    list_filter = ("reason", "to_tier")
    list_select_related = ("member__customer", "from_tier", "to_tier", "changed_by")
    search_fields = ("note",)


@admin.register(PendingPoints)
class PendingPointsAdmin(MemberNumberSearchMixin, ReadOnlyAdmin):
    list_display = ("member", "points", "order", "available_at", "status")
    list_filter = ("status",)
    search_fields = ("order__order_number",)


@admin.register(BirthdayReward)
class BirthdayRewardAdmin(MemberNumberSearchMixin, ReadOnlyAdmin):
    list_display = ("member", "year", "coupon", "points_transaction", "created_at")
    list_filter = ("year",)
    search_fields = ("coupon__code",)


@admin.register(MemberNotice)
class MemberNoticeAdmin(MemberNumberSearchMixin, ReadOnlyAdmin):
    list_display = ("member", "kind", "key", "created_at")
    list_filter = ("kind",)
    search_fields = ("key",)


class ReferralForm(forms.ModelForm):
    class Meta:
        model = Referral
        fields = ("referrer", "referred")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("referrer") and cleaned.get("referred"):
            services.referral_check(referrer=cleaned["referrer"], referred=cleaned["referred"])
        return cleaned


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    list_display = ("referrer", "referred", "created_at", "rewarded_at")
    raw_id_fields = ("referrer", "referred")
    form = ReferralForm

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        created = services.referral_create(referrer=form.cleaned_data["referrer"], referred=form.cleaned_data["referred"])
        obj.pk = created.pk


admin.site.register(PointsLiability, PointsLiabilityAdmin)
