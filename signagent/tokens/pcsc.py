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

The watchdog (a card held by another program must not stall the agent): pcsc-lite answers SCardConnect with
SCARD_E_SHARING_VIOLATION at once while another program holds the card exclusively, but *blocks* SCardConnect,
SCardTransmit and SCardBeginTransaction for as long as another program holds a transaction on it (pcsc-lite 1.9:
the client library polls the daemon in a loop, and SCardCancel only cancels SCardGetStatusChange). So every call of a
:class:`CardConnection` runs in a helper thread and is given up after the busy timeout (:func:`busy_timeout`,
default :data:`DEFAULT_BUSY_TIMEOUT` seconds, :func:`set_busy_timeout` or ``connect(reader, busy_timeout=...)``),
and a sharing violation is retried until then: the operation fails with :class:`CardBusyError` (``card_busy``)
instead of waiting forever. A call given up on keeps its thread until pcsc-lite returns; that thread then
disconnects and releases the connection's context itself (the context cannot be used meanwhile), and while it
waits, new connections to the same reader fail with ``card_busy`` at once, so stuck threads never pile up.

Exports: PcscUnavailableError, CardIoError, CardRemovedError, CardBusyError, CardModel, ATR_MODELS, identify_atr,
ReaderState, list_readers, reader_states, CardConnection, connect, DEFAULT_BUSY_TIMEOUT, busy_timeout,
set_busy_timeout, CardEvent, CardEventPublisher (subscribers are called in subscription order).
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
    "DEFAULT_BUSY_TIMEOUT",
    "CardBusyError",
    "CardConnection",
    "CardEvent",
    "CardEventPublisher",
    "CardIoError",
    "CardModel",
    "CardRemovedError",
    "PcscUnavailableError",
    "ReaderState",
    "busy_timeout",
    "connect",
    "identify_atr",
    "list_readers",
    "reader_states",
    "set_busy_timeout",
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


# --- the watchdog -----------------------------------------------------------------------------------------------------
#: Seconds an operation on a card may wait for another program that holds it (see the module docstring).
DEFAULT_BUSY_TIMEOUT = 5.0
_SHARING_RETRY = 0.1  # seconds between attempts while another program holds the card exclusively
_MIN_ATTEMPT = 0.05  # seconds every attempt gets, even the last one before the deadline
_busy_timeout = DEFAULT_BUSY_TIMEOUT
_stuck_lock = threading.Lock()
_stuck: dict[str, int] = {}  # reader -> calls given up on whose thread is still inside pcsc-lite


def busy_timeout() -> float:
    """The busy timeout connections use unless given their own (seconds)."""
    return _busy_timeout


def set_busy_timeout(seconds: float) -> None:
    """Set the busy timeout of connections made from now on (seconds, more than 0; the agent's configuration)."""
    global _busy_timeout
    value = float(seconds)
    if not value > 0:
        raise ValueError("the busy timeout must be more than 0 seconds")
    _busy_timeout = value


def _busy(reader: str, seconds: float, what: str) -> CardBusyError:
    return CardBusyError(f"the card in {reader} is in use by another program (still busy after {seconds:g} s: {what})",
                         reader=reader, waited=f"{seconds:g}", operation=what)


class _GivenUp(Exception):
    """A bounded call did not return in time, or was not started because the reader has a stuck call (internal:
    turned into CardBusyError by the caller). ``handed_off``: a helper thread now owns the call's resources."""

    def __init__(self, handed_off: bool) -> None:
        super().__init__()
        self.handed_off = handed_off


