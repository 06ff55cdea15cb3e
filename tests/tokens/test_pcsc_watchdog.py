"""The PC/SC watchdog of signagent.tokens.pcsc: a card held by another program (an exclusive connection, or a
transaction) makes our operations fail with ``card_busy`` after the busy timeout instead of blocking forever, a
short hold is waited out, and the agent can use the card again once the other program lets go.

The other program is a real second process talking to the same real ``pcscd`` (the simulator's virtual card in a
vpcd reader); a missing pcscd, vpcd or pyscard is a skip on a developer machine and a failure in CI. The elapsed
times checked here are bounds of the feature (it must not wait forever, it must wait a while), not performance
figures: each has seconds of slack.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from pkcs11_sim.pcsc.server import start, stop
from pkcs11_sim.provision import Provisioned, provision
from pkcs11_sim.store import SimRoot
from signagent.testpki import generate
from signagent.tokens import pcsc
from signagent.tokens.discovery import scan_cards
from signagent.tokens.pcsc import CardBusyError, CardIoError
from tests.pkcs11_sim.test_pcsc import _wait_state, pcscd  # noqa: F401  (the session fixture, reused)

PIN, SO = b"12345678", b"87654321"
READER = "Virtual PCD 00 01"
BUSY = 1.0  # seconds: the busy timeout the tests give
SLACK = 4.0  # seconds on top of BUSY that a "bounded" wait may take on a loaded machine
WAIT = 10.0  # the bound of every other wait
SELECT_PKCS15 = bytes.fromhex("00A404000CA000000063504B43532D313500")

# The other program: connects to the reader (exclusively, or shared and then begins a transaction), says "held",
# and lets go when told to on stdin (or when its stdin closes), then says "released".
_HOLDER = r"""
import sys
from smartcard import scard as s
mode, reader = sys.argv[1], sys.argv[2]
rv, ctx = s.SCardEstablishContext(s.SCARD_SCOPE_USER)
assert rv == s.SCARD_S_SUCCESS, hex(rv)
share = s.SCARD_SHARE_EXCLUSIVE if mode == "exclusive" else s.SCARD_SHARE_SHARED
rv, card, protocol = s.SCardConnect(ctx, reader, share, s.SCARD_PROTOCOL_T0 | s.SCARD_PROTOCOL_T1)
assert rv == s.SCARD_S_SUCCESS, hex(rv)
if mode == "transaction":
    assert s.SCardBeginTransaction(card) == s.SCARD_S_SUCCESS
print("held", flush=True)
sys.stdin.readline()
if mode == "transaction":
    s.SCardEndTransaction(card, s.SCARD_LEAVE_CARD)
s.SCardDisconnect(card, s.SCARD_LEAVE_CARD)
s.SCardReleaseContext(ctx)
print("released", flush=True)
"""


class Holder:
    """A second process holding the card in :data:`READER`."""

    def __init__(self, mode: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", _HOLDER, mode, READER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if line != "held":
            self.proc.kill()
            raise AssertionError(f"the holder did not get the card: {self.proc.communicate(timeout=WAIT)}")

    def release(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None and self.proc.stdout is not None
            self.proc.stdin.write("go\n")
            self.proc.stdin.flush()
            assert self.proc.stdout.readline().strip() == "released"
            self.proc.wait(WAIT)

    def __enter__(self) -> Holder:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.release()
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(WAIT)


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provisioned]:
    base = tmp_path_factory.mktemp("watchdog")
    generate(base / "pki")
    root = SimRoot(base / "sim")
    made = provision(root, label="watchdog", pin=PIN, so_pin=SO, profile="head", pki_dir=base / "pki")
    yield made
    stop(made.store)


@pytest.fixture
def card(pcscd: None, token: Provisioned) -> Iterator[Provisioned]:  # noqa: F811
    """The token as a card in :data:`READER`, removed afterwards."""
    start(token.store, 1, others=[token.store])
    _wait_state(READER, True)
    yield token
    stop(token.store)
    _wait_state(READER, False)


def guarded(call: Callable[[], object]) -> object:
    """``call()`` on a thread of its own, failing the test (instead of hanging it) when it does not return within
    the watchdog's bound: a regression must fail, not block the suite."""
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["result"] = call()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(BUSY + SLACK)
    assert not thread.is_alive(), "blocked past the busy timeout: the watchdog did not bound the call"
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box.get("result")


def _usable_again() -> None:
    """Once the other program let go, the card answers again (the stuck helper thread, if any, has finished)."""
    deadline = time.monotonic() + WAIT
    while True:
        try:
            with pcsc.connect(READER, busy_timeout=BUSY) as conn:
                assert conn.transmit(SELECT_PKCS15)[1] == 0x9000
            return
        except CardBusyError:
            assert time.monotonic() < deadline, "the card stayed busy after the other program let go"
            time.sleep(0.1)


