"""signagent.tokens.pcsc: ATR -> model, readers and presence through a real pcscd with the simulator's virtual card,
insert/remove events to subscribers, and a clear typed error (never a crash or a hang) without a PC/SC service.

The pcscd fixture is the simulator suite's (it starts ``pcscd --foreground`` when none answers); a missing pcscd,
vpcd or pyscard is a skip on a developer machine and a failure in CI. Every wait is bounded.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from pkcs11_sim.pcsc.card import ATR as SIM_ATR
from pkcs11_sim.pcsc.server import start, stop
from pkcs11_sim.provision import Provisioned, provision
from pkcs11_sim.store import SimRoot
from signagent.testpki import generate
from signagent.tokens import pcsc
from signagent.tokens.pcsc import (
    CardEvent,
    CardEventPublisher,
    CardRemovedError,
    PcscUnavailableError,
    identify_atr,
)
from tests.pkcs11_sim.test_pcsc import _wait_state, pcscd  # noqa: F401  (the session fixture, reused)

PIN, SO = b"12345678", b"87654321"
READER_CARD, READER_EVENTS = 1, 0
WAIT = 5.0


def reader_name(n: int) -> str:
    return f"Virtual PCD 00 {n:02d}"


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Provisioned]]:
    """Two provisioned simulator tokens (head: 256-bit key, ip); no card server outlives the module."""
    base = tmp_path_factory.mktemp("tokens-pcsc")
    generate(base / "pki")
    root = SimRoot(base / "sim")
    made = {
        "head": provision(root, label="pcsc-head", pin=PIN, so_pin=SO, profile="head", pki_dir=base / "pki"),
        "ip": provision(root, label="pcsc-ip", pin=PIN, so_pin=SO, profile="ip", pki_dir=base / "pki"),
    }
    yield made
    for store in root.tokens():
        stop(store)


@pytest.fixture
def served(pcscd: None, tokens: dict[str, Provisioned]) -> Iterator[Provisioned]:  # noqa: F811
    """The head token as a card in reader 1, removed afterwards."""
    made = tokens["head"]
    start(made.store, READER_CARD, others=[t.store for t in tokens.values()])
    _wait_state(reader_name(READER_CARD), True)
    yield made
    stop(made.store)
    _wait_state(reader_name(READER_CARD), False)


# --- ATR -> model ----------------------------------------------------------------------------------------------------
def test_atr_table_names_known_cards() -> None:
    sim = identify_atr(SIM_ATR)
    assert sim is not None and sim.family == "pkcs11-sim" and sim.verified
    # Rutoken ECP and JaCarta PKI, exact ATRs from OpenSC's drivers.
    rutoken = identify_atr(bytes.fromhex("3B8B015275746F6B656E20454350A0"))
    assert rutoken is not None and (rutoken.name, rutoken.family) == ("Rutoken ECP", "rutoken")
    jacarta = identify_atr(bytes.fromhex("3BDC18FF8191FE1FC38073C821136601061159000128"))
    assert jacarta is not None and jacarta.family == "jacarta"
    # Rutoken ECP SC (T=0) is matched through its mask: the first four bytes may vary.
    masked = identify_atr(bytes.fromhex("3B9C1300") + b"RutokenECPsc")
    assert masked is not None and masked.name == "Rutoken ECP SC"
    assert identify_atr(bytes.fromhex("3B9C1300") + b"RutokenECPsx") is None
    # Unknown, truncated or empty ATRs are not guessed.
    assert identify_atr(bytes.fromhex("3B80800101")) is None
    assert identify_atr(SIM_ATR[:-1]) is None and identify_atr(b"") is None
    esmart = identify_atr(bytes.fromhex("3B8A80") + b"ESMART64" + b"\x00")
    assert esmart is not None and esmart.family == "esmart" and not esmart.verified


# --- no PC/SC service ------------------------------------------------------------------------------------------------
_NO_SERVICE_SCRIPT = """
import json, time
from signagent.tokens import pcsc
out = {}
for name, call in (("list", pcsc.list_readers), ("states", pcsc.reader_states),
                   ("connect", lambda: pcsc.connect("Virtual PCD 00 01"))):
    try:
        call()
        out[name] = "no error"
    except pcsc.PcscUnavailableError as exc:
        out[name] = exc.to_dict()
