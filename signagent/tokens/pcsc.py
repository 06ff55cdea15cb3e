"""PC/SC through pyscard: readers, card presence, ATR -> model, card connections and insert/remove events.

Everything goes through the raw ``smartcard.scard`` bindings (SCardEstablishContext, SCardListReaders,
SCardGetStatusChange, SCardConnect, SCardTransmit -- the PC/SC Workgroup specification part 5 / pcsc-lite API),
because they return status codes rather than raising, so each code maps to one typed error here:

* no PC/SC service (pcscd not running, pyscard missing) -> :class:`PcscUnavailableError` (retriable); the event
  monitor does not raise but publishes ``service_unavailable`` and keeps retrying;
* card gone, reader gone -> :class:`CardRemovedError` (the token layer's ``TokenRemovedError``, code
  ``token_removed``); busy (another program holds it exclusively) ->
  :class:`CardBusyError`; anything else -> :class:`CardIoError`.

Every blocking call has a bound: SCardGetStatusChange is called with a timeout, and the monitor thread checks its
stop flag between calls.

Exports: PcscUnavailableError, CardIoError, CardRemovedError, CardBusyError, CardModel, ATR_MODELS, identify_atr,
ReaderState, list_readers, reader_states, CardConnection, connect, CardEvent, CardEventPublisher (subscribers are
called in subscription order).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from signagent.errors import SignAgentError

from .errors import TokenError, TokenRemovedError

__all__ = [
    "ATR_MODELS",
    "CardBusyError",
    "CardConnection",
    "CardEvent",
    "CardEventPublisher",
    "CardIoError",
    "CardModel",
    "CardRemovedError",
    "PcscUnavailableError",
    "ReaderState",
    "connect",
    "identify_atr",
    "list_readers",
    "reader_states",
]

log = logging.getLogger(__name__)


# --- errors ---------------------------------------------------------------------------------------------------------
class PcscUnavailableError(SignAgentError):
    """No PC/SC service: pcscd (or the Windows/macOS smart card service) is not running, or pyscard is missing."""

    code = "pcsc_unavailable"


class CardIoError(TokenError):
    """A PC/SC call about a reader or card failed (communication error, unresponsive card...)."""

    code = "card_io"


class CardBusyError(CardIoError):
    """Another program holds the card exclusively."""

    code = "card_busy"


# A card gone from its reader (or a reader gone) is the token layer's "token_removed", whatever the token.
CardRemovedError = TokenRemovedError


# --- the pyscard boundary -------------------------------------------------------------------------------------------
def _scard() -> Any:
    """The ``smartcard.scard`` module; PcscUnavailableError when pyscard is not installed."""
    try:
        from smartcard import scard
    except ImportError:
        raise PcscUnavailableError(situation="no_pyscard") from None
    return scard


def _u32(rv: int) -> int:
    return rv & 0xFFFFFFFF


def _check(rv: int, what: str, reader: str | None = None) -> None:
    """Raise the typed error for a non-success PC/SC return value ``rv`` of call ``what``."""
    s = _scard()
    code = _u32(rv)
    if code == _u32(s.SCARD_S_SUCCESS):
        return
    detail = f"{what}: {s.SCardGetErrorMessage(rv)} (0x{code:08X})"
    details: dict[str, object] = {"pcsc_code": f"0x{code:08X}"}
    if reader is not None:
        details["reader"] = reader
    if code in {_u32(s.SCARD_E_NO_SERVICE), _u32(s.SCARD_E_SERVICE_STOPPED), _u32(s.SCARD_E_INVALID_HANDLE)}:
        raise PcscUnavailableError(f"no PC/SC service ({detail})", **details)
    if code in {_u32(s.SCARD_W_REMOVED_CARD), _u32(s.SCARD_E_NO_SMARTCARD), _u32(s.SCARD_E_UNKNOWN_READER),
                _u32(s.SCARD_E_READER_UNAVAILABLE)}:
        raise CardRemovedError(situation="card_absent", detail=detail, **details)
    if code == _u32(s.SCARD_E_SHARING_VIOLATION):
        raise CardBusyError(f"the card is in use by another program ({detail})", **details)
    raise CardIoError(situation="pcsc", detail=detail, **details)


@contextlib.contextmanager
def _context() -> Iterator[int]:
    """One PC/SC resource manager context, released on exit."""
    s = _scard()
    rv, ctx = s.SCardEstablishContext(s.SCARD_SCOPE_USER)
    _check(rv, "SCardEstablishContext")
    try:
        yield ctx
    finally:
        s.SCardReleaseContext(ctx)


def _list(ctx: int) -> list[str]:
    s = _scard()
    rv, readers = s.SCardListReaders(ctx, [])
    if _u32(rv) == _u32(s.SCARD_E_NO_READERS_AVAILABLE):  # a service without readers is an empty list
        return []
    _check(rv, "SCardListReaders")
    return list(readers)


# --- ATR -> model -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CardModel:
    """What an ATR says the card is: ``name`` (e.g. "Rutoken ECP"), ``vendor``, ``family`` (a stable key for the
    PKCS#11 module to prefer: "rutoken", "jacarta", "esmart", "pkcs11-sim"), ``verified`` (the ATR comes from a
    cited source; False marks an entry we could not source) and ``source``."""

    name: str
    vendor: str
    family: str
    verified: bool
    source: str


def _hex(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", " "))


_OPENSC_RTECP = "OpenSC src/libopensc/card-rtecp.c (rtecp_atrs)"
_OPENSC_JACARTA = "OpenSC src/libopensc/card-jacartapki.c (jacartapki_known_atrs)"
_RUTOKEN = ("Aktiv", "rutoken")
_JACARTA = ("Aladdin R.D.", "jacarta")

# (ATR, mask or None for an exact match, model). A card matches when atr & mask == card_atr & mask, lengths equal.
ATR_MODELS: tuple[tuple[bytes, bytes | None, CardModel], ...] = (
    (_hex("3B 8B 01 52 75 74 6F 6B 65 6E 20 45 43 50 A0"), None,
     CardModel("Rutoken ECP", *_RUTOKEN, True, _OPENSC_RTECP)),
    (_hex("3B 8B 01 52 75 74 6F 6B 65 6E 20 44 53 20 C1"), None,
     CardModel("Rutoken ECP (DS)", *_RUTOKEN, True, _OPENSC_RTECP)),
    (_hex("3B 9C 96 00 52 75 74 6F 6B 65 6E 45 43 50 73 63"),
     _hex("00 00 00 00 FF FF FF FF FF FF FF FF FF FF FF FF"),
     CardModel("Rutoken ECP SC", *_RUTOKEN, True, _OPENSC_RTECP + ", T=0")),
    (_hex("3B 9C 94 80 11 40 52 75 74 6F 6B 65 6E 45 43 50 73 63 C3"),
     _hex("00 00 00 00 00 00 FF FF FF FF FF FF FF FF FF FF FF FF 00"),
     CardModel("Rutoken ECP SC", *_RUTOKEN, True, _OPENSC_RTECP + ", T=1")),
    (_hex("3B DC 18 FF 81 91 FE 1F C3 80 73 C8 21 13 66 01 06 11 59 00 01 28"), None,
     CardModel("JaCarta PKI", *_JACARTA, True, _OPENSC_JACARTA)),
    (_hex("3B DC 18 FF 81 91 FE 1F C3 80 73 C8 21 13 66 01 0B 03 52 00 05 38"), None,
     CardModel("JaCarta PKI", *_JACARTA, True, _OPENSC_JACARTA)),
    (_hex("3B 8C 80 01 80 73 C8 21 13 66 01 06 11 59 00 01 2C"), None,
     CardModel("JaCarta PKI/BIO", *_JACARTA, True, _OPENSC_JACARTA)),
    (_hex("3B 6C 00 FF 80 73 C8 21 13 66 01 06 11 59 00 01"), None,
     CardModel("JaCarta PKI/BIO", *_JACARTA, True, _OPENSC_JACARTA)),
    (_hex("3B 9F 11 81 11 3D 00 11 00 00 00 00 00 00 00 00 00 00 00 00 00 32"), None,
     CardModel("JaCarta-2 PKI", *_JACARTA, True, _OPENSC_JACARTA)),
    # The simulator's virtual card (pkcs11_sim/pcsc/card.py): T=0/T=1, historical bytes 80 then the COMPACT-TLV
    # card issuer's data '5A' = "pkcs11-sim" (ISO/IEC 7816-4 section 8.1.1.2), TCK.
    (_hex("3B 8C 80 01 80 5A 70 6B 63 73 31 31 2D 73 69 6D 86"), None,
     CardModel("pkcs11-sim virtual card", "signagent", "pkcs11-sim", True, "pkcs11_sim/pcsc/card.py")),
)

# ESMART Token: no ATR could be sourced; recognised (unverified) by "ESMART" in the ATR's historical bytes.
_ESMART = CardModel("ESMART Token", "ISBC", "esmart", False, "unverified: 'ESMART' in the historical bytes")


def identify_atr(atr: bytes) -> CardModel | None:
    """The model an ATR belongs to (table :data:`ATR_MODELS`), or None when it is not one we know."""
    atr = bytes(atr)
    for known, mask, model in ATR_MODELS:
        if len(known) != len(atr):
            continue
        if mask is None and atr == known:
            return model
        if mask is not None and all((a & m) == (k & m) for a, k, m in zip(atr, known, mask, strict=True)):
            return model
    if b"ESMART" in atr.upper():
        return _ESMART
    return None


# --- readers and presence ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReaderState:
    """One reader: ``name``, whether a card is ``present``, its ``atr`` and ``model`` (None when absent/unknown),
    ``in_use`` (another program has it open exclusively)."""

    name: str
    present: bool
    atr: bytes | None = None
    model: CardModel | None = None
    in_use: bool = False

    @property
    def model_name(self) -> str | None:
        """The model's name, or None."""
        return self.model.name if self.model else None