def _bounded(reader: str, call: Callable[[], Any], timeout: float, late: Callable[[Any], None]) -> Any:
    """``call()`` on a helper thread, its result within ``timeout`` seconds; else :class:`_GivenUp`, and ``late``
    receives the result (or None when it raised) on that thread once pcsc-lite finally returns, to release what the
    call got. A reader with such a stuck call gets no new one: :class:`_GivenUp` at once."""
    with _stuck_lock:
        if _stuck.get(reader):
            raise _GivenUp(handed_off=False)
    done = threading.Event()
    lock = threading.Lock()
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = call()
        except BaseException as exc:  # handed to the waiting caller (or dropped if it left)
            box["error"] = exc
        with lock:
            done.set()
            abandoned = box.get("abandoned", False)
        if abandoned:
            try:
                late(box.get("result"))
            except Exception:
                log.exception("releasing a PC/SC call given up on failed")
            finally:
                with _stuck_lock:
                    _stuck[reader] -= 1
                    if not _stuck[reader]:
                        del _stuck[reader]

    threading.Thread(target=run, name="signagent-pcsc-call", daemon=True).start()
    if not done.wait(max(timeout, 0.0)):
        with lock:
            if not done.is_set():
                box["abandoned"] = True
                with _stuck_lock:
                    _stuck[reader] = _stuck.get(reader, 0) + 1
                raise _GivenUp(handed_off=True)
    if "error" in box:
        raise box["error"]
    return box.get("result")