events = []
began = time.monotonic()
publisher = pcsc.CardEventPublisher(retry_interval=0.2)
publisher.subscribe(lambda e: events.append(e.kind))
publisher.start()
time.sleep(0.6)
publisher.stop(timeout=3)
out["events"] = events
out["stopped_in"] = time.monotonic() - began
out["service"] = publisher.service_available
print(json.dumps(out))
"""


def test_no_pcsc_service_is_a_typed_error_not_a_crash(pcscd: None) -> None:  # noqa: F811
    """pcsc-lite's client library talks to pcscd through the socket PCSCLITE_CSOCK_NAME names; pointing it at
    nothing is a machine where pcscd is not running (the real SCARD_E_NO_SERVICE path, not a mock)."""
    import json

    env = {**os.environ, "PCSCLITE_CSOCK_NAME": "/nonexistent/pcscd.comm"}
    done = subprocess.run([sys.executable, "-c", _NO_SERVICE_SCRIPT], capture_output=True, text=True, env=env,
                          timeout=30)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    for name in ("list", "states", "connect"):
        assert out[name]["code"] == "pcsc_unavailable" and out[name]["retriable"] is True, out[name]
        assert "pcscd" in out[name]["message_ru"]
    # The monitor reports the missing service once (not once per retry) and stops promptly.
    assert out["events"] == ["service_unavailable"] and out["service"] is False
    assert out["stopped_in"] < 3


def test_missing_pyscard_is_the_same_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "smartcard", None)  # "import smartcard" now raises ImportError
    with pytest.raises(PcscUnavailableError, match="pyscard"):
        pcsc.list_readers()


# --- readers, presence, connections ----------------------------------------------------------------------------------
def test_readers_and_the_simulator_card_model(served: Provisioned) -> None:
    names = pcsc.list_readers()
    assert {reader_name(0), reader_name(1)} <= set(names)
    states = {s.name: s for s in pcsc.reader_states()}
    card = states[reader_name(READER_CARD)]
    assert card.present and card.atr == SIM_ATR
    assert card.model is not None and card.model.family == "pkcs11-sim" and card.model_name == card.model.name
    with pcsc.connect(reader_name(READER_CARD)) as conn:
        assert conn.atr == SIM_ATR and conn.model is not None and conn.model.family == "pkcs11-sim"
        # SELECT the PKCS#15 AID asking for 8 bytes: the card says 61xx and transmit() fetches the rest itself.
        aid = bytes.fromhex("A000000063504B43532D3135")
        whole, sw = conn.transmit(bytes([0x00, 0xA4, 0x04, 0x04, len(aid)]) + aid + b"\x00")
        part, sw_part = conn.transmit(bytes([0x00, 0xA4, 0x04, 0x04, len(aid)]) + aid + b"\x08")
        assert sw == sw_part == 0x9000 and part == whole and whole[0] == 0x62 and aid in whole


def test_connecting_to_an_empty_reader_is_card_removed(pcscd: None, tokens: dict) -> None:  # noqa: F811
    _wait_state(reader_name(READER_EVENTS), False)
    state = {s.name: s for s in pcsc.reader_states()}[reader_name(READER_EVENTS)]
    assert not state.present and state.atr is None and state.model is None
    with pytest.raises(CardRemovedError) as err:
        pcsc.connect(reader_name(READER_EVENTS))
    assert err.value.code == "token_removed" and err.value.retriable
    with pytest.raises(CardRemovedError):
        pcsc.connect("No Such Reader 00 00")


# --- events ----------------------------------------------------------------------------------------------------------
def _next(events: queue.Queue[CardEvent], kind: str, reader: str, timeout: float = WAIT) -> CardEvent:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no {kind} event for {reader} within {timeout} s"
        try:
            event = events.get(timeout=left)
        except queue.Empty:
            continue
        if event.kind == kind and event.reader == reader:
            return event


def test_insert_and_remove_events_reach_subscribers(pcscd: None, tokens: dict) -> None:  # noqa: F811
    made: Provisioned = tokens["ip"]
    reader = reader_name(READER_EVENTS)
    _wait_state(reader, False)
    events: queue.Queue[CardEvent] = queue.Queue()
    other: list[CardEvent] = []
    publisher = CardEventPublisher(poll_interval=0.2)
    # Subscribers are called in order: ``other`` sees each event before the queue does, so once the queue has an
    # event, ``other`` has it too.
    publisher.subscribe(other.append)
    publisher.subscribe(lambda e: 1 / 0)  # a broken subscriber does not stop the others
    publisher.subscribe(events.put)
    with publisher:
        _next(events, "reader_added", reader)
        began = time.monotonic()
        start(made.store, READER_EVENTS, others=[t.store for t in tokens.values()])
        try:
            inserted = _next(events, "card_inserted", reader)
            assert inserted.atr == SIM_ATR and inserted.model is not None and inserted.model.family == "pkcs11-sim"
            assert publisher.service_available is True
            assert any(s.name == reader and s.present for s in publisher.snapshot())
        finally:
            stop(made.store)
        removed = _next(events, "card_removed", reader)
        assert removed.atr == SIM_ATR and time.monotonic() - began < 2 * WAIT
        publisher.unsubscribe(other.append)
        seen = len(other)
        start(made.store, READER_EVENTS, others=[t.store for t in tokens.values()])
        try:
            _next(events, "card_inserted", reader)
        finally:
            stop(made.store)
        _next(events, "card_removed", reader)
        assert len(other) == seen  # unsubscribed: nothing more arrived
    assert [e.kind for e in other if e.reader == reader][-2:] == ["card_inserted", "card_removed"]
