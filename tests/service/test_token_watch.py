"""signagent.service.token_watch: the watcher sees real simulated tokens come and go through the simulator's
PKCS#11 module (kept loaded between polls), certificates change, cards in a real pcscd, files in the key directory;
it publishes to the event bus, calls ``on_change``, survives failing polls and stops promptly."""

from __future__ import annotations

import asyncio
import queue
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pkcs11_sim.provision import Provisioned, provision
from pkcs11_sim.store import SimRoot
from signagent.service.events import CERTIFICATES_CHANGED, TOKEN_INSERTED, TOKEN_REMOVED, Event, EventBus
from signagent.service.token_watch import TokenChange, TokenWatcher, diff
from signagent.testpki import generate
from tests.conftest import simulator_env

PIN, SO = b"12345678", b"87654321"
INTERVAL = 0.1
WAIT = 15.0  # seconds: the bound of every wait for the watcher to notice


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("watch-pki")
    generate(out)
    return out


@pytest.fixture
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimRoot]:
    with simulator_env(tmp_path_factory) as sim_dir:
        yield SimRoot(sim_dir)


def _next(changes: queue.Queue[TokenChange], event: str, serial: str) -> TokenChange:
    deadline = time.monotonic() + WAIT
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no {event} for {serial} within {WAIT} s"
        try:
            change = changes.get(timeout=left)
        except queue.Empty:
            continue
        if change.event == event and change.token[1] == serial:
            return change


def _watcher(changes: queue.Queue[TokenChange], bus: EventBus | None = None, **kw: object) -> TokenWatcher:
    def note(found: list[TokenChange]) -> None:
        for change in found:
            changes.put(change)

    options: dict[str, object] = {"interval": INTERVAL, "watch_cards": False, **kw}
    return TokenWatcher(bus, on_change=note, **options)  # type: ignore[arg-type]


def test_tokens_inserted_changed_removed_through_the_pkcs11_module(sim: SimRoot, pki: Path) -> None:
    changes: queue.Queue[TokenChange] = queue.Queue()
    first = provision(sim, label="present-at-start", pin=PIN, so_pin=SO, profile="head", pki_dir=pki)
    with _watcher(changes) as watcher:
        assert watcher.wait_ready(WAIT)
        # The baseline is not published: the token present at start is simply there.
        assert ("pkcs11", first.store.serial, "present-at-start") in watcher.current_tokens()
        assert watcher.snapshot()[("pkcs11", first.store.serial, "present-at-start")] == {first.certificate_id}
        assert changes.empty()
        # A new token directory appears while the module stays loaded: the simulator rescans it.
        made = provision(sim, label="added", pin=PIN, so_pin=SO, profile="head", pki_dir=pki)
        serial = made.store.serial
        inserted = _next(changes, TOKEN_INSERTED, serial)
        assert inserted.token == ("pkcs11", serial, "added")
        if not inserted.certificates:  # a poll fell between the token's creation and its certificate's import
            assert _next(changes, CERTIFICATES_CHANGED, serial).certificates == {made.certificate_id}
        else:
            assert inserted.certificates == {made.certificate_id}
        assert watcher.is_present(serial=serial) and watcher.is_present(cert_id=made.certificate_id)
        # A second certificate on the same token.
        other = provision(sim, label="added", pin=PIN, so_pin=SO, profile="ip", pki_dir=pki)
        changed = _next(changes, CERTIFICATES_CHANGED, serial)
        assert changed.certificates == {made.certificate_id, other.certificate_id}
        assert changed.to_data()["added"] == [other.certificate_id] and changed.to_data()["removed"] == []
        # Pulled out (pkcs11-sim remove), put back, then its directory deleted.
        made.store.set_present(False)
        removed = _next(changes, TOKEN_REMOVED, serial)
        assert removed.before == {made.certificate_id, other.certificate_id}
        assert removed.to_data()["certificates"] == sorted(removed.before)
        assert not watcher.is_present(serial=serial) and watcher.is_present(serial=first.store.serial)
        made.store.set_present(True)
        _next(changes, TOKEN_INSERTED, serial)
        shutil.rmtree(made.store.path)
        _next(changes, TOKEN_REMOVED, serial)
        assert ("pkcs11", serial, "added") not in watcher.current_tokens()
    assert not watcher._modules  # unloaded on stop


def test_events_reach_the_bus(sim: SimRoot, pki: Path) -> None:
    bus = EventBus()
    changes: queue.Queue[TokenChange] = queue.Queue()

    async def main() -> list[Event]:
        sub = bus.subscribe()
        watcher = _watcher(changes, bus)
        await asyncio.to_thread(watcher.start().wait_ready, WAIT)
        try:
            made = await asyncio.to_thread(provision, sim, label="bus", pin=PIN, so_pin=SO, profile="head",
                                           pki_dir=pki)
            got = [await sub.get(WAIT)]
            while got[-1] is not None and not got[-1].data["certificates"]:  # polled before the import: wait
                got.append(await sub.get(WAIT))
            await asyncio.to_thread(made.store.set_present, False)
            got.append(await sub.get(WAIT))
        finally:
            await asyncio.to_thread(watcher.stop)
        sub.close()
        assert all(e is not None for e in got)
        return [e for e in got if e is not None]

    got = asyncio.run(main())
    inserted, settled, removed = got[0], got[-2], got[-1]
    assert inserted.kind == TOKEN_INSERTED and removed.kind == TOKEN_REMOVED and removed.id > settled.id
    assert {e.kind for e in got[1:-1]} <= {CERTIFICATES_CHANGED}
    assert inserted.data["kind"] == "pkcs11" and inserted.data["label"] == "bus"
    assert settled.data["certificates"] == removed.data["certificates"] and len(removed.data["certificates"]) == 1


