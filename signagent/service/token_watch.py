"""The token watcher: a background thread that notices tokens inserted and removed and certificates changing, and
tells the event bus (``token-inserted``, ``token-removed``, ``certificates-changed``) and the agent (``on_change``,
which invalidates the certificate cache).

Every ``interval`` seconds (default 2) it takes a snapshot of this machine's sources -- ``{(kind, serial, label):
frozenset of certificate ids}`` -- and compares it with the previous one. Polls are cheap and never log in:

* PKCS#11: C_GetSlotList (token present) and the certificate objects of each token, through modules found by
  :func:`signagent.tokens.pkcs11.discover_modules` (plus ``extra_modules``, e.g. the configuration's). The modules
  stay loaded between polls: loading is the costly part (measured with the simulator's module: 1.9 ms for load +
  list + unload against 0.8 ms for a listing on a loaded module, 0.2 ms for the slot list alone; vendor modules
  start threads and talk to pcscd in C_Initialize, and repeated load/unload is where modules leak). A module
  whose slots are fixed at C_Initialize would never show a new reader's slot, so the modules are loaded afresh
  every ``module_refresh`` seconds (default 60), and a module path that appears (or a module that failed to load)
  is tried again at every poll. The simulator's module needs none of this: it scans ``$PKCS11_SIM_DIR`` at every
  C_GetSlotList, so a token directory added or removed is seen at the next poll.
* PC/SC: one SCardGetStatusChange for every reader; a card is read over APDUs (PKCS#15, no PIN) only when its
  reader's ATR changed, then remembered. A card that is the same token as a PKCS#11 token
  (:func:`signagent.tokens.discovery.same_serial`) is that token, as in discovery; a card that is busy is tried
  again at the next poll (bounded by the PC/SC busy timeout); no PC/SC service means no cards, without an error.
* The key directory (``kind`` "file"): listed again only when its files' names, sizes or times changed.

A poll that fails is logged (the error's code and message, which carry no secret) and the loop goes on with the
last snapshot. A token whose certificates cannot be read this time keeps its last known list.

Exports: TokenWatcher, TokenChange, TokenKey, diff, DEFAULT_INTERVAL, DEFAULT_MODULE_REFRESH.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from signagent.errors import SignAgentError
from signagent.tokens.discovery import same_serial
from signagent.tokens.errors import TokenRemovedError

from .events import CERTIFICATES_CHANGED, TOKEN_INSERTED, TOKEN_REMOVED, EventBus

__all__ = ["DEFAULT_INTERVAL", "DEFAULT_MODULE_REFRESH", "TokenChange", "TokenKey", "TokenWatcher", "diff"]

log = logging.getLogger(__name__)

#: A token as the watcher names it: (kind -- "pkcs11", "pcsc" or "file" --, serial, label).
TokenKey = tuple[str, str, str]
Snapshot = dict[TokenKey, frozenset[str]]

DEFAULT_INTERVAL = 2.0
DEFAULT_MODULE_REFRESH = 60.0


@dataclass(frozen=True)
class TokenChange:
    """One difference between two snapshots: ``event`` is the event kind published for it, ``token`` the token,
    ``certificates`` its certificate ids now (empty when removed) and ``before`` the ids it had."""

    event: str
    token: TokenKey
    certificates: frozenset[str]
    before: frozenset[str]

    def to_data(self) -> dict[str, object]:
        """The event's data: the token's ``kind``, ``serial``, ``label`` and ``certificates`` (sorted ids; for a
        removed token, the ones it had), plus ``added`` and ``removed`` ids for ``certificates-changed``."""
        kind, serial, label = self.token
        ids = self.before if self.event == TOKEN_REMOVED else self.certificates
        data: dict[str, object] = {"kind": kind, "serial": serial, "label": label, "certificates": sorted(ids)}
        if self.event == CERTIFICATES_CHANGED:
            data["added"] = sorted(self.certificates - self.before)
            data["removed"] = sorted(self.before - self.certificates)
        return data


def diff(before: Snapshot, after: Snapshot) -> list[TokenChange]:
    """The changes from ``before`` to ``after``: removed tokens first, then inserted, then changed certificates."""
    out = [TokenChange(TOKEN_REMOVED, k, frozenset(), before[k]) for k in sorted(before) if k not in after]
    out += [TokenChange(TOKEN_INSERTED, k, after[k], frozenset()) for k in sorted(after) if k not in before]
    out += [TokenChange(CERTIFICATES_CHANGED, k, after[k], before[k]) for k in sorted(after)
            if k in before and before[k] != after[k]]
    return out


def _one_per_serial(tokens: list[tuple[TokenKey, frozenset[str]]]) -> list[tuple[TokenKey, frozenset[str]]]:
    """One entry per physical token when several modules show it (e.g. its vendor's module and OpenSC): the first,
    in module order, that shows certificates, else the first."""
    out: list[tuple[TokenKey, frozenset[str]]] = []
    for key, ids in tokens:
        twin = next((i for i, (k, _) in enumerate(out) if same_serial(k[1], key[1])), None)
        if twin is None:
            out.append((key, ids))
        elif ids and not out[twin][1]:
            out[twin] = (key, ids)
    return out


def _ids(token: Any) -> frozenset[str]:
    return frozenset(c.cert_id for c in token.certificates())


class TokenWatcher:
    """Polls this machine's tokens in a background thread; see the module docstring."""

    def __init__(self, bus: EventBus | None = None, *, interval: float = DEFAULT_INTERVAL,
                 extra_modules: Iterable[str] = (), keys_dir: str | os.PathLike[str] | None = None,
                 on_change: Callable[[list[TokenChange]], None] | None = None, watch_cards: bool = True,
                 watch_key_files: bool = True, module_refresh: float = DEFAULT_MODULE_REFRESH) -> None:
        """``bus`` receives the events (none when None); ``on_change(changes)`` is called on the watcher's thread
        after each poll that found a difference (an exception in it is logged). ``extra_modules`` are PKCS#11
        modules besides the discovered ones, ``keys_dir`` the key directory (default: the user's);
        ``watch_cards`` / ``watch_key_files`` switch those sources off."""
        if not interval > 0:
            raise ValueError("the poll interval must be more than 0 seconds")
        self.bus = bus
        self.interval = float(interval)
        self.extra_modules = tuple(extra_modules)
        self.keys_dir = keys_dir
        self.on_change = on_change
        self.watch_cards = watch_cards
        self.watch_key_files = watch_key_files
        self.module_refresh = module_refresh
        self._lock = threading.Lock()
        self._snapshot: Snapshot = {}
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._polls = 0
        # Owned by the watcher's thread (or by poll() while no thread runs):
        self._modules: dict[str, Any] = {}
        self._modules_loaded_at = 0.0
        self._cards: dict[str, tuple[bytes, TokenKey, frozenset[str]] | None] = {}  # reader -> (ATR, token, ids)
        self._files: tuple[tuple[Any, ...], TokenKey, frozenset[str]] | None = None

    # --- what it saw ---------------------------------------------------------------------------------------------
    def snapshot(self) -> dict[TokenKey, frozenset[str]]:
        """The tokens present at the last poll, each with its certificate ids."""
        with self._lock:
            return dict(self._snapshot)

    def current_tokens(self) -> set[TokenKey]:
        """The tokens present at the last poll (to tell whether a pending request's token is still there)."""
        with self._lock:
            return set(self._snapshot)

    def is_present(self, *, serial: str | None = None, cert_id: str | None = None) -> bool:
        """Whether a token with this serial (compared as :func:`same_serial` does) and/or holding certificate
        ``cert_id`` was present at the last poll."""
        for (_kind, token_serial, _label), ids in self.snapshot().items():
            if (serial is None or same_serial(serial, token_serial)) and (cert_id is None or cert_id in ids):
                return True
        return False

    @property
    def polls(self) -> int:
        """How many polls have completed (successfully or not)."""
        with self._lock:
            return self._polls

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until the first poll has completed (the baseline snapshot); False if ``timeout`` passed first."""
        return self._ready.wait(timeout)

    # --- lifecycle -----------------------------------------------------------------------------------------------
    def start(self) -> TokenWatcher:
        """Start the thread (idempotent); its first poll takes the baseline without publishing. Returns self."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="signagent-token-watch", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread (it wakes at once; a poll under way finishes first), wait at most ``timeout`` seconds,
        and unload the modules it kept."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("the token watcher did not stop within %s s", timeout)
                return  # its modules stay with it; it unloads them when its poll ends
        self._close_modules()

    def __enter__(self) -> TokenWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        first = True
        try:
            while not self._stop.is_set():
                self._poll_logged(publish=not first)
                first = False
                self._ready.set()
                self._stop.wait(self.interval)
        finally:
            if self._stop.is_set():
                self._close_modules()

    def _poll_logged(self, publish: bool) -> None:
        try:
            self.poll(publish=publish)
        except SignAgentError as exc:
            log.warning("token poll failed: %s: %s", exc.code, exc.message)
        except Exception as exc:  # never let the thread die; the type only (a message might carry anything)
            log.warning("token poll failed: %s", type(exc).__name__)
        finally:
            with self._lock:
                self._polls += 1

    # --- one poll ------------------------------------------------------------------------------------------------
    def poll(self, publish: bool = True) -> list[TokenChange]:
        """Take a snapshot now, publish the differences (unless ``publish`` is False) and return them. Used by
        the thread; call it directly only while the thread is not running."""
        after = self._take_snapshot()
        with self._lock:
            before, self._snapshot = self._snapshot, after
        changes = diff(before, after)
        if not (publish and changes):
            return changes
        if self.bus is not None:
            for change in changes:
                self.bus.publish(change.event, change.to_data())
        if self.on_change is not None:
            try:
                self.on_change(changes)
            except Exception as exc:
                log.warning("token watcher callback failed: %s", type(exc).__name__)
        return changes

    def _take_snapshot(self) -> Snapshot:
        previous = self.snapshot()
        snapshot: Snapshot = {}
        pkcs11_tokens: list[tuple[TokenKey, frozenset[str]]] = []
        for module in self._current_modules():
            try:
                tokens = module.tokens()
            except SignAgentError as exc:
                log.info("PKCS#11 module %s: %s", module.path, exc.code)
                tokens = []
            for token in tokens:
                key: TokenKey = ("pkcs11", token.serial, token.label)
                try:
                    ids = _ids(token)
                except TokenRemovedError:
                    continue  # pulled out during the poll
                except SignAgentError as exc:
                    log.info("token %s: %s", token.serial, exc.code)
                    ids = previous.get(key, frozenset())
                pkcs11_tokens.append((key, ids))
        pkcs11_tokens = _one_per_serial(pkcs11_tokens)
        snapshot.update(pkcs11_tokens)
        if self.watch_cards:
            for key, ids in self._card_tokens():
                same = [k for k, k_ids in pkcs11_tokens if same_serial(k[1], key[1])]
                if not same:
                    snapshot[key] = ids
                elif ids and not any(snapshot.get(k) for k in same):
                    # The PKCS#11 view shows no certificate while the card does: the card is the token (discovery).
                    for k in same:
                        snapshot.pop(k, None)
                    snapshot[key] = ids
        if self.watch_key_files:
            files = self._key_files()
            if files is not None:
                snapshot[files[0]] = files[1]
        return snapshot

    # PKCS#11 modules, kept loaded between polls
    def _current_modules(self) -> list[Any]:
        from signagent.tokens.errors import ModuleLoadError
        from signagent.tokens.pkcs11 import Pkcs11Module, discover_modules

        now = time.monotonic()
        if self._modules and now - self._modules_loaded_at >= self.module_refresh:
            self._close_modules()
        if not self._modules:
            self._modules_loaded_at = now
        paths = discover_modules(self.extra_modules)
        for path in [p for p in self._modules if p not in paths]:
            self._modules.pop(path).close()
        for path in paths:
            if path not in self._modules:
                try:
                    self._modules[path] = Pkcs11Module(path)
                except ModuleLoadError:
                    continue  # tried again at the next poll; diagnostics tells why
        return list(self._modules.values())

    def _close_modules(self) -> None:
        modules, self._modules = list(self._modules.values()), {}
        for module in modules:
            try:
                module.close()
            except Exception as exc:
                log.warning("closing a PKCS#11 module failed: %s", type(exc).__name__)

    # PC/SC cards, read again only when a reader's ATR changes
    def _card_tokens(self) -> list[tuple[TokenKey, frozenset[str]]]:
        from signagent.tokens.pcsc import PcscUnavailableError, reader_states
        from signagent.tokens.pkcs15 import Pkcs15Error, Pkcs15Token

        try:
            states = reader_states()
        except PcscUnavailableError:
            self._cards.clear()
            return []
        present = {s.name: s.atr or b"" for s in states if s.present}
        for reader in [r for r in self._cards if r not in present]:
            del self._cards[reader]
        out: list[tuple[TokenKey, frozenset[str]]] = []
        for reader, atr in present.items():
            known = self._cards.get(reader, False)
            if known is None or (known and known[0] == atr):
                if known:
                    out.append((known[1], known[2]))
                continue  # not a PKCS#15 card (remembered as None), or the same card as before
            try:
                card = Pkcs15Token(reader)
                key: TokenKey = ("pcsc", card.serial, card.label)
                entry = (atr, key, _ids(card))
            except Pkcs15Error:
                self._cards[reader] = None  # not PKCS#15: looked at again when its ATR changes
                continue
            except SignAgentError as exc:  # busy, pulled out, unreadable: tried again at the next poll
                log.info("card in %s: %s", reader, exc.code)
                self._cards.pop(reader, None)
                continue
            self._cards[reader] = entry
            out.append((entry[1], entry[2]))
        return out

    # the key directory, listed again only when its files change
    def _key_files(self) -> tuple[TokenKey, frozenset[str]] | None:
        from signagent.pkcs8.keyfile import load_private_key
        from signagent.tokens.softkeys import SoftKeyDirectory

        directory = SoftKeyDirectory(load_private_key, self.keys_dir)
        key: TokenKey = ("file", directory.serial, directory.label)
        where = str(Path(directory.directory).absolute())
        stamp = (where, _stamp(directory.directory))
        if self._files is not None and self._files[0] == stamp:
            return self._files[1], self._files[2]
        ids = _ids(directory) if stamp[1] else frozenset()
        self._files = (stamp, key, ids)
        return key, ids


def _stamp(directory: str | os.PathLike[str]) -> tuple[tuple[str, int, int], ...]:
    """(name, size, modification time) of every file in ``directory``; empty when it cannot be read."""
    out = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return ()
    for entry in entries:
        try:
            if entry.is_file():
                info = entry.stat()
                out.append((entry.name, info.st_size, info.st_mtime_ns))
        except OSError:
            continue  # gone meanwhile
    return tuple(sorted(out))
