"""Crash safety and multi-process use of the token store.

A writer process is killed with SIGKILL at random moments while it adds and deletes sealed objects, changes the
PIN (re-wrapping the token key) and toggles presence; after each kill the store must open and be consistent: a
whole old or new state, the token key reachable through the current PIN, every sealed value authentic. Separate
processes signing on one token at the same time must all succeed, and concurrent wrong PINs must each count.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from pkcs11_sim import constants as C
from pkcs11_sim.attributes import ulong
from pkcs11_sim.errors import CkrError
from pkcs11_sim.provision import store_key_pair
from pkcs11_sim.store import SimRoot, TokenStore
from signagent.gost import PrivateKey, curve, streebog256

PINS = (b"pin-one-1", b"pin-two-2")
SO_PIN = b"87654321"


def _writer(path: Path) -> None:
    """Child body: change the token forever (until killed)."""
    store = TokenStore(path)
    current = 0
    token_key = store.check_pin("user", PINS[0])
    i = 0
    while True:
        i += 1
        store.add_object({C.CKA_CLASS: ulong(C.CKO_DATA), C.CKA_LABEL: str(i).encode()},
                         {C.CKA_VALUE: b"secret %d" % i}, token_key)
        objects = store.objects()
        if len(objects) > 12:
            store.delete_object(min(objects))
        if i % 3 == 0:
            store.change_pin("user", PINS[current], PINS[1 - current])
            current = 1 - current
        if i % 5 == 0:
            store.set_present(i % 10 != 0)


def _token_key(store: TokenStore) -> bytes:
    for pin in PINS:
        try:
            return store.check_pin("user", pin)
        except CkrError as exc:
            assert exc.rv == C.CKR_PIN_INCORRECT
    raise AssertionError("neither PIN opens the token: the token key was lost")


def test_kill_9_leaves_old_or_new_state(tmp_path: Path) -> None:
    store = SimRoot(tmp_path).create("crash", SO_PIN, PINS[0], kdf_log2_n=1, retries=50)
    rng = random.Random(5)
    last_generation = -1
    for _ in range(30):
        pid = os.fork()
        if pid == 0:  # child: write until SIGKILL
            try:
                _writer(store.path)
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0.002, 0.04))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        fresh = TokenStore(store.path)  # a newcomer reads whatever the kill left
        state = json.loads((store.path / "token.json").read_text())
        assert state["format"] == 2 and state["generation"] >= last_generation
        last_generation = state["generation"]
        token_key = _token_key(fresh)
        for uid, obj in fresh.objects().items():
            assert uid < state["next_uid"]
            value = fresh.reveal(uid, C.CKA_VALUE, token_key)
            assert value == b"secret " + obj.attrs[C.CKA_LABEL]
        # the dead writer's lock is gone: a change still goes through
        fresh.set_faults(latency_ms=0)
    assert last_generation > 30  # the writers did get work done between the kills


def _pin_failures(path: Path, count: int) -> None:
    store = TokenStore(path)
    for _ in range(count):
        try:
            store.check_pin("user", b"wrong-pin")
        except CkrError:
            pass


def test_concurrent_wrong_pins_all_count(tmp_path: Path) -> None:
    store = SimRoot(tmp_path).create("count", SO_PIN, PINS[0], kdf_log2_n=8, retries=20)
    pids = []
    for _ in range(3):
        pid = os.fork()
        if pid == 0:
            try:
                _pin_failures(store.path, 4)
            finally:
                os._exit(0)
        pids.append(pid)
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    assert store.pin_status("user") == {"tries_left": 8, "max_tries": 20}


_SIGNER = textwrap.dedent("""
    import json, sys
    from pkcs11_sim import constants as C
    from pkcs11_sim.attributes import ulong
    from pkcs11_sim.engine import Engine

    engine = Engine(sys.argv[1])
    engine.initialize()
    s = engine.open_session(0, C.CKF_SERIAL_SESSION)
    engine.login(s, C.CKU_USER, sys.argv[2].encode())
    engine.find_objects_init(s, [(C.CKA_CLASS, ulong(C.CKO_PRIVATE_KEY))])
    (key,) = engine.find_objects(s, 2)
    engine.find_objects_final(s)
    out = []
    for i in range(25):
        message = f"{sys.argv[3]}-{i}".encode()
        engine.sign_init(s, C.CKM_GOSTR3410_WITH_GOSTR3411_12_256, None, key)
        out.append([message.hex(), engine.sign(s, message).hex()])
    engine.finalize()
    print(json.dumps(out))
""")


def test_two_processes_sign_at_once(tmp_path: Path) -> None:
    store = SimRoot(tmp_path).create("shared", SO_PIN, PINS[0], kdf_log2_n=8)
    key = PrivateKey.generate(curve("tc26-256-A"))
    store_key_pair(store, store.check_pin("user", PINS[0]), key, key_id=b"\x01", label="k", generated=True)
    procs = [subprocess.Popen([sys.executable, "-c", _SIGNER, str(tmp_path), PINS[0].decode(), name],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name in ("first", "second")]
    public = key.public_key()
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        pairs = json.loads(out)
        assert len(pairs) == 25
        for message, signature in pairs:
            assert public.verify_digest(streebog256(bytes.fromhex(message)).digest(), bytes.fromhex(signature))
    assert store.pin_status("user") == {"tries_left": 10, "max_tries": 10}


def test_stale_temporary_files_are_ignored(tmp_path: Path) -> None:
    store = SimRoot(tmp_path).create("tmp", SO_PIN, PINS[0], kdf_log2_n=1)
    (store.path / ".token.json.123.deadbeef.tmp").write_text("{ torn")
    (tmp_path / ".new-abcdef").mkdir()
    assert [s.label for s in SimRoot(tmp_path).tokens()] == ["tmp"]
    store.set_present(False)
    assert TokenStore(store.path).load()["present"] is False
