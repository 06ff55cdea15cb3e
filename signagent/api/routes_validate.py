"""``POST /v1/validate``: a certificate or a CMS signature checked with the command line's options; no confirmation
(nothing is signed or changed, and the answer says only what the caller could compute itself from public data).

The body carries the pieces base64-encoded (each one DER, PEM text or bare base64 inside, as the file readers
accept); the answer is the document ``signagent cert validate --json`` / ``signagent verify --json`` prints, plus
``exit_code`` (the command's exit status for the verdict: 0 valid, 1 invalid, 2 indeterminate). A bad certificate
or signature is a 200 answer with its verdict; only input that cannot be read is an error.

Hostile input: the body is capped at :data:`MAX_BODY` (the ``Content-Length`` is checked before a byte is read,
and the bytes are counted as they come: 413 ``content_too_large``, below the middleware's cap for every route),
lists of pieces at a few hundred entries, each
piece at its kind's file cap; every parser error is an error of the tree (4xx), never a 500.

Network: ``offline`` defaults to true. The certificates in the request name the URLs (CRL distribution points,
OCSP responders, CA issuers) a check online would fetch, so a web page could make the agent fetch addresses of
its choosing from the user's machine -- its local network included. Only a local program (local secret) or the
agent's own pages may ask for ``offline: false``; a site gets 403 ``online_check_not_allowed``. Revocation data
then comes from ``crls``, the trust store and the cache, as ``--offline`` does on the command line.

The check runs in the threadpool (a plain ``def`` route). The lead mounts :data:`router` with the prefix ``/v1``.

Exports: router, ValidateRequest, ValidateAnswer, OnlineCheckNotAllowedError, MAX_BODY.
"""

from __future__ import annotations

import binascii
from base64 import b64decode
from collections.abc import Callable, Coroutine
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.responses import JSONResponse, Response

from signagent.errors import InvalidInputError
from signagent.service.access import ContentTooLargeError, RequestInvalidError

from .callers import caller_of
from .context import AgentContext
from .openapi_errors import ERROR_RESPONSES

__all__ = ["MAX_BODY", "OnlineCheckNotAllowedError", "ValidateAnswer", "ValidateRequest", "router"]

#: Largest request body: a certificate with its chain and CRLs, or a signature with the content it signs (base64
#: adds a third). Bigger content: verify on the command line, which streams files of any size.
MAX_BODY = 16 << 20
#: Most pieces in one list (roots, intermediates, CRLs): far more than any real chain or store needs.
MAX_PIECES = 256

class OnlineCheckNotAllowedError(InvalidInputError):
    """A web page asked for a check online: the agent would fetch the URLs named by the certificates it sent."""

    code = "online_check_not_allowed"


async def _read_capped_body(request: Request, limit: int) -> None:
    """Read the body (at most ``limit`` bytes, else content_too_large) and keep it where FastAPI looks for it."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise ContentTooLargeError()
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise ContentTooLargeError()
        chunks.append(chunk)
    request._body = b"".join(chunks)  # Request.body() answers from this: FastAPI never reads the stream again


class _CappedBodyRoute(APIRoute):
    """A route whose body is read under :data:`MAX_BODY` before FastAPI parses it (a limit error raised while
    FastAPI reads would become its generic 400)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def capped(request: Request) -> Response:
            await _read_capped_body(request, MAX_BODY)
            return await handler(request)

        return capped


router = APIRouter(route_class=_CappedBodyRoute)

_B64 = "base64 of the bytes: DER, PEM text or bare base64 inside"


