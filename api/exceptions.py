"""One error format for the whole API: RFC 9457 problem details.

    {"type": ".../problems/validation", "title": "Invalid input", "status": 400,
     "detail": "...", "errors": {"field": ["message", ...]}}

Services raise django's ValidationError (400) or a club domain exception (Conflict: 409);
DRF raises its own exceptions (parse errors, authentication, throttling). A database error
is answered by whose fault it is (core.db_errors): a refused value 400, a broken constraint
409, connection trouble 503 with Retry-After, anything else 500. Anything else is a bug: it
is logged with its traceback and answered as a 500 problem, never as HTML.
"""

import logging
import math

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, InterfaceError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from rest_framework import exceptions, status
from rest_framework.response import Response

from club.exceptions import ClubError, Conflict, NotAMember
from core import db_errors
from core import errors as error_classes

logger = logging.getLogger("api")

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://clubcrm.invalid/problems/"  # a stable identifier, not a page to fetch


class IdempotencyMismatch(exceptions.APIException):
    status_code = 422
    default_detail = "This Idempotency-Key was already used with a different request body."
    default_code = "idempotency_key_reused"


class IdempotencyInProgress(exceptions.APIException):
    status_code = 409
    default_detail = "A request with this Idempotency-Key is still being processed; retry later."
    default_code = "idempotency_in_progress"


def problem(status_code: int, *, kind: str, title: str, detail: str = "", errors=None, headers=None, **extra) -> Response:
    body = {"type": TYPE_BASE + kind, "title": title, "status": status_code, "detail": detail or title}
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
    return response


def flatten_errors(detail) -> dict[str, list[str]]:
    """DRF's nested error details as {"field.sub[0].name": ["message"]}."""
    errors: dict[str, list[str]] = {}

    def walk(value, path: str):
        if isinstance(value, dict):
            for name, inner in value.items():
                if isinstance(name, int):  # a ListSerializer's errors, by item index
                    walk(inner, f"{path}[{name}]")
                elif name == "non_field_errors" and path:
                    walk(inner, path)
                else:
                    walk(inner, f"{path}.{name}" if path else str(name))
        elif isinstance(value, list):
            if all(not isinstance(item, (dict, list)) for item in value):
                errors.setdefault(path or "non_field_errors", []).extend(str(item) for item in value)
            else:
                for index, inner in enumerate(value):
                    if inner:
                        walk(inner, f"{path}[{index}]")
        else:
            errors.setdefault(path or "non_field_errors", []).append(str(value))

    walk(detail, "")
    return errors


def django_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {("non_field_errors" if name == "__all__" else name): list(messages) for name, messages in exc.message_dict.items()}
    return {"non_field_errors": list(exc.messages)}


# DRF's default details of these hold placeholders ("Method \"{method}\" not allowed."): a title is
# the same sentence for every instance of a problem, the detail names the method or media type.
TITLES = {405: _lazy("Method not allowed."), 406: _lazy("Not acceptable."), 415: _lazy("Unsupported media type.")}


