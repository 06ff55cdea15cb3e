"""How a portal instance is set up: where its data lives, its own origin, the agent's port, the database, what
signatures are checked against and which register answers ЕГРЮЛ/ЕГРИП questions.

Exports: PortalSettings, default_data_dir.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .verification import Trust

__all__ = ["PortalSettings", "default_data_dir"]


def default_data_dir() -> Path:
    """``$PORTAL_DATA_DIR``, else ``signagent-portal`` in the user's data directory."""
    given = os.environ.get("PORTAL_DATA_DIR")
    if given:
        return Path(given)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "signagent-portal"


@dataclass
class PortalSettings:
    """``origin``: the portal's own origin as the browser sees it (the origin the agent binds signatures to);
    ``database_url``: None = ``sqlite:///<data_dir>/portal.db``; ``registry``: the ЕГРЮЛ/ЕГРИП access
    (:func:`signagent.registration.egr.demo_registry` in the demo); ``secret``: the session key (None: made once in
    the data directory)."""

    data_dir: Path = field(default_factory=default_data_dir)
    origin: str = "http://127.0.0.1:8080"
    agent_port: int = 36985
    database_url: str | None = None
    trust: Trust = field(default_factory=Trust)
    registry: Any = None
    secret: bytes | None = None
    demo: bool = False
    demo_pin: str | None = None
    secure_cookies: bool = False  # set the cookie's Secure flag (a portal served over HTTPS)

    @property
    def agent_url(self) -> str:
        return f"http://127.0.0.1:{self.agent_port}"
