"""`Idempotency-Key` on POST: a retry gets the first response instead of doing the work twice.

Same key, same body: the stored response is replayed (with `Idempotent-Replayed: true`).
Same key, another body: 422. Same key while the first request still runs: 409.
A request that fails (an exception or an error response) releases its claim, so it can be retried.

The claim is committed before the work starts, so a parallel retry sees it and gets 409.
The work and the stored response then commit in one transaction: a crash between the two
cannot leave work done without its response (a retry would do it again) nor a response
stored for work that was rolled back.
"""

import functools
import hashlib
import json

from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response

from api import services
from api.exceptions import IdempotencyInProgress, IdempotencyMismatch

HEADER = "Idempotency-Key"
MAX_LENGTH = 255


def request_fingerprint(request) -> str:
    """The parsed body, canonicalised: whitespace and key order do not make a different request."""
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def idempotent(handler):
    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        idempotency_key = request.headers.get(HEADER, "").strip()
        if not idempotency_key:
            return handler(view, request, *args, **kwargs)
        if len(idempotency_key) > MAX_LENGTH:
            raise exceptions.ValidationError({HEADER: [_("At most %(n)s characters.") % {"n": MAX_LENGTH}]})
        fingerprint = request_fingerprint(request)  # parses the body first: a parse error claims nothing
        record, claimed = services.idempotency_claim(
            key=request.auth, idempotency_key=idempotency_key, method=request.method, path=request.path,
            request_hash=fingerprint,
        )
        if not claimed:
            if record.request_hash != fingerprint:
                raise IdempotencyMismatch()
            if record.status_code is None:
                raise IdempotencyInProgress()
            return Response(record.response_body, status=record.status_code, headers={"Idempotent-Replayed": "true"})
        try:
            with transaction.atomic():
                response = handler(view, request, *args, **kwargs)
                if response.status_code >= 400:
                    # An error is not stored: undo whatever the handler wrote, so a retry runs afresh.
                    transaction.set_rollback(True)
                elif not services.idempotency_complete(
                    record=record, status_code=response.status_code, body=_jsonable(response.data)
                ):
                    # The claim went stale and a retry took it over: that retry does the work, not us.
                    raise IdempotencyInProgress()
        except BaseException:
            services.idempotency_release(record=record)
            raise
        if response.status_code >= 400:
            services.idempotency_release(record=record)
        return response

    return wrapper


def _jsonable(data):
    return json.loads(json.dumps(data, default=str))
