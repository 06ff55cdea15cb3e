"""The local secret: what a program on this computer (the command line, tests, support tools) shows the agent
instead of an ``Origin`` (DESIGN.md section 5).

A browser always sends ``Origin`` on cross-origin requests, so a request without one comes from a local program --
or from something forging a browser's request by other means. Only a process that can read the user's files can
read this secret: 32 random bytes (hex) in a file of mode 0600 in the agent's state directory, created when the
agent starts and kept across restarts, so a client configured once keeps working.

Exports: SECRET_FILE, SECRET_HEADER, load_or_create_secret, secret_matches.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from signagent.fileio import read_capped, write_atomic

__all__ = ["SECRET_FILE", "SECRET_HEADER", "load_or_create_secret", "secret_matches"]

SECRET_FILE = "api-secret"  # noqa: S105 -- a file name, not a password
SECRET_HEADER = "X-SignAgent-Secret"  # noqa: S105 -- a header name
_BYTES = 32


def load_or_create_secret(state_dir: Path) -> str:
    """The secret stored in ``state_dir`` (created, with the directory, when missing or unusable)."""
    path = Path(state_dir) / SECRET_FILE
    if path.exists():
        text = read_capped(path, 4096, "local secret").decode("ascii", "replace").strip()
        # A secret someone else could have read is no secret: only a file the user alone can read is kept.
        if len(text) == 2 * _BYTES and all(c in "0123456789abcdef" for c in text) and (
                path.stat().st_mode & 0o077) == 0:
            return text
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = secrets.token_hex(_BYTES)
    write_atomic(path, text.encode("ascii") + b"\n", mode=0o600)
    os.chmod(path, 0o600)  # write_atomic sets it already; said twice because this file is the point
    return text


def secret_matches(given: str | None, expected: str) -> bool:
    """Whether ``given`` is the secret, compared in constant time (no timing oracle on its prefix)."""
    return given is not None and hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("ascii"))
