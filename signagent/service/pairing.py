"""The list of paired sites: web origins the user allowed, in the agent's own page, to use the agent.

DESIGN.md section 5: the list is persisted (JSON in the state directory, replaced atomically so a crash leaves
the old list or the new one, mode 0600) and revocable. Origins are stored normalized (:mod:`.origins`), so a
lookup is a string comparison. One process owns the file; a lock guards the in-memory set against the server's
threads.

Exports: PAIRINGS_FILE, PairingStore.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

from signagent.errors import InvalidInputError
from signagent.fileio import read_capped, write_atomic

from .access import OriginNotPairedError
from .origins import normalize_client_origin

__all__ = ["PAIRINGS_FILE", "PairingStore"]

PAIRINGS_FILE = "pairings.json"
_FORMAT = 1
_MAX_FILE = 1 << 20


def _checked_key(text: object) -> str:
    if not isinstance(text, str) or len(text) != 64 or text.strip("0123456789abcdef"):
        raise ValueError("an extension key is the SHA-256 of the key, in lower-case hex")
    return text


class PairingStore:
    """The paired origins of one state directory: ``{"format": 1, "pairings": [{"origin", "paired_at"}]}``; a
    paired browser extension's entry also holds ``extension_key``, the SHA-256 (hex) of the key it identifies
    itself with (Chromium sends no ``Origin`` with an extension's GET requests: signagent.api.security, rule 3a)."""

    def __init__(self, state_dir: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(state_dir) / PAIRINGS_FILE
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, str] = {}  # extension_key -> the extension's origin
        self._pairings: dict[str, float] = self._load()

    def _load(self) -> dict[str, float]:
        if not self.path.exists():
            return {}
        try:
            doc = json.loads(read_capped(self.path, _MAX_FILE, "pairing list"))
            pairings = {}
            for p in doc["pairings"]:
                origin = normalize_client_origin(p["origin"])
                pairings[origin] = float(p["paired_at"])
                if p.get("extension_key") is not None:
                    self._keys[_checked_key(p["extension_key"])] = origin
            return pairings
        except (ValueError, KeyError, TypeError) as exc:
            # A damaged list must not pair anyone by accident: refuse to start rather than guess.
            raise InvalidInputError(f"{self.path}: the pairing list is damaged ({exc})",
                                    message_ru=f"{self.path}: список подключённых сайтов повреждён") from None

    def _save(self) -> None:
        keys = {origin: key for key, origin in self._keys.items()}
        pairings = [{"origin": o, "paired_at": t, **({"extension_key": keys[o]} if o in keys else {})}
                    for o, t in sorted(self._pairings.items())]
        doc = {"format": _FORMAT, "pairings": pairings}
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(self.path, json.dumps(doc, indent=2).encode("utf-8") + b"\n", mode=0o600)

    def is_paired(self, origin: str) -> bool:
        """Whether ``origin`` (already normalized) is paired."""
        with self._lock:
            return origin in self._pairings

    def add(self, origin: str, *, extension_key: str | None = None) -> None:
        """Pair ``origin`` (normalized here) and persist the list; ``extension_key``: the SHA-256 (hex) of a browser
        extension's key, replacing the one it had."""
        origin = normalize_client_origin(origin)
        with self._lock:
            self._pairings.setdefault(origin, self._clock())
            if extension_key is not None:
                self._drop_keys(origin)
                self._keys[_checked_key(extension_key)] = origin
            self._save()

    def extension_of(self, extension_key: str) -> str | None:
        """The paired extension whose key has SHA-256 ``extension_key`` (hex), or None."""
        with self._lock:
            return self._keys.get(extension_key)

    def _drop_keys(self, origin: str) -> None:
        for key in [k for k, o in self._keys.items() if o == origin]:
            del self._keys[key]

    def revoke(self, origin: str) -> None:
        """Unpair ``origin``; :class:`OriginNotPairedError` when it was not paired."""
        origin = normalize_client_origin(origin)
        with self._lock:
            if self._pairings.pop(origin, None) is None:
                raise OriginNotPairedError(situation="not_in_list", origin=origin)
            self._drop_keys(origin)
            self._save()

    def list(self) -> list[dict[str, object]]:
        """``[{"origin", "paired_at"}]``, sorted by origin."""
        with self._lock:
            return [{"origin": o, "paired_at": t} for o, t in sorted(self._pairings.items())]
