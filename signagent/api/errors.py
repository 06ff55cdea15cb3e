"""Errors as HTTP responses: ``{"error": {"code", "message", "message_ru", "retriable"}}`` with a status fitting
the code, for the routes' errors, the framework's own (unknown path, bad parameters) and the middleware's refusals.

Details are not sent: they may name files or origins, and the page needs only the code and the wording.

Exports: status_of, error_response, install_error_handlers.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from signagent.errors import InvalidInputError, SignAgentError, UsageError
from signagent.service.access import EndpointNotFoundError, RequestInvalidError

__all__ = ["error_response", "install_error_handlers", "status_of"]

_log = logging.getLogger("signagent.api")

# 421 Misdirected Request (RFC 9110 section 15.5.20): the request reached a server that is not the one it names --
# exactly a DNS-rebinding page's request.
_STATUS = {
    "host_not_allowed": 421,
    "origin_not_paired": 403,
    "extension_not_paired": 403,
    "origin_invalid": 403,
    "local_secret_required": 401,
    "agent_origin_required": 403,
    "consent_token_invalid": 403,
    "request_not_found": 404,
    "endpoint_not_found": 404,
    "request_expired": 410,
    "request_finished": 409,
    "rate_limited": 429,
    "request_invalid": 422,
    "certificate_not_found": 404,
    "content_too_large": 413,
    "token_removed": 409,
    "pin_locked": 423,
    "online_check_not_allowed": 403,
    "another_user": 403,
}


def status_of(err: SignAgentError) -> int:
    """The HTTP status of an error of the tree: its code's, else 400 for bad input, 500 for the rest."""
    if err.code in _STATUS:
        return _STATUS[err.code]
    return 400 if isinstance(err, InvalidInputError | UsageError) else 500


def error_response(err: SignAgentError, headers: dict[str, str] | None = None) -> JSONResponse:
    """The error document of ``err`` with its status."""
    body = {"error": {"code": err.code, "message": err.message, "message_ru": err.message_ru,
                      "retriable": err.retriable}}
    return JSONResponse(body, status_code=status_of(err), headers=headers)


async def _on_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SignAgentError)
    return error_response(exc)


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code in (404, 405):
        return error_response(EndpointNotFoundError(method=request.method, path=request.url.path[:200]))
    return error_response(RequestInvalidError(detail=str(exc.detail)[:200]))


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg', '')}" for e in exc.errors()[:3])
    return error_response(RequestInvalidError(detail=problems[:300]))


async def _on_bug(request: Request, exc: Exception) -> JSONResponse:
    _log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(SignAgentError())


def install_error_handlers(app: FastAPI) -> None:
    """Every error of ``app`` answered as the error document."""
    app.add_exception_handler(SignAgentError, _on_error)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(Exception, _on_bug)
