"""What the agent says about itself to a page (``GET /v1/info``): version, GOST backend, capabilities.

Exports: CAPABILITIES, agent_info.
"""

from __future__ import annotations

__all__ = ["CAPABILITIES", "agent_info"]

#: The API features this agent serves; a page checks a name here before using it (the list grows as endpoints
#: are added: certificates, sign, authenticate, events...).
CAPABILITIES: tuple[str, ...] = ("info", "pair", "requests", "certificates", "sign", "sign_batch", "sign_digest",
                                 "authenticate", "keys", "import", "delete", "validate", "events", "diagnostics",
                                 "cosign", "hash", "cadesplugin")


def agent_info() -> dict[str, object]:
    """``{"version", "gost_backend", "capabilities"}``."""
    from signagent import __version__
    from signagent.gost import backend_name

    return {"version": __version__, "gost_backend": backend_name(), "capabilities": list(CAPABILITIES)}
