"""The verifier as a small HTTP service a portal's backend runs beside itself (issue 14 item 3).

A portal written in another language than Python calls it instead of the library: it issues the nonces and
verifies what the page brings back. It is the *portal's* service, on the portal's side: bind it to loopback or a
private network and let only the portal's backend reach it. It is never part of the agent (the agent runs on the
user's computer and never judges registrations).

Endpoints (JSON in, JSON out):

* ``POST /nonces`` ``{purpose?: "registration" | "login", ttl?: seconds}`` -> ``{nonce, origin, purpose,
  expires_in}``: a fresh nonce for the service's origin;
* ``POST /verify`` ``{cms: base64}`` -> the :class:`~.report.RegistrationReport` as JSON
  (:meth:`~.report.RegistrationReport.to_dict`), HTTP 200 whatever the verdict (``status`` says it);
* ``POST /login`` ``{proof: {...}, nonce: hex}`` -> the :class:`~.report.LoginReport` as JSON.

A body that does not fit is HTTP 422 (FastAPI's validation answer); a nonce store that fails is HTTP 503 with
``{"error": {code, message, message_ru, retriable}}``; other errors of the project's tree HTTP 400 in the same
shape.

Exports: create_verifier_app.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from typing import Any, Literal

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from signagent.errors import SignAgentError
from signagent.service.origins import normalize_origin

from . import egr
from .nonces import DEFAULT_TTL, NonceStore, NonceStoreError
from .verifier import MAX_SIGNED_REQUEST, OrganisationDirectory, verify_login, verify_registration

__all__ = ["create_verifier_app"]

# base64 of MAX_SIGNED_REQUEST bytes, with room for line breaks a client may leave in
_MAX_CMS_TEXT = (MAX_SIGNED_REQUEST // 3 + 1) * 4 + 65536


class _NonceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    purpose: Literal["registration", "login"] = "registration"
    ttl: float = Field(default=DEFAULT_TTL, gt=0, le=86400)


class _VerifyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cms: str = Field(min_length=1, max_length=_MAX_CMS_TEXT)


class _LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    proof: dict[str, Any]
    nonce: str = Field(min_length=1, max_length=256)


def _error(status: int, err: SignAgentError) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": err.to_dict()})


def create_verifier_app(*, origin: str, nonce_store: NonceStore, registry: egr.Registry,
                        trust_roots: Iterable[Any], intermediates: Iterable[Any] = (), crls: Iterable[Any] = (),
                        offline: bool = False, organisations: OrganisationDirectory | None = None,
                        fetcher: Any = None) -> FastAPI:
    """The verifier service of the portal at ``origin`` (a FastAPI app to run with any ASGI server).

    ``nonce_store``: where nonces are issued and consumed (a :class:`~.nonces.SqlNonceStore` shared with the
    portal, or a memory one for a single process). The rest as :func:`~.verifier.verify_registration`: chains
    are checked now with revocation hard, against ``trust_roots`` and with ``crls`` (and the network unless
    ``offline``). Raises OriginInvalidError for a malformed ``origin``.
    """
    portal = normalize_origin(origin)
    roots, more, revocation_lists = list(trust_roots), list(intermediates), list(crls)
    app = FastAPI(title="signagent registration verifier", version="1",
                  summary="Nonces and verification of signed registration requests and login proofs for "
                          f"{portal}")

    @app.exception_handler(NonceStoreError)
    async def _store_failed(_request: Request, exc: NonceStoreError) -> JSONResponse:
        return _error(503, exc)

    @app.exception_handler(SignAgentError)
    async def _refused(_request: Request, exc: SignAgentError) -> JSONResponse:
        return _error(400, exc)

    @app.post("/nonces")
    def issue_nonce(body: _NonceBody | None = None) -> dict[str, Any]:
        body = body or _NonceBody()
        nonce = nonce_store.issue(portal, ttl=body.ttl, purpose=body.purpose)
        return {"nonce": nonce, "origin": portal, "purpose": body.purpose, "expires_in": body.ttl}

    @app.post("/verify")
    def verify(body: _VerifyBody) -> dict[str, Any]:
        try:
            signed = base64.b64decode("".join(body.cms.split()), validate=True)
        except (binascii.Error, ValueError):
            raise HTTPException(status_code=422, detail="cms: not base64") from None
        report = verify_registration(signed, origin=portal, nonce_store=nonce_store, registry=registry,
                                     trust_roots=roots, intermediates=more, crls=revocation_lists,
                                     offline=offline, fetcher=fetcher, organisations=organisations)
        return report.to_dict()

    @app.post("/login")
    def login(body: _LoginBody) -> dict[str, Any]:
        report = verify_login(body.proof, origin=portal, challenge_nonce=body.nonce, nonce_store=nonce_store,
                              trust_roots=roots, intermediates=more, crls=revocation_lists, offline=offline,
                              fetcher=fetcher)
        return report.to_dict()

    return app
