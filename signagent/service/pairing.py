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
from .origins import normalize_origin

__all__ = ["PAIRINGS_FILE", "PairingStore"]

PAIRINGS_FILE = "pairings.json"
_FORMAT = 1
_MAX_FILE = 1 << 20


class PairingStore:
    """The paired origins of one state directory: ``{"format": 1, "pairings": [{"origin", "paired_at"}]}``."""

    def __init__(self, state_dir: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(state_dir) / PAIRINGS_FILE
        self._clock = clock
        self._lock = threading.Lock()
        self._pairings: dict[str, float] = self._load()

    def _load(self) -> dict[str, float]:
        if not self.path.exists():
            return {}
        try:
            doc = json.loads(read_capped(self.path, _MAX_FILE, "pairing list"))
            return {normalize_origin(p["origin"]): float(p["paired_at"]) for p in doc["pairings"]}
        except (ValueError, KeyError, TypeError) as exc:
            # A damaged list must not pair anyone by accident: refuse to start rather than guess.
            raise InvalidInputError(f"{self.path}: the pairing list is damaged ({exc})",
                                    message_ru=f"{self.path}: список подключённых сайтов повреждён") from None

    def _save(self) -> None:
        pairings = [{"origin": o, "paired_at": t} for o, t in sorted(self._pairings.items())]
        doc = {"format": _FORMAT, "pairings": pairings}
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(self.path, json.dumps(doc, indent=2).encode("utf-8") + b"\n", mode=0o600)

    def is_paired(self, origin: str) -> bool:
        """Whether ``origin`` (already normalized) is paired."""
        with self._lock:
            return origin in self._pairings

    def add(self, origin: str) -> None:
        """Pair ``origin`` (normalized here) and persist the list."""
        origin = normalize_origin(origin)
        with self._lock:
            self._pairings.setdefault(origin, self._clock())
            self._save()

    def revoke(self, origin: str) -> None:
        """Unpair ``origin``; :class:`OriginNotPairedError` when it was not paired."""
        origin = normalize_origin(origin)
        with self._lock:
            if self._pairings.pop(origin, None) is None:
                raise OriginNotPairedError(situation="not_in_list", origin=origin)
            self._save()

    def list(self) -> list[dict[str, object]]:
        """``[{"origin", "paired_at"}]``, sorted by origin."""
        with self._lock:
            return [{"origin": o, "paired_at": t} for o, t in sorted(self._pairings.items())]
