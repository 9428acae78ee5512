"""The project's URLs plus the baselines of `bench_api.py`: bare Django views that return the same rows as the
first page of `GET /api/v1/customers/`, `GET /api/v1/orders/` and a member's `ledger/`, with `.values()` and
`JsonResponse` (no serializer, no authentication, no throttling, no call log): the database work a page needs."""

from django.conf import settings
from django.http import JsonResponse
from django.urls import include, path

from club.models import PointsTransaction
from crm.models import Customer, Order, OrderLine

FIELDS = (
    "public_id", "external_ref", "first_name", "last_name", "email", "phone", "birth_date", "gender", "language", "city",
    "country", "source", "acquired_at", "notes", "email_opt_in", "sms_opt_in", "orders_count", "total_spent",
    "first_order_at", "last_order_at", "created_at", "updated_at",
)
ORDER_FIELDS = (
    "id", "public_id", "customer__public_id", "order_number", "placed_at", "status", "channel", "currency", "total",
    "discount", "refunded_amount", "source", "created_at",
)
LINE_FIELDS = ("order_id", "public_id", "sku", "product_name", "category", "quantity", "unit_price")
LEDGER_FIELDS = (
    "public_id", "points", "kind", "source", "reason", "order__public_id", "source_ref", "shortfall", "created_at",
    "expires_at",
)


def bare_customers(request):
    rows = list(Customer.objects.order_by("-id").values(*FIELDS)[: settings.API_PAGE_SIZE])
    for row in rows:
        row["phone"] = str(row["phone"]) if row["phone"] else None
    return JsonResponse({"results": rows})


def bare_orders(request):
    orders = list(Order.objects.order_by("-id").values(*ORDER_FIELDS)[: settings.API_PAGE_SIZE])
    lines = {}
    for line in OrderLine.objects.filter(order_id__in=[order["id"] for order in orders]).order_by("id").values(*LINE_FIELDS):
        lines.setdefault(line.pop("order_id"), []).append(line)
    for order in orders:
        order["lines"] = lines.get(order.pop("id"), [])
    return JsonResponse({"results": orders})


def bare_ledger(request, customer_id):
    rows = PointsTransaction.objects.filter(member__customer__public_id=customer_id).order_by("-created_at", "-id")
    return JsonResponse({"results": list(rows.values(*LEDGER_FIELDS)[: settings.API_PAGE_SIZE])})


urlpatterns = [
    path("bench/bare/customers/", bare_customers, name="bench-bare-customers"),
    path("bench/bare/orders/", bare_orders, name="bench-bare-orders"),
    path("bench/bare/ledger/<uuid:customer_id>/", bare_ledger, name="bench-bare-ledger"),
    path("", include("config.urls")),
]
