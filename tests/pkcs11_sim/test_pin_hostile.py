"""The simulator under a hostile local user (issue 10, defects 7-9).

* Defect 7: a PIN check spends its try before the PIN is compared (decrement, commit, compare, restore), so a
  process killed mid-check has used a try -- the probe got 12 free guesses by killing the process when only the
  wrong-PIN path wrote a file. The verifier is scrypt (memory-hard), legacy PBKDF2 records are upgraded.
* Defect 8: ``provision`` leaves no clear copy of the token's key; key files are 0600 in 0700 directories.
* Defect 9: PINs come from a file, the environment or a prompt; ``--pin`` is only a test convenience.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pkcs11_sim import constants as C
from pkcs11_sim import pinkdf
from pkcs11_sim.cli import main
from pkcs11_sim.errors import CkrError
from pkcs11_sim.provision import store_key_pair
from pkcs11_sim.sealing import seal
from pkcs11_sim.store import SimRoot, TokenStore
from signagent.gost import PrivateKey, curve, pbkdf2_streebog512
from signagent.testpki import generate
from tests.conftest import file_mode
from tests.terminal import converse

PIN, SO_PIN = b"12345678", b"87654321"
FAST = 4  # scrypt N = 16 for tests that count tries, not cost


def _rv(call, *args) -> int:
    with pytest.raises(CkrError) as info:
        call(*args)
    return info.value.rv


def _tries(store: TokenStore, role: str) -> int:
    """The counter as it is on disk (what a fresh process would see)."""
    return json.loads((store.path / "token.json").read_text())["pins"][role]["tries_left"]


# ============================================================================================ defect 7: the counter
def _check_frozen_at_comparison(path: Path, role: str, pin: bytes) -> int:
    """Fork a PIN check that freezes (SIGSTOP) the moment it starts deriving the PIN to compare it; return the
    counter on disk at that moment, then SIGKILL the check -- the attacker who kills when he sees activity."""
    pid = os.fork()
    if pid == 0:  # child
        try:
            import pkcs11_sim.store as store_module

            real = store_module._derive

            def frozen(*args):  # the comparison needs this derivation: stop just before it
                os.kill(os.getpid(), signal.SIGSTOP)
                return real(*args)

            store_module._derive = frozen
            TokenStore(path).check_pin(role, pin)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, os.WUNTRACED)
    try:
        assert os.WIFSTOPPED(status), "the check ended without deriving the PIN"
        return _tries(TokenStore(path), role)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


@pytest.mark.parametrize("role", ["user", "so"])
def test_a_killed_check_has_spent_its_try_and_the_pin_locks(tmp_path: Path, role: str) -> None:
    store = SimRoot(tmp_path).create("t", SO_PIN, PIN, retries=3, kdf_log2_n=FAST)
    right = PIN if role == "user" else SO_PIN
    # a right PIN killed before its comparison has spent a try too (a card cannot tell it from a wrong one) ...
    assert _check_frozen_at_comparison(store.path, role, right) == 2
    assert store.pin_status(role) == {"tries_left": 2, "max_tries": 3}
    store.check_pin(role, right)  # ... and a completed right PIN restores the counter
    assert store.pin_status(role) == {"tries_left": 3, "max_tries": 3}
    for expected in (2, 1, 0):  # the probe's attack: wrong guesses killed before the answer
        assert _check_frozen_at_comparison(store.path, role, b"guess-%d" % expected) == expected
    assert _rv(store.check_pin, role, right) == C.CKR_PIN_LOCKED  # no free guesses: the right PIN is refused


def test_right_and_wrong_pins_write_the_state_alike(tmp_path: Path) -> None:
    """Only the wrong-PIN path used to write, so a new file told the outcome: now both write twice."""
    store = SimRoot(tmp_path).create("t", SO_PIN, PIN, kdf_log2_n=FAST)

    def generation() -> int:
        return json.loads((store.path / "token.json").read_text())["generation"]

    start = generation()
    store.check_pin("user", PIN)
    after_right = generation()
    assert _rv(store.check_pin, "user", b"wrong-pin") == C.CKR_PIN_INCORRECT
    after_wrong = generation()
    assert after_right - start == after_wrong - after_right == 2


def _sim_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PKCS11_SIM_")}
    env.update(PKCS11_SIM_DIR=str(tmp_path / "sim"), **extra)
    return env


def _pin_file(tmp_path: Path, name: str, value: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(value + b"\n")
    path.chmod(0o600)
    return str(path)


def test_the_exit_hook_ends_a_cli_check_after_the_decrement(tmp_path: Path) -> None:
    """The documented test hook, through the real command: the process ends right after the decrement is on
    disk; the try is spent whether the PIN was right or wrong, and for the SO PIN alike."""
    root = SimRoot(tmp_path / "sim")
    store = root.create("t", SO_PIN, PIN, retries=5, kdf_log2_n=FAST)
    hooked = _sim_env(tmp_path, PKCS11_SIM_TEST_HOOK="exit:after-pin-decrement")
    cases = [
        (["keygen", "t", "--curve", "tc26-256-A", "--pin-file", _pin_file(tmp_path, "right", PIN)], "user", 4),
        (["keygen", "t", "--curve", "tc26-256-A", "--pin-file", _pin_file(tmp_path, "wrong", b"wrong-pin")],
         "user", 3),
        (["unblock", "t", "--so-pin-file", _pin_file(tmp_path, "so", SO_PIN), "--new-pin-file",
          _pin_file(tmp_path, "new", b"new-pin-1")], "so", 4),
    ]
    for args, role, left in cases:
        done = subprocess.run([sys.executable, "-m", "pkcs11_sim", *args], env=hooked, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 86, done.stderr
        assert store.pin_status(role)["tries_left"] == left
    assert not store.objects()  # no key was generated: the process never got past the check
    # without the variable the hook is inert
    done = subprocess.run([sys.executable, "-m", "pkcs11_sim", *cases[0][0]], env=_sim_env(tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert store.pin_status("user")["tries_left"] == 5


def _guesser(path: Path, report: int) -> None:
    """Child body: wrong PINs forever, one byte on ``report`` after each answer."""
    store = TokenStore(path)
    while True:
        try:
            store.check_pin("user", b"wrong-pin")
        except CkrError as exc:
            os.write(report, b"L" if exc.rv == C.CKR_PIN_LOCKED else b"x")


def test_random_kills_never_give_free_guesses(tmp_path: Path) -> None:
    store = SimRoot(tmp_path).create("t", SO_PIN, PIN, retries=40, kdf_log2_n=FAST)
    rng = random.Random(10)
    answered = 0
    for _ in range(12):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(read_end)
                _guesser(store.path, write_end)
            finally:
                os._exit(0)
        os.close(write_end)
        time.sleep(rng.uniform(0.001, 0.03))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        with os.fdopen(read_end, "rb") as answers:
            answered += answers.read().count(b"x")
        spent = 40 - store.pin_status("user")["tries_left"]
        assert spent >= answered  # every answer the guesser saw was paid for (kills may spend more)
    while store.pin_status("user")["tries_left"] > 0:
        assert _rv(store.check_pin, "user", b"wrong-pin") == C.CKR_PIN_INCORRECT
    assert _rv(store.check_pin, "user", PIN) == C.CKR_PIN_LOCKED


# ============================================================================================ defect 7: the verifier
def test_the_default_verifier_is_memory_hard(tmp_path: Path) -> None:
    store = SimRoot(tmp_path).create("t", SO_PIN, PIN)
    state = json.loads((store.path / "token.json").read_text())
    for role, pin in (("user", PIN), ("so", SO_PIN)):
        rec = state["pins"][role]
        assert "iterations" not in rec
        assert rec["kdf"]["name"] == "scrypt" and rec["kdf"]["log2_n"] >= 15 and rec["kdf"]["r"] >= 8
        derived = hashlib.scrypt(pin, salt=bytes.fromhex(rec["salt"]), n=1 << rec["kdf"]["log2_n"],
                                 r=rec["kdf"]["r"], p=rec["kdf"]["p"], dklen=96, maxmem=1 << 27)
        assert rec["verifier"] == derived[:32].hex()


def _make_legacy(store: TokenStore, token_key: bytes) -> None:
    """Rewrite the token's state as format 1 made it: PBKDF2-HMAC-Streebog-512, 2,000 iterations."""
    state = json.loads((store.path / "token.json").read_text())
    state["format"] = 1
    state.pop("pin_kdf")
    state["pbkdf2_iterations"] = 2000
    for role, pin in (("user", PIN), ("so", SO_PIN)):
        salt = os.urandom(16)
        out = pbkdf2_streebog512(pin, salt, 2000, 96)
        aad = f"pkcs11-sim token key|{state['serial']}|{role}".encode()
        rec = state["pins"][role]
        for field in ("kdf",):
            rec.pop(field)
        rec.update(salt=salt.hex(), iterations=2000, verifier=out[:32].hex(),
                   wrapped_key=seal(out[32:], token_key, aad).hex())
    (store.path / "token.json").write_text(json.dumps(state))


