"""Operations a paired site asks for, each confirmed by the user in the agent's page (docs/API.md): signatures
(one document or a batch), the origin-bound authentication, and changes to a token (a new key pair and its
request, a certificate imported or deleted).

Every route checks the input (certificate present with its key, content decodable and within limits, digest of
the key's size), starts a consent request holding the job, and answers at once with ``{request_id, confirm_url,
expires_in}`` (202): nothing runs until the user approves with the PIN in the agent's page (:mod:`.pages`).

Exports: router.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from signagent.service import web_operations as ops
from signagent.service.access import (
    CertificateNotFoundError,
    ContentTooLargeError,
    OriginInvalidError,
    RequestInvalidError,
)
from signagent.service.authentication import MAX_CHALLENGE, MIN_CHALLENGE

from .callers import Caller, caller_of
from .context import AgentContext

__all__ = ["router"]

router = APIRouter()
_HEX = re.compile(r"[0-9a-fA-F]+")
_ID = Annotated[str, Field(min_length=8, max_length=128, description="Certificate id (Streebog-256 thumbprint, hex)")]


class Started(BaseModel):
    """A request waiting for the user: poll ``GET /v1/requests/{request_id}``, open ``confirm_url`` for the user."""

    request_id: str
    confirm_url: str
    expires_in: int


class DocumentIn(BaseModel):
    """One document: ``content`` (base64) or ``digest`` (hex Streebog of the content; detached only)."""

    content: str | None = Field(None, description="The document, base64")
    digest: str | None = Field(None, max_length=128, description="Hex Streebog digest of the key's size")
    detached: bool = False
    content_type: str = Field("application/octet-stream", max_length=200)
    filename: str = Field("", max_length=255)
    description: str = Field("", max_length=2000)


class SignIn(DocumentIn):
    """``POST /v1/sign``."""

    certificate_id: _ID


class BatchIn(BaseModel):
    """``POST /v1/sign/batch``: one confirmation and one PIN entry for every document."""

    certificate_id: _ID
    documents: list[DocumentIn] = Field(..., min_length=1)


class AuthenticateIn(BaseModel):
    """``POST /v1/authenticate``."""

    challenge: str = Field(..., max_length=2 * MAX_CHALLENGE, description="Base64, at least 32 bytes")
    certificate_id: _ID | None = None


class KeysIn(BaseModel):
    """``POST /v1/keys``: a key pair on the token and a PKCS#10 request for it."""

    token: str = Field(..., min_length=1, max_length=200, description="Token label or serial")
    curve: str = Field("id-tc26-gost-3410-2012-256-paramSetB", max_length=100)
    subject: dict[str, str] = Field(..., description="Subject fields (see `signagent csr --help`)")
    profile: Literal["head", "employee", "ip", "person"] = "person"
    key_label: str = Field("", max_length=100)


class ImportIn(BaseModel):
    """``POST /v1/certificates/import``: a certificate put beside its key pair on the token."""

    token: str = Field(..., min_length=1, max_length=200)
    certificate: str = Field(..., max_length=200_000, description="Base64 DER or PEM")
    label: str = Field("", max_length=100)


def _context(request: Request) -> AgentContext:
    return request.app.state.agent  # type: ignore[no-any-return]


def _site(request: Request) -> tuple[AgentContext, Caller, str]:
    """The context, the caller and the origin a request is made for (a local program acts as the agent)."""
    ctx, caller = _context(request), caller_of(request)
    origin = caller.origin or ctx.base_url
    return ctx, caller, origin


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise RequestInvalidError(detail=f"{what} is not base64") from None


def _key_digest(text: str, digest_size: int) -> bytes:
    """A digest a page gives for a key whose digests are ``digest_size`` bytes: hex, of that size."""
    if not _HEX.fullmatch(text) or len(text) != 2 * digest_size:
        raise RequestInvalidError(detail=f"digest must be {2 * digest_size} hex digits for this key")
    return bytes.fromhex(text)


def _document(doc: DocumentIn, digest_size: int) -> ops.Document:
    if (doc.content is None) == (doc.digest is None):
        raise RequestInvalidError(detail="give content or digest, not both")
    if doc.digest is not None:
        if not doc.detached:
            raise RequestInvalidError(detail="a digest can only be signed detached")
        return ops.Document(None, _key_digest(doc.digest, digest_size), True, doc.content_type, doc.filename,
                            doc.description)
    content = _b64(doc.content or "", "content")
    if len(content) > ops.MAX_DOCUMENT:
        raise ContentTooLargeError(situation="body", limit_mib=ops.MAX_DOCUMENT >> 20)
    return ops.Document(content, None, doc.detached, doc.content_type, doc.filename, doc.description)


