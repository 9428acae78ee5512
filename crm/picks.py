"""Where a customer's stored picks (Recommendation, computed by crm.recommend) are shown to people: the
"Recommendations" panel of the admin's customer page, and the link of a picked product.

The club card, the {{ recommendations }} placeholder of messages and the API read the same rows through
crm.selectors.recommendations_for (products on sale only), each in one query.
"""

from django.template.loader import render_to_string

from crm.selectors import recommendations_for

PANEL_PICKS = 10


def web_link(product) -> str:
    """The product's page when it is a web address people can open (http or https), else ""."""
    url = (product.url or "").strip()
    return url if url.lower().startswith(("https://", "http://")) else ""


def render_recommendations_panel(request, customer) -> str:
    """The customer's picks, best first: rank, product, why, score, price, when computed (one query).
    Shown to staff who may view customers; empty for a customer without picks."""
    if not request.user.has_perm("crm.view_customer"):
        return ""
    picks = list(recommendations_for([customer.pk], limit=PANEL_PICKS))
    return render_to_string("admin/crm/customer/includes/recommendations.html",
                            {"picks": [(pick, web_link(pick.product)) for pick in picks], "request": request})
