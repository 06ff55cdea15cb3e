"""What the routes and the middleware of one running agent share: its port, configuration, secret, pairing list,
consent requests, certificate inventory and audit log.

Exports: AgentContext.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from signagent.service.config import Config
from signagent.service.consent import ConsentRequests
from signagent.service.inventory_cache import InventoryCache
from signagent.service.origins import agent_origins
from signagent.service.pairing import PairingStore

from .waiters import Waiters

__all__ = ["AgentContext"]


@dataclass
class AgentContext:
    """One agent: the port it serves (Host and own-origin checks depend on it), its state directory."""

    port: int
    state_dir: Path
    secret: str
    config: Config
    pairings: PairingStore
    requests: ConsentRequests
    inventory: InventoryCache
    audit: Any = None  # signagent.service.audit.AuditLog
    events: Any = None  # signagent.service.events.EventBus
    watcher: Any = None  # signagent.service.token_watch.TokenWatcher (started by `signagent serve`)
    waiters: Waiters = field(default_factory=Waiters)
    #: The home page's form token (revoke buttons): a page of the agent, not a site, posts them.
    home_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    own_origins: frozenset[str] = field(init=False)
    allowed_hosts: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.own_origins = agent_origins(self.port)
        self.allowed_hosts = frozenset({f"127.0.0.1:{self.port}", f"localhost:{self.port}"})

    @property
    def base_url(self) -> str:
        """The address the agent's pages are opened at."""
        return f"http://127.0.0.1:{self.port}"

    def record(self, operation: str, result: str, **fields: Any) -> None:
        """One line of the audit log (DESIGN.md section 5: every request, refused ones too); never a PIN or a
        document -- callers pass ids, origins, codes and digests only."""
        if self.audit is not None:
            self.audit.append(operation=operation, result=result, **fields)
