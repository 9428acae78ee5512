"""Template tags for pages outside the club's own admin (the customer page)."""

from django import template

from club.selectors import member_card

register = template.Library()


@register.inclusion_tag("club/_member_card.html", takes_context=True)
def club_member_card(context, customer):
    """The read-only member card of a customer, for staff allowed to view memberships:
    `{% load club_tags %}{% club_member_card original %}`. Renders nothing for non-members."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if customer is None or user is None or not user.has_perm("club.view_membership"):
        return {"card": None}
    return {"card": member_card(customer)}


def render_member_card_panel(request, customer) -> str:
    """The member card as a panel of the admin's customer page (core.panels)."""
    from django.template.loader import render_to_string

    if not request.user.has_perm("club.view_membership"):
        return ""
    card = member_card(customer)
    if card is None:
        return ""
    return render_to_string("club/_member_card.html", {"card": card, "request": request})
