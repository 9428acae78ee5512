"""Forms of the crm admin's own pages: logging an interaction from the customer page,
refunding orders. They validate input; the services in crm.services do the writes."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from core.date_inputs import use_local_date_inputs
from core.direction import ltr_text
from core.templatetags.localized import local_date
from crm.models import Interaction, Order

RECENT_ORDERS_TO_LINK = 20


class OrderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, order):
        return _("%(number)s, %(date)s, %(total)s %(currency)s") % {
            # An option holds no markup: the number and the amount are left-to-right islands in Unicode.
            "number": ltr_text(order.order_number),
            "date": local_date(order.placed_at),
            "total": ltr_text(formats.number_format(order.total, 2)),
            "currency": order.currency,
        }


class InteractionLogForm(forms.Form):
    """One form for support to log a call, an email, a chat or a visit."""

    channel = forms.ChoiceField(label=_("Channel"), choices=Interaction.Channel.choices, initial=Interaction.Channel.PHONE)
    direction = forms.ChoiceField(
        label=_("Direction"), choices=Interaction.Direction.choices, initial=Interaction.Direction.INBOUND
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 4, "cols": 40}))
    status = forms.ChoiceField(label=_("Status"), choices=Interaction.Status.choices, initial=Interaction.Status.RESOLVED)
    follow_up_on = forms.DateField(
        label=_("Follow up on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("You will see it on the admin home page from that day on, until it is resolved."),
    )
    order = OrderChoiceField(
        label=_("Related order"), queryset=Order.objects.none(), required=False, empty_label=_("(none)"),
        help_text=_("One of the customer's recent orders."),
    )

    def __init__(self, *args, customer, **kwargs):
        kwargs.setdefault("prefix", "interaction")
        super().__init__(*args, **kwargs)
        self.customer = customer
        recent = customer.orders.order_by("-placed_at", "-id").values("pk")[:RECENT_ORDERS_TO_LINK]
        self.fields["order"].queryset = Order.objects.filter(pk__in=recent).order_by("-placed_at", "-id")
        use_local_date_inputs(self)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("follow_up_on") and cleaned.get("status") == Interaction.Status.RESOLVED:
            self.add_error(
                "status", _("An interaction with a follow-up date must stay open or waiting until it is followed up.")
            )
        return cleaned

    def add_service_error(self, error: ValidationError) -> None:
        """Show a service's ValidationError on the form instead of failing the request."""
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        else:
            self.add_error(None, error.messages)


class OrderRefundForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount to refund"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=14,
        decimal_places=2,
        help_text=_("Leave empty to refund what remains of each selected order."),
    )