class ValidateRequest(BaseModel):
    """What to check and how: exactly one of ``certificate`` and ``signature``, the command line's options."""

    model_config = ConfigDict(extra="forbid")

    certificate: str | None = Field(None, description=f"The certificate to validate ({_B64}); a bundle's further "
                                                      "certificates are intermediates.")
    signature: str | None = Field(None, description=f"The CMS / CAdES-BES signature to verify ({_B64}).")
    content: str | None = Field(None, description="base64 of the signed content, for a detached signature.")
    digest: str | None = Field(None, pattern=r"^([0-9A-Fa-f]{64}|[0-9A-Fa-f]{128})$",
                               description="Instead of content (CryptoPro's VerifyHash): hex Streebog digest of the "
                                           "signed content, 64 digits for Streebog-256 or 128 for Streebog-512. A "
                                           "signer of the other algorithm is indeterminate "
                                           "(content_digest_algorithm).")
    signer_certificates: list[str] = Field(default_factory=list, max_length=MAX_PIECES,
                                           description="Certificates in which to look for signers the CMS does "
                                                       "not carry (the command line's --cert).")
    trust: list[str] = Field(default_factory=list, max_length=MAX_PIECES,
                             description="Trusted roots. Without them, the user's trust store (unless "
                                         "use_trust_store is false).")
    intermediates: list[str] = Field(default_factory=list, max_length=MAX_PIECES,
                                     description="Intermediate CA certificates.")
    crls: list[str] = Field(default_factory=list, max_length=MAX_PIECES, description="CRLs (base64).")
    at: str | None = Field(None, max_length=64,
                           description="Time of the check, ISO-8601 (years 1950-9998; no zone means UTC); for a "
                                       "signature also 'signing-time'. Default: now.")
    revocation: Literal["soft", "hard", "off"] | None = Field(
        None, description="soft: unknown status gives valid with a warning; hard: indeterminate; off: not checked. "
                          "Default: the configuration's, else soft.")
    offline: bool = Field(True, description="No network: revocation data only from crls, the trust store and the "
                                            "cache. Only a local program may set it to false.")
    use_trust_store: bool = Field(True, description="Without trust, use the user's trust store (roots, "
                                                    "intermediates, CRLs). False: trust is required.")
    check_chain: bool = Field(True, description="For a signature: false checks the signatures alone (no trust "
                                                "anchor needed); a signer whose signature holds is then "
                                                "indeterminate with chain_not_checked.")

    @model_validator(mode="after")
    def _one_subject(self) -> ValidateRequest:
        if (self.certificate is None) == (self.signature is None):
            raise ValueError("give exactly one of certificate and signature")
        if self.certificate is not None and (self.content is not None or self.digest is not None
                                             or self.signer_certificates or not self.check_chain):
            raise ValueError("content, digest, signer_certificates and check_chain go with a signature")
        if self.content is not None and self.digest is not None:
            raise ValueError("give content or digest, not both")
        return self


class ValidateAnswer(BaseModel):
    """The command line's ``--json`` document (``cert validate`` or ``verify``) and its exit status."""

    model_config = ConfigDict(extra="allow")

    status: Literal["valid", "invalid", "indeterminate"]
    exit_code: Literal[0, 1, 2] = Field(description="The command line's exit status: 0 valid, 1 invalid, "
                                                    "2 indeterminate.")
    reasons: list[dict[str, Any]]


def _bytes(text: str, name: str) -> bytes:
    try:
        return b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise RequestInvalidError(detail=f"{name}: not base64") from None


def _pieces(items: list[str], name: str) -> list[bytes]:
    return [_bytes(text, f"{name}[{index}]") for index, text in enumerate(items)]


def _context(request: Request) -> AgentContext:
    return request.app.state.agent  # type: ignore[no-any-return]


@router.post("/validate", response_model=ValidateAnswer, responses=ERROR_RESPONSES,
             summary="Validate a certificate or verify a CMS signature (no confirmation)")
def validate(request: Request, body: ValidateRequest) -> Response:
    """The command line's ``cert validate --json`` (for ``certificate``) or ``verify --json`` (for ``signature``)
    document, with ``exit_code``. Offline unless a local program asks otherwise."""
    from signagent.service import validation_bytes  # the trust and CMS layers: loaded by the first check

    caller = caller_of(request)
    if not body.offline and not caller.trusted:
        raise OnlineCheckNotAllowedError()
    options: dict[str, Any] = {
        "trust": _pieces(body.trust, "trust"), "intermediates": _pieces(body.intermediates, "intermediates"),
        "crls": _pieces(body.crls, "crls"), "at": body.at, "offline": body.offline, "revocation": body.revocation,
        "use_trust_store": body.use_trust_store, "config": _context(request).config}
    if body.certificate is not None:
        doc = validation_bytes.validate_certificate_bytes(_bytes(body.certificate, "certificate"), **options)
    else:
        assert body.signature is not None
        doc = validation_bytes.verify_signature_bytes(
            _bytes(body.signature, "signature"),
            content=None if body.content is None else _bytes(body.content, "content"),
            digest=None if body.digest is None else bytes.fromhex(body.digest), check_chain=body.check_chain,
            signer_certificates=_pieces(body.signer_certificates, "signer_certificates"), **options)
    _context(request).record("validate", str(doc["status"]), origin=caller.origin or caller.kind,  # the audit log
                             detail={"kind": "certificate" if body.certificate is not None else "signature"})
    return JSONResponse(doc)