def problem_exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        return too_large_problem()
    if isinstance(exc, DjangoValidationError):
        errors = django_errors(exc)
        return problem(400, kind="validation", title=_("Invalid input."), detail=_first_message(errors), errors=errors)
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        return problem(400, kind="validation", title=_("Invalid input."), detail=_first_message(errors), errors=errors)
    if isinstance(exc, Conflict):
        return problem(409, kind=exc.code, title=_("Conflict."), detail=exc.message)
    if isinstance(exc, NotAMember):
        return problem(404, kind=exc.code, title=_("Not a club member."), detail=_("This customer is not a club member."))
    if isinstance(exc, ClubError):
        return problem(400, kind=exc.code, title=_("Invalid request."), detail=exc.message)
    if isinstance(exc, (Http404, ObjectDoesNotExist, exceptions.NotFound)):
        return problem(404, kind="not_found", title=_("Not found."), detail=_("No such object."))
    if isinstance(exc, DatabaseError | InterfaceError):  # the transaction rolled back: nothing was saved
        return _database_problem(exc)
    if isinstance(exc, DjangoPermissionDenied):
        return problem(403, kind="permission_denied", title=_("Forbidden."), detail=str(exc) or _("Forbidden."))
    if isinstance(exc, exceptions.Throttled):
        wait = math.ceil(exc.wait) if exc.wait is not None else 60
        codes = exc.get_codes()
        return problem(429, kind=codes if isinstance(codes, str) else "throttled", title=_("Too many requests."),
                       detail=str(exc.detail),
                       headers={"Retry-After": str(max(wait, 1))})
    if isinstance(exc, exceptions.APIException):
        headers = {}
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
        if isinstance(exc, exceptions.MethodNotAllowed):
            headers["Allow"] = ", ".join(context["view"].allowed_methods) if context.get("view") else ""
        extra = {"scope": exc.scope} if getattr(exc, "scope", None) else {}
        codes = exc.get_codes()
        kind = codes if isinstance(codes, str) else exc.default_code
        detail = exc.detail if isinstance(exc.detail, str) else _first_message(flatten_errors(exc.detail))
        title = str(TITLES.get(exc.status_code, exc.default_detail))
        return problem(exc.status_code, kind=kind, title=title, detail=str(detail), headers=headers, **extra)
    if error_classes.classify(exc) == error_classes.UNAVAILABLE:  # the broker, for a task a request queues
        logger.warning("API broker unavailable: %s", exc)
        return unavailable_problem(_("A service we depend on could not be reached; nothing was saved. Retry later."))
    logger.exception("Unhandled API error", exc_info=exc)
    return server_error_problem()


def server_error_problem() -> Response:
    """Our fault: the answer carries the request id that the log line of the error carries."""
    return problem(status.HTTP_500_INTERNAL_SERVER_ERROR, kind="server_error", title=_("Server error."),
                   detail=_("Something went wrong on our side; it has been logged with this request's id."),
                   request_id=error_classes.request_id())


def uncaught_error_problem(exc: BaseException | None) -> JsonResponse:
    """handler500's answer under /api/ (an error that escaped DRF's handler, in a middleware or a plain
    view): the same problem details, as a plain Django response since no DRF renderer runs there."""
    if error_classes.classify(exc) == error_classes.UNAVAILABLE:
        answer = unavailable_problem(_("A service we depend on could not be reached; nothing was saved. Retry later."))
    else:
        answer = server_error_problem()
    response = JsonResponse(answer.data, status=answer.status_code, content_type=PROBLEM_CONTENT_TYPE)
    if "Retry-After" in answer:
        response["Retry-After"] = answer["Retry-After"]
    return response


def unavailable_problem(detail: str, *, kind: str = "service_unavailable") -> Response:
    return problem(503, kind=kind, title=_("Service unavailable."), detail=detail,
                   headers={"Retry-After": str(error_classes.retry_after_seconds())})


def too_large_problem() -> Response:
    return problem(413, kind="body_too_large", title=_("Request body too large."),
                   detail=_("The request body may be at most %(limit)d bytes; split it into smaller requests.")
                   % {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE})


def _database_problem(exc: DatabaseError | InterfaceError) -> Response:
    """A database error by whose fault it is (core.db_errors): only connection trouble says "retry"."""
    fault = db_errors.classify(exc)
    if fault == db_errors.UNAVAILABLE:
        logger.warning("API database unavailable: %s", exc)
        return unavailable_problem(_("The database could not be reached; nothing was saved. Retry later."),
                                   kind="database_unavailable")
    if fault == db_errors.BAD_VALUE:
        # Validation should have refused the value first: log it so that the bound gets added.
        logger.error("API value refused by the database: %s", exc)
        return problem(400, kind="value_out_of_range", title=_("Invalid input."),
                       detail=_("The database refused a value of this request (%(reason)s); nothing was saved. "
                                "Do not retry the same request.") % {"reason": db_errors.refused_value(exc)})
    if fault == db_errors.CONFLICT:
        # The constraint's name stays in the log: in an answer it would tell one partner what another stored.
        logger.warning("API integrity error (constraint %s): %s", db_errors.constraint_name(exc) or "?", exc)
        return problem(409, kind="conflict", title=_("Conflict."),
                       detail=_("The request conflicts with the stored data; nothing was saved."))
    logger.error("API database error", exc_info=exc)
    return server_error_problem()


def _first_message(errors: dict[str, list[str]]) -> str:
    for name, messages in errors.items():
        if messages:
            return messages[0] if name == "non_field_errors" else f"{name}: {messages[0]}"
    return _("Invalid input.")
