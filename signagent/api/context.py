"""What the routes and the middleware of one running agent share: its port, secret, pairing list and requests.

Exports: AgentContext.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from signagent.service.origins import agent_origins
from signagent.service.pairing import PairingStore
from signagent.service.pairing_requests import PairingRequests

__all__ = ["AgentContext"]


@dataclass
class AgentContext:
    """One agent: the port it serves (Host and own-origin checks depend on it), its state directory."""

    port: int
    state_dir: Path
    secret: str
    pairings: PairingStore
    requests: PairingRequests
    own_origins: frozenset[str] = field(init=False)
    allowed_hosts: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.own_origins = agent_origins(self.port)
        self.allowed_hosts = frozenset({f"127.0.0.1:{self.port}", f"localhost:{self.port}"})

    @property
    def base_url(self) -> str:
        """The address the agent's pages are opened at."""
        return f"http://127.0.0.1:{self.port}"