def list_readers() -> list[str]:
    """Names of the PC/SC readers; PcscUnavailableError when there is no PC/SC service."""
    with _context() as ctx:
        return _list(ctx)


def _state_of(name: str, event: int, atr: bytes | list[int]) -> ReaderState:
    s = _scard()
    present = bool(event & s.SCARD_STATE_PRESENT) and not bool(event & s.SCARD_STATE_MUTE)
    raw = bytes(atr) if present and atr else None
    return ReaderState(name=name, present=present, atr=raw, model=identify_atr(raw) if raw else None,
                       in_use=bool(event & s.SCARD_STATE_EXCLUSIVE))


def reader_states(timeout: float = 2.0) -> list[ReaderState]:
    """Every reader with its card's presence, ATR and model (one SCardGetStatusChange, bounded by ``timeout``)."""
    s = _scard()
    with _context() as ctx:
        names = _list(ctx)
        if not names:
            return []
        rv, states = s.SCardGetStatusChange(ctx, int(timeout * 1000),
                                            [(name, s.SCARD_STATE_UNAWARE) for name in names])
        _check(rv, "SCardGetStatusChange")
        return [_state_of(name, event, atr) for name, event, atr in states]


# --- connections ------------------------------------------------------------------------------------------------------
class CardConnection:
    """A shared connection to the card in one reader; :meth:`transmit` sends an APDU and returns (data, SW).

    T=0 cards answer 61xx ("more data, use GET RESPONSE") and 6Cxx ("wrong Le, use xx"); :meth:`transmit` handles
    both (ISO/IEC 7816-3 section 10.3.5 / ISO/IEC 7816-4 section 5.1.3) so callers always see the full answer.
    """

    def __init__(self, reader: str) -> None:
        """Connect to the card in ``reader`` (shared mode, T=0 or T=1)."""
        s = _scard()
        self.reader = reader
        self._ctx_manager = _context()
        self._ctx = self._ctx_manager.__enter__()
        self._card: int | None = None
        try:
            rv, self._card, self._protocol = s.SCardConnect(self._ctx, reader, s.SCARD_SHARE_SHARED,
                                                            s.SCARD_PROTOCOL_T0 | s.SCARD_PROTOCOL_T1)
            _check(rv, "SCardConnect", reader)
            self.atr = self._status_atr()
        except BaseException:
            self._card = None
            self._ctx_manager.__exit__(None, None, None)
            raise
        self.model = identify_atr(self.atr)
        self._lock = threading.RLock()

    def _status_atr(self) -> bytes:
        s = _scard()
        rv, _reader, _state, _protocol, atr = s.SCardStatus(self._card)
        _check(rv, "SCardStatus", self.reader)
        return bytes(atr)

    def _raw(self, apdu: bytes) -> tuple[bytes, int]:
        s = _scard()
        if self._card is None:
            raise CardIoError(situation="closed")
        rv, response = s.SCardTransmit(self._card, self._protocol, list(apdu))
        _check(rv, "SCardTransmit", self.reader)
        if len(response) < 2:
            raise CardIoError(situation="no_status")
        return bytes(response[:-2]), (response[-2] << 8) | response[-1]

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        """Send command APDU ``apdu``; return (response data, SW1SW2 as an int), GET RESPONSE chains followed."""
        with self._lock:
            data, sw = self._raw(bytes(apdu))
            if sw >> 8 == 0x6C and len(apdu) >= 4:  # wrong Le: resend the case-2 command with Le = SW2
                data, sw = self._raw(bytes(apdu[:4]) + bytes([sw & 0xFF]))
            out = data
            for _ in range(256):  # bounded: 256 x 256 bytes is far more than any answer we read
                if sw >> 8 != 0x61:
                    break
                data, sw = self._raw(bytes([apdu[0] & 0x03, 0xC0, 0x00, 0x00, sw & 0xFF]))
                out += data
            return out, sw

    def reconnect(self, reset: bool = True) -> None:
        """Warm-reset the card (``reset``) or just re-attach after another program reset it."""
        s = _scard()
        with self._lock:
            how = s.SCARD_RESET_CARD if reset else s.SCARD_LEAVE_CARD
            rv, self._protocol = s.SCardReconnect(self._card, s.SCARD_SHARE_SHARED,
                                                  s.SCARD_PROTOCOL_T0 | s.SCARD_PROTOCOL_T1, how)
            _check(rv, "SCardReconnect", self.reader)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[CardConnection]:
        """Exclusive access for a sequence of commands (VERIFY then PSO must not be interleaved by others)."""
        s = _scard()
        with self._lock:
            _check(s.SCardBeginTransaction(self._card), "SCardBeginTransaction", self.reader)
            try:
                yield self
            finally:
                s.SCardEndTransaction(self._card, s.SCARD_LEAVE_CARD)

    def close(self, reset: bool = False) -> None:
        """Disconnect and release the context; safe to call twice. ``reset`` resets the card on the way out, which
        ends its security state (a verified PIN), so no other program inherits it."""
        if self._card is not None:
            s = _scard()
            s.SCardDisconnect(self._card, s.SCARD_RESET_CARD if reset else s.SCARD_LEAVE_CARD)
            self._card = None
            self._ctx_manager.__exit__(None, None, None)

    def __enter__(self) -> CardConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(reader: str) -> CardConnection:
    """A :class:`CardConnection` to the card in ``reader`` (use it as a context manager)."""
    return CardConnection(reader)


