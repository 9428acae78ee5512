"""The OpenAPI schema: how API keys are sent, the Idempotency-Key header and the error format.

The schema must match what the API really answers (a schemathesis run in the suite checks it),
so the shared parts are added here for every operation rather than view by view:
- every operation documents the problem-details errors it can answer (400, 401, 403, 404, 429;
  writes also 409, 415 and, with an Idempotency-Key, 422);
- strict request bodies (`StrictSerializer`, which refuse unknown fields) say
  `additionalProperties: false`;
- decimal strings get a pattern the server really accepts (at least one digit, no sign when
  the field has a minimum of 0);
- a list that may not be empty (`allow_empty=False`) says `minItems: 1`.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from api.exceptions import PROBLEM_CONTENT_TYPE

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
IDEMPOTENT_METHODS = ("POST", "PATCH")

ERRORS = {
    "400": "Invalid input: `errors` gives each field's messages",
    "401": "Missing, invalid, revoked or expired key",
    "403": "The key lacks the scope this operation needs (named in `scope`)",
    "404": "Not found (or not visible to this key)",
    "429": "Rate limit of the key reached; see Retry-After",
}
WRITE_ERRORS = {
    "409": "Conflict with the current state (or the same Idempotency-Key still running)",
    "415": "The body is not JSON (send `Content-Type: application/json`)",
}
IDEMPOTENCY_ERRORS = {"422": "Idempotency-Key reused with another body"}


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <prefix>.<secret>`, as printed once by `create_partner` or the admin.",
        }


class ApiAutoSchema(AutoSchema):
    """Adds what every operation shares: the Idempotency-Key header on writes and the
    problem-details error responses, so the schema matches what the API really answers."""

    def _is_api(self) -> bool:
        return self.path.startswith("/api/v1/")

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.method in IDEMPOTENT_METHODS and self._is_api():
            parameters.append(OpenApiParameter(
                "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
                description="Retry-safe writes: the same key and body replay the first response (kept 24 h); "
                            "another body gets 422; a retry while the first runs gets 409. At most 255 characters.",
            ))
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if not self._is_api():
            return responses
        from api.serializers import ProblemSerializer

        problem = {"content": {PROBLEM_CONTENT_TYPE: {"schema": self.resolve_serializer(ProblemSerializer, direction).ref}}}
        codes = dict(ERRORS)
        if self.method in WRITE_METHODS:
            codes.update(WRITE_ERRORS)
        if self.method in IDEMPOTENT_METHODS:
            codes.update(IDEMPOTENCY_ERRORS)
        for code, description in codes.items():
            responses.setdefault(code, {"description": description, **problem})
        for code, response in responses.items():
            # Every error is answered as problem details, even where a view documents its own error body.
            content = response.get("content") if str(code).isdigit() and int(code) >= 400 else None
            if content and "application/json" in content and PROBLEM_CONTENT_TYPE not in content:
                content[PROBLEM_CONTENT_TYPE] = content.pop("application/json")
        return responses

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        from api.serializers import StrictSerializer

        if direction == "request" and isinstance(serializer, StrictSerializer):
            schema["additionalProperties"] = False  # unknown fields are refused with a 400
        return schema

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.DecimalField) and schema.get("type") == "string" and field.max_whole_digits:
            # drf-spectacular's pattern accepts "", "-" and ".", which the field refuses.
            sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
            schema["pattern"] = rf"^{sign}\d{{1,{field.max_whole_digits}}}(?:\.\d{{1,{field.decimal_places}}})?$"
        if getattr(field, "allow_empty", True) is False and schema.get("type") == "array":
            schema.setdefault("minItems", 1)  # an empty list is refused with a 400
        return schema


# --- OpenAPI links ------------------------------------------------------------------------------
# What a client does next with what an operation answered: the customer a create returns is the
# `{id}` of its retrieve, update, consents, interactions and timeline. Clients (and the stateful
# schemathesis run in the suite) follow them to build real sequences instead of guessing ids.
# Same-resource links are derived from the paths (a create on `/x/` feeds every `/x/{param}/...`);
# links across resources are declared here: (source, target, parameters, requestBody).
CROSS_RESOURCE_LINKS = [
    ("club_enroll_create", "club_members_retrieve", {"customer_id": "$response.body#/id"}, None),
    ("club_enroll_create", "club_members_ledger_list", {"customer_id": "$response.body#/id"}, None),
    ("club_enroll_create", "club_members_coupons_list", {"customer_id": "$response.body#/id"}, None),
    ("club_enroll_create", "club_members_offers_list", {"customer_id": "$response.body#/id"}, None),
    ("club_enroll_create", "club_members_redeem_create", {"customer_id": "$response.body#/id"}, None),
    ("club_enroll_create", "club_events_create", {}, {"customer": "$response.body#/id"}),
    ("customers_create", "club_enroll_create", {}, {"customer": "$response.body#/id"}),
    ("customers_create", "orders_create", {}, {"customer": "$response.body#/id"}),
    ("customers_create", "surveys_invitations_create", {}, {"customer": "$response.body#/id"}),
    ("orders_create", "club_members_retrieve", {"customer_id": "$response.body#/customer"}, None),
    ("orders_create", "returns_create", {}, {"order": "$response.body#/id"}),
    ("club_members_redeem_create", "coupons_validate_create", {}, {"code": "$response.body#/code"}),
    ("club_members_redeem_create", "coupons_redeem_create", {}, {"code": "$response.body#/code"}),
    ("customers_partial_update", "customers_retrieve", {"id": "$request.path.id"}, None),
    ("orders_cancel_create", "orders_retrieve", {"id": "$request.path.id"}, None),
    ("orders_refund_create", "orders_retrieve", {"id": "$request.path.id"}, None),
]


def _link_name(operation_id: str) -> str:
    return "".join(part.capitalize() for part in operation_id.split("_"))


def _success_responses(operation: dict) -> list[dict]:
    return [response for code, response in operation.get("responses", {}).items() if str(code) in ("200", "201")]


def _add_link(operations: dict, source: str, target: str, parameters: dict, body: dict | None) -> None:
    if source not in operations or target not in operations:
        return  # an operation renamed or removed: its links go with it (tests/api/test_schema.py lists them)
    link = {"operationId": target}
    if parameters:
        link["parameters"] = parameters
    if body:
        link["requestBody"] = body
    for response in _success_responses(operations[source]):
        response.setdefault("links", {})[_link_name(target)] = link


def add_links(result, generator, request, public):
    """drf-spectacular postprocessing hook: the OpenAPI links of every operation (see above)."""
    operations, by_path = {}, {}
    for path, methods in result.get("paths", {}).items():
        for method, operation in methods.items():
            if isinstance(operation, dict) and "operationId" in operation:
                operations[operation["operationId"]] = operation
                by_path.setdefault(path, {})[method] = operation
    for collection, methods in by_path.items():
        create = methods.get("post")
        if "{" in collection or create is None:
            continue
        for path, targets in by_path.items():
            parameters = path[len(collection):].count("{") if path.startswith(collection + "{") else 0
            if parameters != 1:
                continue
            name = path[len(collection) + 1:].split("}", 1)[0]
            for target in targets.values():
                _add_link(operations, create["operationId"], target["operationId"], {name: "$response.body#/id"}, None)
    for source, target, parameters, body in CROSS_RESOURCE_LINKS:
        _add_link(operations, source, target, parameters, body)
    return result
