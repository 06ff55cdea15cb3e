"""Managing the paired sites from this computer (``signagent pairings list | revoke``).

While an agent runs it owns the pairing list (it keeps it in memory and rewrites the file), so the list is changed
through the agent's API, with the local secret; when no agent answers on the port, the file is changed directly.
An error the agent answers with is raised again here with the agent's code and wording.

Exports: list_pairings, revoke_pairing.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from signagent.errors import SignAgentError

from .local_secret import SECRET_FILE, SECRET_HEADER
from .origins import normalize_client_origin
from .pairing import PairingStore

__all__ = ["list_pairings", "revoke_pairing"]

_TIMEOUT = 10.0


class _AgentAbsent(Exception):
    """Nothing listens on the agent's port (or no secret exists yet: no agent ever ran with this state)."""


def _call(method: str, path: str, state_dir: Path, port: int) -> object:
    import httpx

    secret_file = Path(state_dir) / SECRET_FILE
    if not secret_file.exists():
        raise _AgentAbsent
    headers = {SECRET_HEADER: secret_file.read_text(encoding="ascii").strip()}
    try:
        response = httpx.request(method, f"http://127.0.0.1:{port}{path}", headers=headers, timeout=_TIMEOUT)
    except httpx.ConnectError:
        raise _AgentAbsent from None
    body = response.json()
    if response.status_code >= 400:
        error = body["error"]
        # The agent's own error, carried over whole: same code, wording and retriability.
        raised = SignAgentError(error["message"], message_ru=error["message_ru"])
        raised.code, raised.retriable = error["code"], bool(error["retriable"])
        raise raised
    return body


def list_pairings(state_dir: Path, port: int) -> list[dict[str, object]]:
    """``[{"origin", "paired_at"}]``: from the running agent, else from the state directory's file."""
    try:
        return _call("GET", "/v1/pairings", state_dir, port)  # type: ignore[return-value]
    except _AgentAbsent:
        return PairingStore(state_dir).list()


def revoke_pairing(state_dir: Path, port: int, origin: str) -> str:
    """Unpair ``origin`` (OriginNotPairedError if it was not paired); returns it normalized."""
    normalized = normalize_client_origin(origin)
    try:
        _call("DELETE", f"/v1/pairings/{quote(normalized, safe='')}", state_dir, port)
    except _AgentAbsent:
        PairingStore(state_dir).revoke(normalized)
    return normalized
