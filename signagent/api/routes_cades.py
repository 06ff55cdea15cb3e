"""What the cadesplugin-compatible layer (``/cadesplugin_api.js``, issue 13) needs beyond the signing routes:

* ``POST /v1/cosign`` -- add the user's signature to an existing CMS SignedData (CryptoPro's ``CoSignCades``): a
  request the user confirms like ``POST /v1/sign`` (kind ``cosign``; result ``{cms, certificate, certificate_id,
  signing_time}``). The confirmation page shows the signed content: the one inside an attached signature, or the
  ``content`` the page gives for a detached one (required then: the new messageDigest is computed over it), or
  for a detached one only the content's ``digest`` (CryptoPro's ``CoSignHash``; the page shows the digest).
* ``POST /v1/hash`` -- the Streebog digest of some bytes (CryptoPro's ``HashedData.Hash``), so that a page can sign
  a large document detached by its digest without a Streebog implementation of its own. No confirmation: nothing
  secret is used and nothing is signed; for paired sites only, like every ``/v1`` call.

Exports: router.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from signagent.service import web_operations as ops
from signagent.service.access import ContentTooLargeError, RequestInvalidError

from .callers import caller_of
from .context import AgentContext
from .routes_operations import Started, _key_digest, _start

__all__ = ["router"]

router = APIRouter()
_ID = Annotated[str, Field(min_length=8, max_length=128, description="Certificate id (Streebog-256 thumbprint, hex)")]
#: Largest signature a page may hand in to co-sign (an attached one carries its content).
MAX_COSIGN = ops.MAX_DOCUMENT + (1 << 20)


class CosignIn(BaseModel):
    """``POST /v1/cosign``."""

    certificate_id: _ID
    cms: str = Field(..., description="The CMS SignedData to add a signer to, base64 of DER")
    content: str | None = Field(None, description="The signed content, base64 (detached signatures only)")
    digest: str | None = Field(None, max_length=128, description="Instead of content (detached signatures only, "
                                                                 "CryptoPro's CoSignHash): hex Streebog digest of "
                                                                 "the content, of the key's size")
    content_type: str = Field("application/octet-stream", max_length=200)
    filename: str = Field("", max_length=255)
    description: str = Field("", max_length=2000)


class HashIn(BaseModel):
    """``POST /v1/hash``."""

    content: str = Field(..., description="The bytes to hash, base64")
    algorithm: Literal["streebog256", "streebog512"] = "streebog256"


class HashOut(BaseModel):
    """The digest, lower-case hex."""

    algorithm: str
    digest: str


def _context(request: Request) -> AgentContext:
    return request.app.state.agent  # type: ignore[no-any-return]


def _b64(text: str, what: str, limit: int) -> bytes:
    if len(text) > (limit // 3 + 1) * 4:
        raise ContentTooLargeError(situation="body", limit_mib=limit >> 20)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise RequestInvalidError(detail=f"{what} is not base64") from None


@router.post("/cosign", response_model=Started, status_code=202,
             summary="Ask the user to add their signature to an existing CMS signature")
def cosign(request: Request, body: CosignIn) -> Started:
    """The user sees the signed content in the agent's page, types the PIN and approves; the result (poll the
    request) is ``{cms, certificate, certificate_id, signing_time}``, ``cms`` holding every earlier signer."""
    entry = _context(request).inventory.find(body.certificate_id)
    cms = _b64(body.cms, "cms", MAX_COSIGN)
    content = None if body.content is None else _b64(body.content, "content", ops.MAX_DOCUMENT)
    digest = None if body.digest is None else _key_digest(body.digest, entry.certificate.public_key().curve.size)
    job = ops.cosign_job(ops.certificate_ref(entry), cms, content, digest=digest, content_type=body.content_type,
                         filename=body.filename, description=body.description, origin=caller_of(request).origin)
    (document,) = job.documents
    return _start(request, "cosign", job, size=document.size + len(job.cms))


@router.post("/hash", response_model=HashOut, summary="The Streebog digest of some bytes")
def hash_content(body: HashIn) -> HashOut:
    """``{algorithm, digest}`` (lower-case hex): what ``digest`` of ``POST /v1/sign`` takes."""
    import io

    from signagent.service.hashing import hash_stream

    data = _b64(body.content, "content", ops.MAX_DOCUMENT)
    return HashOut(algorithm=body.algorithm, digest=hash_stream(io.BytesIO(data), body.algorithm).hex())
