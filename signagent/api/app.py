"""The FastAPI application of the localhost API: ``/v1`` endpoints, the agent's pages, ``/openapi.json``.

:func:`create_app` builds one agent for one port: the security middleware (:mod:`.security`) checks ``Host``
against that port, so the application must be served on ``config.api_port``. The state directory (local secret,
pairing list) defaults to :func:`signagent.service.agent_state.default_state_dir`; tests give their own, and may
inject the clock that pairing requests expire by.

Exports: create_app.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI

from signagent.service.agent_state import default_state_dir
from signagent.service.local_secret import load_or_create_secret
from signagent.service.pairing import PairingStore
from signagent.service.pairing_requests import PairingRequests

from . import pages, routes_info, routes_pairing
from .context import AgentContext
from .errors import install_error_handlers
from .request_log import RequestLogMiddleware
from .security import SecurityMiddleware

if TYPE_CHECKING:
    from signagent.service.config import Config

__all__ = ["create_app"]


def create_app(config: Config, *, state_dir: Path | None = None,
               clock: Callable[[], float] = time.monotonic) -> FastAPI:
    """The agent's application for ``config.api_port``; creates the local secret in ``state_dir`` when missing."""
    from signagent import __version__

    state = Path(state_dir) if state_dir is not None else default_state_dir()
    store = PairingStore(state)
    context = AgentContext(port=config.api_port, state_dir=state, secret=load_or_create_secret(state),
                           pairings=store, requests=PairingRequests(store, clock=clock))
    # No Swagger page: it loads scripts from a CDN and runs inline script, which the pages' CSP forbids.
    app = FastAPI(title="signagent localhost API", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json")
    app.state.agent = context
    install_error_handlers(app)
    app.include_router(routes_info.router, prefix="/v1")
    app.include_router(routes_pairing.router, prefix="/v1")
    app.include_router(pages.router)
    # Added last = runs first: every request is logged, then checked, before any route sees it.
    app.add_middleware(SecurityMiddleware, context=context)
    app.add_middleware(RequestLogMiddleware)
    return app