def test_exclusive_holder_gives_card_busy_after_the_timeout(card: Provisioned) -> None:
    with Holder("exclusive"):
        began = time.monotonic()
        with pytest.raises(CardBusyError) as err:
            pcsc.connect(READER, busy_timeout=BUSY)
        took = time.monotonic() - began
        assert err.value.code == "card_busy" and err.value.retriable
        assert err.value.to_dict()["details"]["reader"] == READER  # type: ignore[index]
        assert BUSY * 0.9 <= took < BUSY + SLACK  # retried for the whole timeout, then gave up
    _usable_again()


def test_a_transaction_held_elsewhere_does_not_block_connect_forever(card: Provisioned) -> None:
    """pcsc-lite blocks SCardConnect while another program holds a transaction: the watchdog gives up."""
    with Holder("transaction"):
        began = time.monotonic()
        with pytest.raises(CardBusyError):
            guarded(lambda: pcsc.connect(READER, busy_timeout=BUSY))
        assert time.monotonic() - began < BUSY + SLACK
        # The first call is still stuck inside pcsc-lite: the next attempt on this reader fails at once, without
        # another thread.
        began = time.monotonic()
        with pytest.raises(CardBusyError):
            pcsc.connect(READER, busy_timeout=BUSY)
        assert time.monotonic() - began < BUSY
    _usable_again()


def test_a_transaction_begun_elsewhere_bounds_transmit_and_closes_the_connection(card: Provisioned) -> None:
    conn = pcsc.connect(READER, busy_timeout=BUSY)
    try:
        assert conn.transmit(SELECT_PKCS15)[1] == 0x9000
        with Holder("transaction"):
            began = time.monotonic()
            with pytest.raises(CardBusyError):
                guarded(lambda: conn.transmit(SELECT_PKCS15))
            assert time.monotonic() - began < BUSY + SLACK
            with pytest.raises(CardIoError) as closed:  # handed to the stuck thread: this connection is done
                conn.transmit(SELECT_PKCS15)
            assert closed.value.code == "card_io"
    finally:
        conn.close()
    _usable_again()


def test_a_resetting_close_does_not_wait_for_another_programs_transaction(card: Provisioned) -> None:
    """pcsc-lite makes SCardDisconnect(RESET) wait while another program holds a transaction (the signing path
    closes with a reset, so no verified PIN outlives it): the close is bounded as well."""
    conn = pcsc.connect(READER, busy_timeout=BUSY)
    assert conn.transmit(SELECT_PKCS15)[1] == 0x9000
    with Holder("transaction"):
        began = time.monotonic()
        guarded(lambda: conn.close(reset=True))
        assert time.monotonic() - began < BUSY + SLACK
        conn.close(reset=True)  # twice is fine
    _usable_again()


def test_our_transaction_waits_at_most_the_timeout(card: Provisioned) -> None:
    with pcsc.connect(READER, busy_timeout=BUSY) as conn, Holder("transaction"):
        began = time.monotonic()
        def begin() -> None:
            with conn.transaction():
                raise AssertionError("the transaction began while another program held one")

        with pytest.raises(CardBusyError):
            guarded(begin)
        assert time.monotonic() - began < BUSY + SLACK
    _usable_again()


def test_a_short_hold_is_waited_out(card: Provisioned) -> None:
    holder = Holder("exclusive")
    try:
        timer = threading.Timer(0.5, holder.release)
        timer.start()
        with pcsc.connect(READER, busy_timeout=WAIT) as conn:  # retried until the other program let go
            assert conn.transmit(SELECT_PKCS15)[1] == 0x9000
        timer.join(WAIT)
    finally:
        holder.__exit__()


def test_the_default_timeout_applies_to_discovery(card: Provisioned) -> None:
    """A card read by discovery (through PKCS#15, no timeout of its own) is reported busy, not waited on forever."""
    old = pcsc.busy_timeout()
    with pytest.raises(ValueError):
        pcsc.set_busy_timeout(0)
    pcsc.set_busy_timeout(BUSY)
    try:
        with Holder("exclusive"):
            began = time.monotonic()
            _, cards, status = scan_cards([])
            assert time.monotonic() - began < BUSY + SLACK
        assert status.available
        busy = [c for c in cards if c.reader == READER]
        assert busy and busy[0].token is None and busy[0].error is not None and busy[0].error.code == "card_busy"
    finally:
        pcsc.set_busy_timeout(old)
    assert pcsc.busy_timeout() == old == pcsc.DEFAULT_BUSY_TIMEOUT