def _start(request: Request, kind: str, job: object, size: int = 0) -> Started:
    ctx, _, origin = _site(request)
    started = ctx.requests.start(origin, kind, job, size=size)
    return Started(request_id=started.request_id, confirm_url=f"{ctx.base_url}/confirm/{started.request_id}",
                   expires_in=int(ctx.requests.lifetime))


def _sign_job(request: Request, certificate_id: str, documents: list[DocumentIn], batch: bool) -> Started:
    if len(documents) > ops.MAX_BATCH:
        raise ContentTooLargeError(situation="batch", limit=ops.MAX_BATCH)
    ctx = _context(request)
    entry = ctx.inventory.find(certificate_id)
    digest_size = entry.certificate.public_key().curve.size
    docs = tuple(_document(d, digest_size) for d in documents)
    caller = caller_of(request)
    # The origin the agent saw, never one the page chose, goes under the signature (a local program has none).
    job = ops.SignJob(ops.certificate_ref(entry), docs, batch=batch, origin=caller.origin)
    return _start(request, "sign_batch" if batch else "sign", job, size=sum(d.size for d in docs))


@router.post("/sign", response_model=Started, status_code=202, summary="Ask the user to sign a document")
def sign(request: Request, body: SignIn) -> Started:
    """The user sees the document in the agent's page, types the PIN and approves; the result (poll the request)
    is ``{cms, certificate, certificate_id, signing_time}``."""
    return _sign_job(request, body.certificate_id, [body], batch=False)


@router.post("/sign/batch", response_model=Started, status_code=202, summary="Ask the user to sign several documents")
def sign_batch(request: Request, body: BatchIn) -> Started:
    """One confirmation and one PIN entry for all; the result is ``{signatures: [{cms, filename}], certificate,
    certificate_id, signing_time}``."""
    return _sign_job(request, body.certificate_id, body.documents, batch=True)


@router.post("/authenticate", response_model=Started, status_code=202,
             summary="Ask the user to prove possession of a certificate's key to this origin")
def authenticate(request: Request, body: AuthenticateIn) -> Started:
    """The token signs Streebog-256(origin) || Streebog-256(challenge) (docs/API.md, "Authentication proof")."""
    ctx, caller, origin = _site(request)
    if caller.kind != "site":
        raise OriginInvalidError(situation="missing")  # the proof binds a web origin: a local program has none
    challenge = _b64(body.challenge, "challenge")
    if not MIN_CHALLENGE <= len(challenge) <= MAX_CHALLENGE:
        raise RequestInvalidError(detail=f"the challenge must be {MIN_CHALLENGE} to {MAX_CHALLENGE} bytes")
    if body.certificate_id is not None:
        job = ops.AuthJob(origin, challenge, ops.certificate_ref(ctx.inventory.find(body.certificate_id)))
    else:
        choices = tuple(ops.certificate_ref(e) for e in ctx.inventory.inventory().entries if e.has_private_key)
        if not choices:  # nothing to choose from: as for a named certificate the tokens do not hold
            raise CertificateNotFoundError(situation="no_key", cert_id="-")
        job = ops.AuthJob(origin, challenge, None, choices)
    return _start(request, "authenticate", job)


@router.post("/keys", response_model=Started, status_code=202,
             summary="Ask the user to make a key pair on a token and a PKCS#10 request for it")
def keys(request: Request, body: KeysIn) -> Started:
    """The result is ``{request (PEM), key: {key_id, curve, public_key, token}}``."""
    if len(body.subject) > 30 or any(len(k) > 50 or len(v) > 300 for k, v in body.subject.items()):
        raise RequestInvalidError(detail="subject too large")
    job = ops.keygen_job(body.token, body.curve, body.subject, body.profile, body.key_label)
    return _start(request, "keygen", job)


@router.post("/certificates/import", response_model=Started, status_code=202,
             summary="Ask the user to store a certificate on a token beside its key pair")
def import_certificate(request: Request, body: ImportIn) -> Started:
    """The result is ``{certificate_id, key_id}``."""
    job = ops.import_job(body.token, _b64(body.certificate, "certificate"), body.label)
    return _start(request, "import", job)


@router.delete("/certificates/{certificate_id}", response_model=Started, status_code=202,
               summary="Ask the user to delete a certificate (and with with_key, its key pair) from its token")
def delete_certificate(request: Request, certificate_id: str, with_key: bool = False) -> Started:
    """The result is ``{certificate_id, deleted_objects}``."""
    entry = _context(request).inventory.find(certificate_id, with_key=False)
    return _start(request, "delete", ops.DeleteJob(ops.certificate_ref(entry), with_key))