# --- events -----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CardEvent:
    """Something changed: ``kind`` is one of ``card_inserted``, ``card_removed``, ``reader_added``,
    ``reader_removed``, ``service_unavailable``, ``service_available``; ``reader``, ``atr`` and ``model`` when they
    apply; ``at`` is the wall-clock time (seconds since the epoch)."""

    kind: str
    reader: str | None = None
    atr: bytes | None = None
    model: CardModel | None = None
    at: float = 0.0


Subscriber = Callable[[CardEvent], None]


class CardEventPublisher:
    """Watches the PC/SC readers in a background thread and calls every subscriber with each :class:`CardEvent`.

    When started it publishes a ``card_inserted`` for every card already present, so a subscriber knows the
    starting state. Without a PC/SC service it publishes ``service_unavailable`` once and retries every
    ``retry_interval`` seconds; it never raises out of the thread. Subscribers are called on the monitor thread:
    they must be quick (put the event on a queue); an exception in one is logged and does not stop the others.
    """

    def __init__(self, *, poll_interval: float = 0.3, retry_interval: float = 2.0) -> None:
        """``poll_interval`` bounds each SCardGetStatusChange (also the latency of noticing new readers and of
        :meth:`stop`); ``retry_interval`` is the pause between attempts to reach a missing PC/SC service."""
        self._poll_ms = max(int(poll_interval * 1000), 10)
        self._retry = retry_interval
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._states: dict[str, ReaderState] = {}
        self._service: bool | None = None

    # subscription
    def subscribe(self, callback: Subscriber) -> Subscriber:
        """Add ``callback`` (called with each event); returns it, for :meth:`unsubscribe`."""
        with self._lock:
            self._subscribers.append(callback)
        return callback

    def unsubscribe(self, callback: Subscriber) -> None:
        """Remove ``callback``; a callback that is not subscribed is ignored. An event already being delivered
        when this is called may still reach it."""
        with self._lock, contextlib.suppress(ValueError):
            self._subscribers.remove(callback)

    def snapshot(self) -> list[ReaderState]:
        """The readers as the monitor last saw them."""
        with self._lock:
            return list(self._states.values())

    @property
    def service_available(self) -> bool | None:
        """True/False once the monitor has tried to reach the PC/SC service; None before."""
        return self._service

    def _publish(self, event: CardEvent) -> None:
        with self._lock:
            targets = list(self._subscribers)
        for callback in targets:
            try:
                callback(event)
            except Exception:  # a broken subscriber must not stop the monitor or the others
                log.exception("card event subscriber %r failed", callback)

    # lifecycle
    def start(self) -> CardEventPublisher:
        """Start the monitor thread (idempotent); returns self."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="signagent-pcsc-events", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the monitor thread and wait for it at most ``timeout`` seconds."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> CardEventPublisher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # the thread
    def _set_service(self, available: bool, reason: str | None = None) -> None:
        if self._service == available:
            return
        self._service = available
        if not available:
            log.info("no PC/SC service: %s", reason)
            gone = self.snapshot()
            with self._lock:
                self._states.clear()
            for state in gone:
                if state.present:
                    self._publish(CardEvent("card_removed", state.name, state.atr, state.model, time.time()))
        self._publish(CardEvent("service_available" if available else "service_unavailable", at=time.time()))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with _context() as ctx:
                    self._set_service(True)
                    self._watch(ctx)
            except PcscUnavailableError as exc:
                self._set_service(False, exc.message)
                self._stop.wait(self._retry)
            except SignAgentError as exc:  # unexpected PC/SC failure: retry after a pause, never die
                log.warning("PC/SC monitor error: %s", exc.message)
                self._stop.wait(self._retry)
            except Exception:
                log.exception("PC/SC monitor failed")
                self._stop.wait(self._retry)

    def _update_readers(self, names: list[str]) -> None:
        known = set(self.snapshot_names())
        for name in names:
            if name not in known:
                with self._lock:
                    self._states[name] = ReaderState(name, False)
                self._publish(CardEvent("reader_added", name, at=time.time()))
        for name in known - set(names):
            with self._lock:
                old = self._states.pop(name)
            if old.present:
                self._publish(CardEvent("card_removed", name, old.atr, old.model, time.time()))
            self._publish(CardEvent("reader_removed", name, at=time.time()))

    def snapshot_names(self) -> list[str]:
        """Names of the readers the monitor knows."""
        with self._lock:
            return list(self._states)

    def _watch(self, ctx: int) -> None:
        s = _scard()
        seen: dict[str, int] = {}  # reader -> last event state (as the "current state" for the next call)
        while not self._stop.is_set():
            names = _list(ctx)
            self._update_readers(names)
            if not names:
                self._stop.wait(self._poll_ms / 1000)
                continue
            query = [(name, seen.get(name, s.SCARD_STATE_UNAWARE)) for name in names]
            rv, states = s.SCardGetStatusChange(ctx, self._poll_ms, query)
            code = _u32(rv)
            if code in (_u32(s.SCARD_E_TIMEOUT), _u32(s.SCARD_E_UNKNOWN_READER)):
                continue  # nothing changed, or a reader vanished between the listing and the call
            _check(rv, "SCardGetStatusChange")
            for name, event, atr in states:
                seen[name] = event & ~s.SCARD_STATE_CHANGED
                self._note(_state_of(name, event, atr))

    def _note(self, new: ReaderState) -> None:
        with self._lock:
            old = self._states.get(new.name)
            self._states[new.name] = new
        was = old is not None and old.present
        if new.present and (not was or (old is not None and old.atr != new.atr)):
            self._publish(CardEvent("card_inserted", new.name, new.atr, new.model, time.time()))
        elif was and not new.present:
            assert old is not None
            self._publish(CardEvent("card_removed", new.name, old.atr, old.model, time.time()))