def test_a_legacy_pbkdf2_record_is_upgraded_at_the_next_right_pin(tmp_path: Path) -> None:
    store = SimRoot(tmp_path).create("t", SO_PIN, PIN, retries=5, kdf_log2_n=FAST)
    token_key = store.check_pin("user", PIN)
    key = PrivateKey.generate(curve("tc26-256-A"))
    priv_uid, _ = store_key_pair(store, token_key, key, key_id=b"\x01", label="k", generated=True)
    _make_legacy(store, token_key)
    old = TokenStore(store.path)
    assert _rv(old.check_pin, "user", b"wrong-pin") == C.CKR_PIN_INCORRECT
    state = json.loads((store.path / "token.json").read_text())
    assert state["pins"]["user"]["iterations"] == 2000 and state["pins"]["user"]["tries_left"] == 4
    assert old.check_pin("user", PIN) == token_key
    state = json.loads((store.path / "token.json").read_text())
    user = state["pins"]["user"]
    assert user["kdf"] == pinkdf.scrypt_params() and "iterations" not in user and user["tries_left"] == 5
    assert state["pins"]["so"]["iterations"] == 2000  # the SO record waits for the SO PIN
    assert state["format"] == 2
    fresh = TokenStore(store.path)
    assert fresh.reveal(priv_uid, C.CKA_VALUE, fresh.check_pin("user", PIN)) == key.to_bytes()
    assert fresh.check_pin("so", SO_PIN) == token_key
    assert json.loads((store.path / "token.json").read_text())["pins"]["so"]["kdf"]["name"] == "scrypt"


