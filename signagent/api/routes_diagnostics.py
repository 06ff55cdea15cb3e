"""``GET /v1/diagnostics``: what support asks a user for (:func:`signagent.service.diagnostics.diagnostics`).

Two views, decided by the caller:

* trusted callers (the agent's own pages, local programs with the secret) get the whole report: module paths,
  readers, token labels and serials, the trust store, the state directory, plus the running agent's event
  subscribers and token watcher;
* a paired site gets :func:`signagent.service.diagnostics.public_view` -- versions, counts and yes/no (is PC/SC
  working, how many tokens and readers), enough for a portal to tell its user "no token found: is the smart card
  service running?", and nothing that names a file, reader, token or person. (Unpaired sites never get here:
  the security middleware refuses them.)

Needs ``request.app.state.agent`` with ``state_dir``, and ``config`` (a :class:`signagent.service.config.Config`;
when missing, the configuration is loaded as the command line would); ``events`` and ``watcher`` are reported
when present.

Exports: router.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from signagent.service.config import load_config
from signagent.service.diagnostics import diagnostics, public_view

from .callers import caller_of

__all__ = ["router"]

router = APIRouter()


def _running(agent: Any) -> dict[str, Any]:
    """The live parts of the agent: event subscribers, the token watcher's polls and tokens."""
    out: dict[str, Any] = {}
    bus = getattr(agent, "events", None)
    if bus is not None:
        out["event_subscribers"] = bus.subscriber_count
    watcher = getattr(agent, "watcher", None)
    if watcher is not None:
        out["token_watcher"] = {"interval": watcher.interval, "polls": watcher.polls,
                                "tokens": len(watcher.current_tokens())}
    return out


@router.get("/diagnostics", summary="What support needs: modules, readers, pcscd, trust store, state")
def get_diagnostics(request: Request) -> dict[str, Any]:
    """The whole report for trusted callers, the public view for a paired site (see the module docstring)."""
    caller = caller_of(request)
    agent = request.app.state.agent
    config = getattr(agent, "config", None) or load_config()
    report = diagnostics(config, agent.state_dir)
    if not caller.trusted:
        return public_view(report)
    report["running"] = _running(agent)
    return report