# --- connections ------------------------------------------------------------------------------------------------------
class CardConnection:
    """A shared connection to the card in one reader; :meth:`transmit` sends an APDU and returns (data, SW).

    T=0 cards answer 61xx ("more data, use GET RESPONSE") and 6Cxx ("wrong Le, use xx"); :meth:`transmit` handles
    both (ISO/IEC 7816-3 section 10.3.5 / ISO/IEC 7816-4 section 5.1.3) so callers always see the full answer.

    Connecting, each APDU and the start of a transaction wait at most ``busy_timeout`` seconds for another program
    holding the card (:class:`CardBusyError` then); a connection whose call was given up on is closed.
    """

    def __init__(self, reader: str, *, busy_timeout: float | None = None) -> None:
        """Connect to the card in ``reader`` (shared mode, T=0 or T=1), waiting at most ``busy_timeout`` seconds
        (default: :func:`busy_timeout`) while another program holds it."""
        s = _scard()
        self.reader = reader
        self.busy_timeout = _busy_timeout if busy_timeout is None else float(busy_timeout)
        self._lock = threading.RLock()
        self._card: int | None = None
        self._ctx: int | None = None
        rv, ctx = s.SCardEstablishContext(s.SCARD_SCOPE_USER)
        _check(rv, "SCardEstablishContext")
        self._ctx = ctx
        try:
            self._card, self._protocol = self._connect(ctx)
            self.atr = self._status_atr()
        except BaseException:
            self._drop(reset=False)
            raise
        self.model = identify_atr(self.atr)

    def _connect(self, ctx: int) -> tuple[int, int]:
        """SCardConnect, retried while another program holds the card exclusively, bounded by the busy timeout."""
        s = _scard()
        deadline = time.monotonic() + self.busy_timeout

        def late(result: Any) -> None:  # the connection pcsc-lite gave after we left: nobody uses it
            if result is not None and _u32(result[0]) == _u32(s.SCARD_S_SUCCESS):
                s.SCardDisconnect(result[1], s.SCARD_LEAVE_CARD)
            s.SCardReleaseContext(ctx)

        while True:
            left = max(deadline - time.monotonic(), _MIN_ATTEMPT)
            try:
                rv, card, protocol = _bounded(self.reader, lambda: s.SCardConnect(
                    ctx, self.reader, s.SCARD_SHARE_SHARED, s.SCARD_PROTOCOL_T0 | s.SCARD_PROTOCOL_T1), left, late)
            except _GivenUp as given_up:
                if given_up.handed_off:
                    self._ctx = None  # released by the thread still inside SCardConnect, once it returns
                raise _busy(self.reader, self.busy_timeout, "SCardConnect") from None
            if _u32(rv) == _u32(s.SCARD_E_SHARING_VIOLATION) and time.monotonic() < deadline:
                time.sleep(min(_SHARING_RETRY, max(deadline - time.monotonic(), 0.0)))
                continue
            if _u32(rv) == _u32(s.SCARD_E_SHARING_VIOLATION):
                raise _busy(self.reader, self.busy_timeout, "SCardConnect")
            _check(rv, "SCardConnect", self.reader)
            return card, protocol

    def _call(self, what: str, fn: Callable[[int], Any], *, retry_sharing: bool = True) -> Any:
        """``fn(card)`` bounded by the busy timeout and retried on a sharing violation; its raw return value.
        Given up on: the connection is handed to the stuck thread (which resets and releases it) and is closed."""
        s = _scard()
        card, ctx = self._card, self._ctx
        if card is None:
            raise CardIoError(situation="closed")
        deadline = time.monotonic() + self.busy_timeout

        def late(_result: Any) -> None:  # a VERIFY may have passed: reset, so no security state is left behind
            s.SCardDisconnect(card, s.SCARD_RESET_CARD)
            if ctx is not None:
                s.SCardReleaseContext(ctx)

        while True:
            try:
                out = _bounded(self.reader, lambda: fn(card), max(deadline - time.monotonic(), _MIN_ATTEMPT), late)
            except _GivenUp as given_up:
                if given_up.handed_off:
                    self._card = self._ctx = None  # the stuck thread resets and releases them
                raise _busy(self.reader, self.busy_timeout, what) from None
            rv = out[0] if isinstance(out, tuple | list) else out
            if retry_sharing and _u32(rv) == _u32(s.SCARD_E_SHARING_VIOLATION):
                if time.monotonic() >= deadline:
                    raise _busy(self.reader, self.busy_timeout, what)
                time.sleep(min(_SHARING_RETRY, max(deadline - time.monotonic(), 0.0)))
                continue
            return out

    def _status_atr(self) -> bytes:
        rv, _reader, _state, _protocol, atr = self._call("SCardStatus", _scard().SCardStatus)
        _check(rv, "SCardStatus", self.reader)
        return bytes(atr)

    def _raw(self, apdu: bytes) -> tuple[bytes, int]:
        s = _scard()
        rv, response = self._call("SCardTransmit", lambda card: s.SCardTransmit(card, self._protocol, list(apdu)))
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
            rv, protocol = self._call("SCardReconnect", lambda card: s.SCardReconnect(
                card, s.SCARD_SHARE_SHARED, s.SCARD_PROTOCOL_T0 | s.SCARD_PROTOCOL_T1, how))
            _check(rv, "SCardReconnect", self.reader)
            self._protocol = protocol

    @contextlib.contextmanager
    def transaction(self) -> Iterator[CardConnection]:
        """Exclusive access for a sequence of commands (VERIFY then PSO must not be interleaved by others); waits
        at most the busy timeout for another program's transaction to end."""
        s = _scard()
        with self._lock:
            _check(self._call("SCardBeginTransaction", s.SCardBeginTransaction), "SCardBeginTransaction", self.reader)
            try:
                yield self
            finally:
                card = self._card
                if card is not None:
                    s.SCardEndTransaction(card, s.SCARD_LEAVE_CARD)

    def _drop(self, reset: bool) -> None:
        s = _scard()
        card, ctx, self._card, self._ctx = self._card, self._ctx, None, None
        if card is not None and reset:
            # pcsc-lite makes a resetting disconnect wait for another program's transaction to end: bounded too.
            def late(_result: Any) -> None:
                if ctx is not None:
                    s.SCardReleaseContext(ctx)

            try:
                _bounded(self.reader, lambda: s.SCardDisconnect(card, s.SCARD_RESET_CARD), self.busy_timeout, late)
            except _GivenUp as given_up:
                log.warning("the card in %s stayed busy: the reset on closing is left to finish later", self.reader)
                if given_up.handed_off:
                    return
                s.SCardDisconnect(card, s.SCARD_LEAVE_CARD)  # a call on this reader is stuck: do not wait
        elif card is not None:
            s.SCardDisconnect(card, s.SCARD_LEAVE_CARD)
        if ctx is not None:
            s.SCardReleaseContext(ctx)

    def close(self, reset: bool = False) -> None:
        """Disconnect and release the context; safe to call twice. ``reset`` resets the card on the way out, which
        ends its security state (a verified PIN), so no other program inherits it."""
        self._drop(reset)

    def __enter__(self) -> CardConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(reader: str, *, busy_timeout: float | None = None) -> CardConnection:
    """A :class:`CardConnection` to the card in ``reader`` (use it as a context manager); ``busy_timeout`` bounds
    the wait for another program holding the card (default :func:`busy_timeout`)."""
    return CardConnection(reader, busy_timeout=busy_timeout)


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