@pytest.mark.parametrize("kdf", [{"name": "scrypt", "log2_n": 40, "r": 8, "p": 1},
                                 {"name": "scrypt", "log2_n": 4, "r": 10**6, "p": 1},
                                 {"name": "pbkdf2-streebog512", "iterations": 10**9},
                                 {"name": "argon9"}])
def test_tampered_derivation_parameters_are_refused(tmp_path: Path, kdf: dict) -> None:
    store = SimRoot(tmp_path).create("t", SO_PIN, PIN, kdf_log2_n=FAST)
    state = json.loads((store.path / "token.json").read_text())
    state["pins"]["user"]["kdf"] = kdf
    (store.path / "token.json").write_text(json.dumps(state))
    assert _rv(TokenStore(store.path).check_pin, "user", PIN) == C.CKR_TOKEN_NOT_RECOGNIZED


# ============================================================================================ defect 8: keys at rest
_mode = file_mode


def _private_key_files(top: Path) -> list[Path]:
    return [p for p in top.rglob("*") if p.is_file() and b"PRIVATE KEY" in p.read_bytes()]


def _head_public_key(store: TokenStore) -> bytes:
    return next(o.attrs[C.CKA_VALUE] for o in store.objects().values()
                if int.from_bytes(o.attrs[C.CKA_CLASS], sys.byteorder) == C.CKO_PUBLIC_KEY)


