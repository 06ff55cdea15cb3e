"""The FastAPI application of the localhost API: ``/v1`` endpoints, the agent's pages, ``/openapi.json``.

:func:`create_app` builds one agent for one port: the security middleware (:mod:`.security`) checks ``Host``
against that port, so the application must be served on ``config.api_port``. The state directory (local secret,
pairing list, audit log) defaults to :func:`signagent.service.agent_state.default_state_dir`; tests give their
own, and may inject the clock that requests expire by. ``trust_roots`` and ``intermediates`` are added to the
trust store's for the chain status of the certificate inventory (the demo's test PKI).

Exports: create_app.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from signagent.service.agent_state import default_state_dir
from signagent.service.audit import AuditLog, digest_of
from signagent.service.consent import APPROVED, PENDING, ConsentRequest, ConsentRequests
from signagent.service.events import EventBus
from signagent.service.inventory_cache import InventoryCache
from signagent.service.local_secret import load_or_create_secret
from signagent.service.pairing import PairingStore
from signagent.service.token_watch import TokenWatcher
from signagent.service.web_operations import AuthJob, DeleteJob, SignJob, fail_removed

from . import (
    pages,
    routes_cades,
    routes_certificates,
    routes_client,
    routes_diagnostics,
    routes_events,
    routes_info,
    routes_operations,
    routes_pairing,
    routes_validate,
)
from .context import AgentContext
from .errors import install_error_handlers
from .openapi_errors import ERROR_RESPONSES
from .request_log import RequestLogMiddleware
from .security import SecurityMiddleware

if TYPE_CHECKING:
    from signagent.service.config import Config

__all__ = ["create_app"]


def _summary(request: ConsentRequest) -> dict[str, Any]:
    """What the audit log keeps of a request: the certificate and the digests of what is signed, never content."""
    job = request.payload
    summary: dict[str, Any] = {}
    ref = getattr(job, "certificate", None)
    if ref is not None and hasattr(ref, "cert_id"):
        summary["certificate_id"] = ref.cert_id
    if isinstance(job, SignJob):
        digests = [d.digest_hex for d in job.documents]
        summary["digest"] = digests[0] if len(digests) == 1 else None
        if len(digests) > 1:
            summary["detail"] = {"documents": len(digests)}
    elif isinstance(job, AuthJob):
        summary["digest"] = digest_of(job.challenge)
    elif isinstance(job, DeleteJob):
        summary["detail"] = {"with_key": int(job.with_key)}
    return summary


#: Request kinds whose approval changes what the tokens hold (a key, a certificate added or removed).
TOKEN_CHANGING_KINDS = frozenset({"keygen", "import", "delete"})


def _on_change(context: AgentContext) -> Callable[[ConsentRequest, str], None]:
    def changed(request: ConsentRequest, status: str) -> None:
        if status == PENDING:
            request.extra["audit"] = _summary(request)  # the job is dropped when the request ends
        elif status == APPROVED and request.kind in TOKEN_CHANGING_KINDS:
            context.inventory.invalidate()  # the token changed: the next look-up lists it again, at once
        context.waiters.notify(request.request_id)
        if context.events is not None:
            context.events.publish("request-status", {"request_id": request.request_id, "kind": request.kind,
                                                      "status": status, "origin": request.origin})
        summary = request.extra.get("audit", {})
        code = request.error.code if request.error else None
        context.record(request.kind, "requested" if status == PENDING else status, origin=request.origin,
                       request_id=request.request_id[:12], code=code, **summary)
    return changed


def _on_tokens(context: AgentContext) -> Callable[[list[Any]], None]:
    def changed(changes: list[Any]) -> None:
        context.inventory.invalidate()
        gone = {cert_id for change in changes if change.event == "token-removed" for cert_id in change.before}
        if gone:
            fail_removed(context.requests, gone)
    return changed


def create_app(config: Config, *, state_dir: Path | None = None, clock: Callable[[], float] = time.monotonic,
               trust_roots: Iterable[object] = (), intermediates: Iterable[object] = ()) -> FastAPI:
    """The agent's application for ``config.api_port``; creates the local secret in ``state_dir`` when missing."""
    from signagent import __version__

    state = Path(state_dir) if state_dir is not None else default_state_dir()
    store = PairingStore(state)
    requests = ConsentRequests(clock=clock, limits={"sign": 30, "sign_batch": 10, "authenticate": 30})
    context = AgentContext(port=config.api_port, state_dir=state, secret=load_or_create_secret(state),
                           config=config, pairings=store, requests=requests,
                           inventory=InventoryCache(config, trust_roots=trust_roots, intermediates=intermediates),
                           audit=AuditLog(state), events=EventBus())
    requests.on_change = _on_change(context)
    # The token watcher (started by `signagent serve`, not here: tests build many apps) announces tokens coming
    # and going, refreshes the inventory, and fails the requests whose token went away.
    context.watcher = TokenWatcher(context.events, extra_modules=config.pkcs11_modules, keys_dir=config.keys_dir,
                                   on_change=_on_tokens(context))
    # No Swagger page: it loads scripts from a CDN and runs inline script, which the pages' CSP forbids.
    app = FastAPI(title="signagent localhost API", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json")
    app.state.agent = context
    install_error_handlers(app)
    for router in (routes_info.router, routes_pairing.router, routes_certificates.router, routes_operations.router,
                   routes_validate.router, routes_events.router, routes_diagnostics.router, routes_cades.router):
        app.include_router(router, prefix="/v1", responses=ERROR_RESPONSES)  # every error answer is declared
    app.include_router(pages.router)
    app.include_router(routes_client.router)
    # Added last = runs first: every request is logged, then checked, before any route sees it.
    app.add_middleware(SecurityMiddleware, context=context)
    app.add_middleware(RequestLogMiddleware)
    return app
