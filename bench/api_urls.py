"""The project's URLs plus the baseline of `bench_api.py`: a bare Django view that returns the
same 50 customers as the first page of `GET /api/v1/customers/`, with `.values()` and
`JsonResponse` (no serializer, no authentication, no throttling, no call log)."""

from django.conf import settings
from django.http import JsonResponse
from django.urls import include, path

from crm.models import Customer

FIELDS = (
    "public_id", "external_ref", "first_name", "last_name", "email", "phone", "birth_date", "gender", "language", "city",
    "country", "source", "acquired_at", "notes", "email_opt_in", "sms_opt_in", "orders_count", "total_spent",
    "first_order_at", "last_order_at", "created_at", "updated_at",
)


def bare_customers(request):
    rows = list(Customer.objects.order_by("-id").values(*FIELDS)[: settings.API_PAGE_SIZE])
    for row in rows:
        row["phone"] = str(row["phone"]) if row["phone"] else None
    return JsonResponse({"results": rows})


urlpatterns = [
    path("bench/bare/customers/", bare_customers, name="bench-bare-customers"),
    path("", include("config.urls")),
]