def test_provision_keeps_the_key_in_the_token_only(tmp_path: Path, loose_umask: None, capsys) -> None:
    from signagent.pkcs8.keyfile import load_private_key

    sim = tmp_path / "sim"
    assert main(["--dir", str(sim), "provision", "--label", "Head", "--pin", PIN.decode(), "--so-pin",
                 SO_PIN.decode(), "--profile", "head", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    store = SimRoot(sim).find("Head")
    token_dir = Path(out["token_dir"])
    head_public = _head_public_key(store)
    key_files = _private_key_files(token_dir)
    assert key_files, "the test CA keeps its own keys"
    for path in key_files:
        assert load_private_key(path).public_key().to_bytes() != head_public  # no clear copy of the token's key
    for path in key_files:
        assert _mode(path) == 0o600 and _mode(path.parent) == 0o700 and _mode(path.parent.parent) == 0o700
        assert path.parent == token_dir / "test-ca" / "keys"
    assert _mode(token_dir) == 0o700 and _mode(token_dir / "token.json") == 0o600
    assert _mode(token_dir / ".lock") == 0o600
    assert Path(out["pki_dir"]) == token_dir / "test-ca"
    assert not (token_dir / "test-ca" / "keys" / "head.key.pem").exists()
    assert (token_dir / "test-ca" / "keys" / "inter.key.pem").is_file()  # the CA can still issue
    # provisioning the same entity again finds it on the token and adds nothing
    count = len(store.objects())
    assert main(["--dir", str(sim), "provision", "--label", "Head", "--pin", PIN.decode(), "--so-pin",
                 SO_PIN.decode(), "--profile", "head"]) == 0
    assert len(store.objects()) == count


def test_an_old_clear_pki_directory_is_moved_and_tightened(tmp_path: Path, loose_umask: None) -> None:
    from pkcs11_sim.provision import provision

    root = SimRoot(tmp_path / "sim")
    store = root.create("Old", SO_PIN, PIN, kdf_log2_n=FAST)
    legacy = store.path / "pki"
    generate(legacy)
    for path in [legacy, *legacy.rglob("*")]:  # as the old code left it: 0755 directories, 0644 files
        path.chmod(0o755 if path.is_dir() else 0o644)
    made = provision(root, label="Old", pin=PIN, so_pin=SO_PIN, profile="employee")
    ca = store.path / "test-ca"
    assert made.pki_dir == ca and not legacy.exists()
    assert not (ca / "keys" / "employee.key.pem").exists()
    assert _mode(ca) == 0o700 and _mode(ca / "keys") == 0o700
    assert all(_mode(p) == 0o600 for p in (ca / "keys").iterdir())


def test_a_token_store_is_private_whatever_the_umask(tmp_path: Path, loose_umask: None) -> None:
    root = SimRoot(tmp_path / "fresh")
    store = root.create("t", SO_PIN, PIN, kdf_log2_n=FAST)
    assert _mode(root.path) == 0o700 and _mode(store.path) == 0o700
    assert _mode(store.path / "token.json") == 0o600 and _mode(root.path / ".lock") == 0o600
    store.path.chmod(0o755)  # a directory made by an older version is tightened at its next change
    store.set_present(False)
    assert _mode(store.path) == 0o700 and _mode(store.path / "token.json") == 0o600


# ============================================================================================ defect 9: PIN sources
def _sim(tmp_path: Path, *args: str) -> int:
    return main(["--dir", str(tmp_path / "sim"), *args])


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


def test_pins_from_files_and_the_environment(tmp_path: Path, capsys, monkeypatch) -> None:
    for name in ("PKCS11_SIM_PIN", "PKCS11_SIM_SO_PIN", "PKCS11_SIM_NEW_PIN", "PKCS11_SIM_KEY_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    pin_file, so_file = _pin_file(tmp_path, "pin", PIN), _pin_file(tmp_path, "so", SO_PIN)
    assert _sim(tmp_path, "init", "--label", "t", "--pin-file", pin_file, "--so-pin-file", so_file) == 0
    store = SimRoot(tmp_path / "sim").find("t")
    store.check_pin("user", PIN)
    store.check_pin("so", SO_PIN)
    # the environment
    monkeypatch.setenv("PKCS11_SIM_PIN", PIN.decode())
    assert _sim(tmp_path, "keygen", "t", "--curve", "tc26-256-A") == 0
    # precedence: file > environment > argument
    monkeypatch.setenv("PKCS11_SIM_PIN", "wrong-env")
    assert _sim(tmp_path, "keygen", "t", "--curve", "tc26-256-A", "--pin-file", pin_file) == 0
    monkeypatch.setenv("PKCS11_SIM_PIN", PIN.decode())
    assert _sim(tmp_path, "keygen", "t", "--curve", "tc26-256-A", "--pin", "wrong-arg") == 0
    assert store.pin_status("user")["tries_left"] == 10
    monkeypatch.delenv("PKCS11_SIM_PIN")
    # set-pin and unblock from files and the environment
    new_file = _pin_file(tmp_path, "new", b"second-pin")
    assert _sim(tmp_path, "set-pin", "t", "--old-file", pin_file, "--new-file", new_file) == 0
    store.check_pin("user", b"second-pin")
    monkeypatch.setenv("PKCS11_SIM_SO_PIN", SO_PIN.decode())
    monkeypatch.setenv("PKCS11_SIM_NEW_PIN", "third-pin")
    assert _sim(tmp_path, "unblock", "t") == 0
    store.check_pin("user", b"third-pin")
    # no PIN anywhere and no terminal: one line naming the ways to give it
    for name in ("PKCS11_SIM_SO_PIN", "PKCS11_SIM_NEW_PIN"):
        monkeypatch.delenv(name)
    capsys.readouterr()
    assert _sim(tmp_path, "keygen", "t", "--curve", "tc26-256-A") == 2
    err = _one_line(capsys)
    assert "--pin-file" in err and "PKCS11_SIM_PIN" in err
    assert _sim(tmp_path, "init", "--label", "u", "--pin-file", pin_file) == 2
    assert "--so-pin-file" in _one_line(capsys)
    assert _sim(tmp_path, "keygen", "t", "--curve", "tc26-256-A", "--pin", "x", "--pin-file", pin_file) == 2
    assert "not both" in _one_line(capsys)
    (tmp_path / "bad").write_bytes(b"\xff\xfe\n")
    assert _sim(tmp_path, "keygen", "t", "--curve", "tc26-256-A", "--pin-file", str(tmp_path / "bad")) == 2
    assert "UTF-8" in _one_line(capsys)


def test_the_help_says_the_pin_option_is_visible(capsys) -> None:
    for command in ("init", "keygen", "import", "set-pin", "unblock", "provision"):
        assert main([command, "--help"]) == 0
        text = " ".join(capsys.readouterr().out.split())
        assert "visible to other local users" in text and "-file" in text, command


def test_an_encrypted_key_is_imported_with_its_password_file(tmp_path: Path, capsys, monkeypatch) -> None:
    from signagent.pkcs8.keyfile import private_key_pem

    monkeypatch.delenv("PKCS11_SIM_KEY_PASSWORD", raising=False)
    SimRoot(tmp_path / "sim").create("t", SO_PIN, PIN, kdf_log2_n=FAST)
    key = PrivateKey.generate(curve("tc26-256-A"))
    (tmp_path / "k.pem").write_bytes(private_key_pem(key, "пароль", iterations=10))
    pin_file = _pin_file(tmp_path, "pin", PIN)
    capsys.readouterr()
    assert _sim(tmp_path, "import", "t", "--key", str(tmp_path / "k.pem"), "--pin-file", pin_file) == 2
    assert "--key-password-file" in _one_line(capsys)
    password = _pin_file(tmp_path, "pw", "пароль".encode())
    assert _sim(tmp_path, "import", "t", "--key", str(tmp_path / "k.pem"), "--key-password-file", password,
                "--pin-file", pin_file) == 0


def test_pins_are_asked_on_a_terminal_without_echo(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "pkcs11_sim", "init", "--label", "typed"]
    answers = [b"typed-pin-1", b"typed-pin-1", b"typed-so-pin", b"typed-so-pin"]
    code, text, _ = converse(argv, _sim_env(tmp_path), answers)
    assert code == 0, text
    assert "User PIN" in text and "SO PIN" in text
    assert "typed-pin-1" not in text and "typed-so-pin" not in text  # nothing echoed
    store = SimRoot(tmp_path / "sim").find("typed")
    store.check_pin("user", b"typed-pin-1")
    store.check_pin("so", b"typed-so-pin")
