"""The certificate inventory as the running agent serves it (``GET /v1/certificates``): built once, kept, and
built again when the tokens change (the token watcher invalidates it) or when it is older than ``ttl`` seconds.

Listing every token takes tens of milliseconds to seconds (module loads, card reads, chain validation); a page
asking twice a second must not pay that each time, so the JSON document is kept ready. One rebuild runs at a time;
callers arriving meanwhile wait for it rather than starting their own (a burst of requests lists the tokens once).

Exports: InventoryCache, certificate_document.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from .access import CertificateNotFoundError
from .config import Config
from .inventory import Inventory, InventoryEntry, collect_inventory
from .policy import pkcs11_modules, store_material
from .reports import owner_name

__all__ = ["MIN_LOOKUP_REBUILD_INTERVAL", "InventoryCache", "certificate_document"]

#: Least age (seconds) of the inventory before looking up an id it lacks lists the tokens again: a certificate
#: just inserted is found at once, but a page asking for random ids does not make the agent read every token on
#: each request.
MIN_LOOKUP_REBUILD_INTERVAL = 2.0


def certificate_document(entry: InventoryEntry) -> dict[str, Any]:
    """The inventory entry as the API shows it: :meth:`InventoryEntry.to_dict` plus the owner's short name, the
    organisation, the SHA-1 thumbprint (what CryptoPro shows) and the certificate (base64 DER)."""
    doc = entry.to_dict()
    cert = entry.certificate
    doc["owner_name"] = owner_name(cert)
    doc["organisation"] = entry.identity.get("organization")
    doc["sha1"] = cert.sha1_thumbprint
    doc["certificate"] = base64.b64encode(cert.der).decode("ascii")
    return doc


class InventoryCache:
    """The inventory of ``config``'s sources, chains checked against the trust store plus ``trust_roots``."""

    def __init__(self, config: Config, *, trust_roots: Iterable[object] = (), intermediates: Iterable[object] = (),
                 ttl: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._config = config
        self._roots, self._intermediates = list(trust_roots), list(intermediates)
        self._ttl, self._clock = ttl, clock
        self._lock = threading.Lock()
        self._built: tuple[float, Inventory, bytes] | None = None
        self._generation = 0

    def invalidate(self) -> None:
        """Forget the inventory: the next call lists the tokens again."""
        with self._lock:
            self._built = None
            self._generation += 1

    def _build(self) -> Inventory:
        config = self._config
        store = store_material(config)
        return collect_inventory(
            use_trust_store=False, trust_roots=self._roots + store["trust_roots"],
            intermediates=self._intermediates + store["intermediates"], crls=store["crls"],
            extra_modules=pkcs11_modules(config), keys_dir=str(config.keys_dir), offline=True,
            revocation="off")

    def _built_within(self, seconds: float) -> tuple[float, Inventory, bytes] | None:
        """The inventory built, if it is younger than ``seconds`` (called with the lock held)."""
        built = self._built
        return built if built is not None and self._clock() - built[0] < seconds else None

    def _current(self) -> tuple[Inventory, bytes]:
        with self._lock:  # one rebuild at a time; the others wait for its result
            built = self._built_within(self._ttl)
            if built is not None:
                return built[1], built[2]
            inventory = self._build()
            doc = inventory.to_dict()
            doc["certificates"] = [certificate_document(e) for e in inventory.entries]
            body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            self._built = (self._clock(), inventory, body)
            return inventory, body

    def inventory(self) -> Inventory:
        """The current inventory."""
        return self._current()[0]

    def json_body(self) -> bytes:
        """The inventory document, ready to send (UTF-8 JSON)."""
        return self._current()[1]

    def ready_body(self) -> bytes | None:
        """The inventory document if it is built and fresh, else None (then :meth:`json_body` builds it). Never
        waits: for an event loop, which must not block on a rebuild another thread is running."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            built = self._built_within(self._ttl)
            return None if built is None else built[2]
        finally:
            self._lock.release()

    def find(self, cert_id: str, *, with_key: bool = True) -> InventoryEntry:
        """The entry of ``cert_id`` (hex Streebog-256 id, any case), holding its private key when ``with_key``;
        looked up in a fresh listing when the cached one lacks it and is at least
        :data:`MIN_LOOKUP_REBUILD_INTERVAL` old. :class:`CertificateNotFoundError` otherwise."""
        wanted = cert_id.strip().lower() if isinstance(cert_id, str) else ""
        for fresh in (False, True):
            if fresh:
                with self._lock:
                    recent = self._built_within(MIN_LOOKUP_REBUILD_INTERVAL)
                if recent is not None:
                    break  # listed moments ago: the id is not there
                self.invalidate()
            matches = [e for e in self.inventory().entries if e.id == wanted]
            keyed = [e for e in matches if e.has_private_key]
            if keyed or (matches and not with_key):
                return (keyed or matches)[0]
        shown = wanted[:64] or "-"
        if matches:
            raise CertificateNotFoundError(situation="no_key", cert_id=shown)
        raise CertificateNotFoundError(cert_id=shown)
