"""Template tags for the crm's admin pages."""

from django import template

from crm.models import Interaction

register = template.Library()

FOLLOW_UPS_ON_INDEX = 20


@register.simple_tag(takes_context=True)
def my_follow_ups(context, limit: int = FOLLOW_UPS_ON_INDEX):
    """The signed-in staff member's open interactions whose follow-up day has come."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("crm.view_interaction"):
        return None
    return list(
        Interaction.objects.follow_ups_due(staff=user)
        .select_related("customer")
        .order_by("follow_up_on", "occurred_at", "pk")[:limit]
    )
