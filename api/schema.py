"""The OpenAPI schema: how API keys are sent, the Idempotency-Key header and the error format."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter


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

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.method in ("POST", "PATCH") and self.path.startswith("/api/v1/"):
            parameters.append(OpenApiParameter(
                "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
                description="Retry-safe writes: the same key and body replay the first response (kept 24 h); "
                            "another body gets 422; a retry while the first runs gets 409.",
            ))
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if not self.path.startswith("/api/v1/"):
            return responses
        from api.serializers import ProblemSerializer

        problem = {"content": {"application/problem+json": {"schema": self.resolve_serializer(ProblemSerializer, direction).ref}}}
        codes = {"400": "Invalid input", "401": "Missing, invalid, revoked or expired key", "403": "Missing scope",
                 "404": "Not found (or not visible to this key)", "429": "Rate limit; see Retry-After"}
        if self.method in ("POST", "PATCH"):
            codes.update({"409": "Conflict (or the same Idempotency-Key still running)",
                          "422": "Idempotency-Key reused with another body"})
        for code, description in codes.items():
            responses.setdefault(code, {"description": description, **problem})
        return responses
