"""Who is calling: the security middleware decides it once per request, the routes read it.

* ``agent`` -- the agent's own pages (``Origin`` is the agent's own origin);
* ``local`` -- a local program: no ``Origin``, the right local secret;
* ``site`` -- a web page of another origin (paired or not: the routes check what they need), calling itself or
  through a paired browser extension that names the page (``via``: the extension's origin);
* ``anonymous`` -- no ``Origin`` and no secret: a top-level navigation to one of the agent's pages, nothing more.

Exports: Caller, caller_of.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from starlette.requests import Request

__all__ = ["Caller", "caller_of"]

Kind = Literal["agent", "local", "site", "anonymous"]


@dataclass(frozen=True)
class Caller:
    """The kind of caller and its normalized origin (None for local and anonymous callers); ``via``: the paired
    browser extension that relayed a site's request, None when the page called the agent itself."""

    kind: Kind
    origin: str | None = None
    paired: bool = False
    via: str | None = None
    extension_key: str | None = None  # SHA-256 (hex) of the key a browser extension calling for itself sent

    @property
    def trusted(self) -> bool:
        """The agent's own pages and local programs holding the secret may manage the agent itself."""
        return self.kind in ("agent", "local")


def caller_of(request: Request) -> Caller:
    """The caller the middleware recorded for ``request``."""
    caller = request.scope.get("state", {}).get("caller")
    assert isinstance(caller, Caller), "the security middleware runs before every route"
    return caller
