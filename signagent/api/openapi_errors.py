"""The error document in the OpenAPI description: every route declares the answers it may give besides success.

Every error of the API is ``{"error": {"code", "message", "message_ru", "retriable"}}`` (:mod:`.errors`), whatever
refused the request: the security middleware (401, 403, 421), the framework (404, 422 for a malformed body or
parameter) or the route. FastAPI would otherwise describe 422 as its own ``HTTPValidationError`` (``{"detail":
[...]}``), which the agent never sends, and leave the other statuses out: a generated client or a schema-driven
test (schemathesis) would then call the real answers wrong. :data:`ERROR_RESPONSES` is the ``responses=`` mapping
for ``APIRouter(responses=ERROR_RESPONSES)`` (or one route's ``responses=``): each status the agent uses, with the
error document as its body.

Exports: ErrorBody, ErrorDocument, ERROR_RESPONSES.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["ERROR_RESPONSES", "ErrorBody", "ErrorDocument"]


class ErrorBody(BaseModel):
    """One error: its stable code (the registry's), the messages in English and Russian, whether to retry."""

    code: str = Field(description="Stable machine-readable code (signagent.errors.registry).")
    message: str
    message_ru: str
    retriable: bool


class ErrorDocument(BaseModel):
    """What the agent answers for every error."""

    error: ErrorBody


def _answer(description: str) -> dict[str, Any]:
    return {"model": ErrorDocument, "description": description}


#: status -> OpenAPI response of the error document; the statuses of :data:`signagent.api.errors._STATUS` and the
#: 400 / 500 fallbacks of :func:`signagent.api.errors.status_of`.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _answer("Invalid input (malformed certificate, signature, time...)"),
    401: _answer("local_secret_required: a request without Origin needs the local secret"),
    403: _answer("origin_not_paired, extension_not_paired, origin_invalid and other refusals of the caller"),
    404: _answer("request_not_found, endpoint_not_found, certificate_not_found"),
    409: _answer("request_finished"),
    410: _answer("request_expired"),
    413: _answer("The request body (or a piece of it) is larger than allowed"),
    421: _answer("host_not_allowed: the Host header is not the agent's (DNS rebinding)"),
    422: _answer("request_invalid: the body or a parameter does not fit the schema"),
    429: _answer("rate_limited"),
    500: _answer("internal_error"),
}
