"""The login session: a signed cookie (HMAC-SHA256 of the portal's secret over the user id and an expiry),
HttpOnly, SameSite=Lax; nothing secret is in it, and a changed byte makes it worthless.

Exports: COOKIE, SessionCodec, load_secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path

__all__ = ["COOKIE", "SessionCodec", "load_secret"]

COOKIE = "portal_session"


def load_secret(data_dir: Path) -> bytes:
    """``$PORTAL_SECRET_KEY`` (text), else the file ``session-secret`` of the data directory, made once (0600)."""
    given = os.environ.get("PORTAL_SECRET_KEY")
    if given:
        return given.encode("utf-8")
    path = data_dir / "session-secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip().encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionCodec:
    """Makes and reads session cookie values for ``secret``; a session lives ``max_age`` seconds."""

    def __init__(self, secret: bytes, max_age: int = 8 * 3600) -> None:
        self._key = hashlib.sha256(b"portal-session\0" + secret).digest()
        self.max_age = max_age

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest())

    def dump(self, user_id: int, now: float | None = None) -> str:
        expires = int((time.time() if now is None else now) + self.max_age)
        body = _b64(json.dumps({"u": user_id, "e": expires}, separators=(",", ":")).encode())
        return f"{body}.{self._mac(body)}"

    def load(self, value: str | None, now: float | None = None) -> int | None:
        """The user id of a valid, unexpired cookie value; None otherwise."""
        if not value or value.count(".") != 1 or len(value) > 400:
            return None
        body, mac = value.split(".")
        if not hmac.compare_digest(mac, self._mac(body)):
            return None
        try:
            data = json.loads(_unb64(body))
            user_id, expires = int(data["u"]), int(data["e"])
        except (ValueError, KeyError, TypeError):
            return None
        return user_id if expires > (time.time() if now is None else now) else None