def test_key_directory_changes(sim: SimRoot, pki: Path, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    changes: queue.Queue[TokenChange] = queue.Queue()
    with _watcher(changes, keys_dir=keys) as watcher:
        assert watcher.wait_ready(WAIT)
        (file_key,) = [k for k in watcher.current_tokens() if k[0] == "file"]
        assert watcher.snapshot()[file_key] == frozenset()
        shutil.copy(pki / "certs" / "head.pem", keys / "head.pem")
        changed = _next(changes, CERTIFICATES_CHANGED, file_key[1])
        assert len(changed.certificates) == 1


def test_a_failing_poll_is_logged_and_the_loop_goes_on(sim: SimRoot, pki: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    changes: queue.Queue[TokenChange] = queue.Queue()
    watcher = _watcher(changes)
    real = watcher._take_snapshot
    failures = {"left": 2}

    def flaky() -> dict:  # type: ignore[type-arg]
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("secret-looking detail 12345678")
        return real()

    def broken_callback(found: list[TokenChange]) -> None:
        for change in found:
            changes.put(change)
        raise ValueError("callback bug")

    watcher._take_snapshot = flaky  # type: ignore[method-assign]
    watcher.on_change = broken_callback
    with caplog.at_level("WARNING", logger="signagent.service.token_watch"), watcher:
        assert watcher.wait_ready(WAIT)
        made = provision(sim, label="after-failures", pin=PIN, so_pin=SO, profile="head", pki_dir=pki)
        _next(changes, TOKEN_INSERTED, made.store.serial)
        time.sleep(INTERVAL * 3)
        made.store.set_present(False)
        _next(changes, TOKEN_REMOVED, made.store.serial)  # the callback's failure did not stop the loop
    assert watcher.polls >= 4 and failures["left"] == 0
    assert "token poll failed: RuntimeError" in caplog.text and "12345678" not in caplog.text


def test_stop_is_prompt_and_interval_checked() -> None:
    with pytest.raises(ValueError):
        TokenWatcher(interval=0)
    watcher = TokenWatcher(interval=3600, watch_cards=False, watch_key_files=False)
    watcher.start()
    assert watcher.wait_ready(WAIT)
    began = time.monotonic()
    watcher.stop()
    assert time.monotonic() - began < WAIT / 3  # not the hour of the interval


def test_diff_orders_removed_inserted_changed() -> None:
    a, b, c = ("pkcs11", "1", "a"), ("pkcs11", "2", "b"), ("pcsc", "3", "c")
    found = diff({a: frozenset({"x"}), c: frozenset({"y"})}, {b: frozenset(), c: frozenset({"z"})})
    assert [(ch.event, ch.token) for ch in found] == [(TOKEN_REMOVED, a), (TOKEN_INSERTED, b),
                                                     (CERTIFICATES_CHANGED, c)]
    assert found[2].to_data() == {"kind": "pcsc", "serial": "3", "label": "c", "certificates": ["z"],
                                  "added": ["z"], "removed": ["y"]}


def test_a_card_in_a_reader_is_one_token_with_its_module_view(sim: SimRoot, pki: Path,
                                                             pcscd: None) -> None:  # noqa: F811
    """The simulator's token served as a card through real pcscd: the PKCS#11 token and the card are the same
    token (one entry, whatever module shows it); the card alone is read over PC/SC once per insertion."""
    from pkcs11_sim.pcsc.server import start, stop
    from signagent.tokens import pkcs15
    from tests.pkcs11_sim.test_pcsc import _wait_state

    reader = "Virtual PCD 00 01"
    made: Provisioned = provision(sim, label="card", pin=PIN, so_pin=SO, profile="head", pki_dir=pki)
    changes: queue.Queue[TokenChange] = queue.Queue()
    with _watcher(changes, watch_cards=True) as watcher:
        assert watcher.wait_ready(WAIT)
        start(made.store, 1, others=[made.store])
        try:
            _wait_state(reader, True)
            polls = watcher.polls
            deadline = time.monotonic() + WAIT
            while watcher.polls < polls + 3:
                assert time.monotonic() < deadline
                time.sleep(INTERVAL)
            same = [k for k, ids in watcher.snapshot().items() if made.certificate_id in ids]
            assert len(same) == 1, watcher.snapshot()
            # The card by itself: a "pcsc" token with the certificate, read once while its ATR stays the same.
            cards = watcher._card_tokens()
            assert [(k[0], ids) for k, ids in cards] == [("pcsc", frozenset({made.certificate_id}))]
            opened: list[str] = []
            real = pkcs15.Pkcs15Token

            class Counting(real):  # type: ignore[misc, valid-type]
                def __init__(self, name: str) -> None:
                    opened.append(name)
                    super().__init__(name)

            pkcs15.Pkcs15Token = Counting  # type: ignore[misc]
            try:
                assert watcher._card_tokens() == cards and opened == []
            finally:
                pkcs15.Pkcs15Token = real  # type: ignore[misc]
        finally:
            stop(made.store)
            _wait_state(reader, False)
        assert watcher._card_tokens() == []


from tests.pkcs11_sim.test_pcsc import pcscd  # noqa: E402, F401  (the session fixture, reused)
