"""The customer's return page, reached by the signed link of their order."""

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from core.audit import public_page
from crm.models import Order
from crm.public import language_choices, page_language
from feedback import selectors
from feedback.forms import ReturnForm
from feedback.services import returns as service
from feedback.views import public_page_rate, token_key



def _language(request, order: Order) -> str:
    return page_language(request, order.customer.language)


@ratelimit(key="ip", rate=public_page_rate, block=True)
@ratelimit(key=token_key, rate=public_page_rate, block=True)
@require_http_methods(["GET", "POST"])
@public_page
def request_return(request, token: str):
    try:
        order = service.order_for_return_link(token)
    except Order.DoesNotExist:
        raise Http404 from None
    language = _language(request, order)
    with translation.override(language):
        context = {"order": order, "languages": language_choices(),
                   "closes": selectors.return_window_closes(order)}
        if order.status == Order.Status.CANCELLED or timezone.now() > context["closes"]:
            return render(request, "feedback/return_closed.html", context, status=410)
        form = ReturnForm(request.POST or None, lines=selectors.order_lines_for_return(order))
        if request.method == "POST" and form.is_valid():
            try:
                created = service.return_request_create(
                    order=order, lines=form.line_requests(), resolution=form.cleaned_data["resolution"],
                    note=form.cleaned_data["note"], channel="customer",
                )
            except ValidationError as error:
                _attach(form, error)
            else:
                return HttpResponseRedirect(reverse("returns:done", args=[token]) + f"?lang={language}&r={created.public_id}")
        context["form"] = form
        response = render(request, "feedback/return_request.html", context, status=400 if request.method == "POST" else 200)
    response.headers["Content-Language"] = language
    return response


def _attach(form: ReturnForm, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for key, messages in error.message_dict.items():
        if key.startswith("lines."):
            field = f"qty_{key.split('.', 1)[1]}"
            form.add_error(field if field in form.fields else None, messages)
        else:
            form.add_error(key if key in form.fields else None, messages)


@ratelimit(key="ip", rate=public_page_rate, block=True)
@public_page
def return_done(request, token: str):
    try:
        order = service.order_for_return_link(token)
    except Order.DoesNotExist:
        raise Http404 from None
    request_obj = order.return_requests.filter(public_id=request.GET.get("r", "")).first() if _is_uuid(request.GET.get("r")) else None
    with translation.override(_language(request, order)):
        return render(request, "feedback/return_done.html", {"order": order, "return_request": request_obj})


def _is_uuid(value) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
