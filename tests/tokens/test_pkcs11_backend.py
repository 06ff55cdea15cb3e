"""The PKCS#11 backend against the simulator's module, loaded through PyKCS11 exactly like a vendor module.

The simulator is used only to set tokens up and to pull them out (its store API, as ``pkcs11-sim`` does); everything
the agent sees goes through :mod:`signagent.tokens.pkcs11`. Signatures are checked with :mod:`signagent.gost`
against the certificates' keys, CMS signatures with :func:`signagent.cms.verification.verify` and the trust layer.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import pkcs11_sim
from pkcs11_sim.provision import provision
from pkcs11_sim.store import SimRoot
from signagent import gost
from signagent.cms.pkcs10 import build_request, verify_request
from signagent.cms.signing import sign
from signagent.cms.verification import verify
from signagent.gost import streebog256, streebog512
from signagent.testpki import generate
from signagent.tokens import pkcs11 as p11
from signagent.tokens.errors import (
    KeyNotFoundError,
    MechanismUnsupportedError,
    ModuleLoadError,
    PinIncorrectError,
    PinLockedError,
    PinRequiredError,
    TokenNotFoundError,
    TokenRemovedError,
    error_for_ckr,
)
from signagent.tokens.protocol import StaticPinProvider, Token, cert_id_of
from signagent.x509 import Certificate
from signagent.x509 import builder as b
from tests.cms.conftest import chain_validator
from tests.conftest import require

try:
    import PyKCS11
except ImportError:  # the "test" extra brings it
    PyKCS11 = None

PIN = b"1234"
SO_PIN = b"87654321"
PINS = StaticPinProvider(PIN)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):
    """A fresh simulator directory with two provisioned tokens (head, employee) and a 3-try PIN token."""
    require(PyKCS11 is not None, "PyKCS11")
    path = tmp_path_factory.mktemp("sim")
    old = os.environ.get("PKCS11_SIM_DIR")
    os.environ["PKCS11_SIM_DIR"] = str(path)  # read by the module at C_Initialize
    pki = generate(tmp_path_factory.mktemp("pki"))
    root = SimRoot(path)
    for label, profile, retries in (("Head", "head", None), ("Employee", "employee", None), ("Tries", "person", 3)):
        provision(root, label=label, pin=PIN, so_pin=SO_PIN, profile=profile, retries=retries, pki_dir=pki.out_dir)
    yield root, pki
    if old is None:
        os.environ.pop("PKCS11_SIM_DIR", None)
    else:
        os.environ["PKCS11_SIM_DIR"] = old


@pytest.fixture(scope="module")
def module(sim):
    mod = p11.Pkcs11Module(pkcs11_sim.module_path())
    yield mod
    mod.close()


def test_lists_tokens_and_their_certificates(module, sim) -> None:
    _, pki = sim
    tokens = {t.label: t for t in module.tokens()}
    assert {"Head", "Employee", "Tries"} <= set(tokens)
    assert module.description  # CK_INFO manufacturer and library description
    head = tokens["Head"]
    assert isinstance(head, Token)
    assert head.serial and head.model
    info = head.info()
    assert info.source == pkcs11_sim.module_path() and info.slot == head.slot
    entries = head.certificates()
    assert len(entries) == 1
    entry = entries[0]
    assert entry.certificate.der == pki["head"].certificate.dump()
    assert entry.has_private_key and entry.key_id
    assert entry.cert_id == cert_id_of(entry.certificate) == entry.certificate.streebog_thumbprint
    assert head.find_key(entry.cert_id) == entry.key_id
    assert module.token(serial=head.serial) is head  # the same object (and session) while it stays in its slot
    with pytest.raises(TokenNotFoundError):
        module.token(label="No such token")


def test_signs_a_digest_that_verifies_and_asks_the_pin_each_time(module) -> None:
    token = module.token(label="Head")
    entry = token.certificates()[0]
    pins = StaticPinProvider(PIN)
    for message in (b"first", b"second"):
        digest = streebog256(message).digest()
        signature = token.sign_digest_with_key(entry.key, digest, pins)
        assert entry.certificate.public_key().verify_digest(digest, signature)
        assert not entry.certificate.public_key().verify_digest(streebog256(b"other").digest(), signature)
    assert pins.calls == 2  # logged out after each signature: one PIN per operation


def test_cms_signed_with_the_token_verifies(module, sim) -> None:
    _, pki = sim
    token = module.token(label="Employee")
    entry = token.certificates()[0]
    cms = sign(b"registration request", token.signer(entry, PINS))
    report = verify(cms, validate_chain=chain_validator(pki))
    assert report.status == "valid", report.to_dict()
    assert report.signers[0].certificate == entry.certificate


def test_hash_and_sign_fallback_signs_messages(module, sim) -> None:
    _, pki = sim
    token = module.token(label="Head")
    entry = token.certificates()[0]
    data = b"hashed on the token"
    digest = streebog256(data).digest()
    token.mechanisms()
    saved = token._mechanisms
    token._mechanisms = {m for m in saved if m not in (p11.CKM_GOSTR3410, p11.CKM_GOSTR3410_512)}
    try:
        with pytest.raises(MechanismUnsupportedError):
            token.sign_digest_with_key(entry.key, digest, PINS)  # a ready digest needs the raw mechanism
        signature = token.sign_message_with_key(entry.key, data, PINS)
        assert entry.certificate.public_key().verify_digest(digest, signature)
        # CMS and PKCS#10 ask signers for sign_message, so whole documents sign on such a token too
        report = verify(sign(b"document", token.signer(entry, PINS)), validate_chain=chain_validator(pki))
        assert report.status == "valid", report.to_dict()
        request = build_request([("common_name", "hash on token")], token.key_signer(entry.key_id, PINS))
        assert verify_request(request)
        token._mechanisms = set()
        with pytest.raises(MechanismUnsupportedError):
            token.sign_message_with_key(entry.key, data, PINS)
    finally:
        token._mechanisms = saved


def test_wrong_pin_counts_down_then_locks(module, sim) -> None:
    root, _ = sim
    token = module.token(label="Tries")
    key = token.certificates()[0].key
    digest = streebog256(b"x").digest()
    wrong = StaticPinProvider(b"0000")
    with pytest.raises(PinIncorrectError) as first:
        token.sign_digest_with_key(key, digest, wrong)
    assert first.value.retriable and first.value.tries_left is None  # 2 left: the token only says "count low"
    assert token.info().pin_count_low
    with pytest.raises(PinIncorrectError) as second:
        token.sign_digest_with_key(key, digest, wrong)
    assert second.value.tries_left == 1 and second.value.to_dict()["details"]["tries_left"] == "1"
    with pytest.raises(PinLockedError) as third:
        token.sign_digest_with_key(key, digest, wrong)
    assert third.value.code == "pin_locked" and not third.value.retriable
    right = StaticPinProvider(PIN)
    with pytest.raises(PinLockedError):
        token.sign_digest_with_key(key, digest, right)
    assert right.calls == 0  # a locked PIN is not asked for
    root.find("Tries").unblock(SO_PIN, PIN)
    assert token.certificates()[0].certificate.public_key().verify_digest(
        digest, token.sign_digest_with_key(key, digest, right))


def test_declined_pin_is_pin_required(module) -> None:
    token = module.token(label="Employee")
    key = token.certificates()[0].key
    with pytest.raises(PinRequiredError) as exc:
        token.sign_digest_with_key(key, streebog256(b"x").digest(), StaticPinProvider(None))
    assert exc.value.code == "pin_required"


def test_removed_token_then_back(module, sim) -> None:
    root, _ = sim
    token = module.token(label="Employee")
    entry = token.certificates()[0]
    digest = streebog256(b"while removed").digest()
    store = root.find("Employee")
    store.set_present(False)
    try:
        with pytest.raises(TokenRemovedError) as exc:
            token.sign_digest_with_key(entry.key, digest, PINS)
        assert exc.value.retriable and exc.value.code == "token_removed"
        with pytest.raises(TokenRemovedError):
            token.certificates()
        assert "Employee" not in {t.label for t in module.tokens()}
    finally:
        store.set_present(True)
    back = module.token(label="Employee")
    assert back.certificates()[0].cert_id == entry.cert_id
    assert entry.certificate.public_key().verify_digest(digest, back.sign_digest_with_key(entry.key, digest, PINS))
    # the old object works again too: its dead session is replaced
    assert entry.certificate.public_key().verify_digest(digest, token.sign_digest_with_key(entry.key, digest, PINS))


def test_module_missing_or_not_a_module(tmp_path: Path) -> None:
    require(PyKCS11 is not None, "PyKCS11")
    missing = tmp_path / "libnothere.so"
    with pytest.raises(ModuleLoadError) as exc:
        p11.Pkcs11Module(missing)
    assert exc.value.code == "module_load_failed" and exc.value.details["path"] == str(missing)
    fake = tmp_path / "libfake.so"
    fake.write_bytes(b"not an ELF file at all")
    with pytest.raises(ModuleLoadError) as exc:
        p11.Pkcs11Module(fake)
    assert str(fake) in exc.value.message
    elf = next(Path(gost.__file__).parent.glob("_streebog_c*"))
    with pytest.raises(ModuleLoadError):  # a real shared library without C_GetFunctionList
        p11.Pkcs11Module(elf)
    modules, errors = p11.load_modules([str(missing)])
    assert modules == [] and [e.details["path"] for e in errors] == [str(missing)]


def test_discovery_paths_and_configuration(tmp_path: Path) -> None:
    mod = tmp_path / "libvendor.so"
    mod.write_bytes(b"")
    env = {p11.MODULES_ENV: os.pathsep.join([str(mod), "/nowhere/libx.so", str(mod)])}
    found = p11.discover_modules(["/etc/extra.so"], environ=env)
    assert found[-3:] == [str(mod), "/nowhere/libx.so", "/etc/extra.so"]
    assert any(p.endswith("librtpkcs11ecp.so") for p in p11.default_module_paths("linux"))
    assert any(p.endswith("jcPKCS11-2.dll") for p in p11.default_module_paths("win32"))
    assert any("librtpkcs11ecp.dylib" in p for p in p11.default_module_paths("darwin"))
    assert any(p.endswith("opensc-pkcs11.so") for p in p11.default_module_paths("linux"))


@pytest.mark.parametrize(("curve_oid", "hasher"), [("1.2.643.7.1.2.1.1.1", streebog256),
                                                    ("1.2.643.7.1.2.1.2.1", streebog512)])
def test_keygen_import_sign_delete_round_trip(module, sim, curve_oid, hasher) -> None:
    _, pki = sim
    token = module.token(label="Head")
    key_id, public_key = token.generate_key_pair(curve_oid, PINS, label="new key")
    assert public_key.curve.oid == curve_oid
    assert (key_id, public_key.to_bytes()) in [(k, p.to_bytes()) for k, p in token.public_keys()]
    now = datetime.now(UTC)
    issued = Certificate.from_der(b.build_certificate(
        subject=[("common_name", "Новый ключ")], public_key=public_key, signing_key=pki.intermediate.key,
        issuer=pki.intermediate.certificate, not_before=now - timedelta(minutes=1),
        not_after=now + timedelta(days=30)).dump())
    assert token.import_certificate(issued, PINS) == key_id
    entry = token.certificate(cert_id_of(issued))
    assert entry.key_id == key_id and entry.has_private_key
    digest = hasher(b"signed by a generated key").digest()
    assert public_key.verify_digest(digest, token.sign_digest_with_key(entry.key, digest, PINS))
    assert token.delete_objects(key_id, PINS) == 3  # certificate, public and private key
    with pytest.raises(KeyNotFoundError):
        token.certificate(entry.cert_id)
    with pytest.raises(KeyNotFoundError):
        token.import_certificate(issued, PINS)  # its key pair is gone


def test_twenty_concurrent_signatures_across_two_tokens(module) -> None:
    tokens = [module.token(label="Head"), module.token(label="Employee")]
    entries = [t.certificates()[0] for t in tokens]
    results: list[tuple[int, bytes, bytes]] = []
    failures: list[BaseException] = []
    start = threading.Barrier(20)

    def work(i: int) -> None:
        token, entry = tokens[i % 2], entries[i % 2]
        digest = streebog256(b"request %d" % i).digest()
        try:
            start.wait()
            results.append((i, digest, token.sign_digest_with_key(entry.key, digest, StaticPinProvider(PIN))))
        except BaseException as exc:  # collected and reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failures, failures
    assert len(results) == 20
    for i, digest, signature in results:
        assert entries[i % 2].certificate.public_key().verify_digest(digest, signature)


def test_ckr_table() -> None:
    assert isinstance(error_for_ckr(0xA0, "C_Login"), PinIncorrectError)
    assert isinstance(error_for_ckr(0xA4, "C_Login"), PinLockedError)
    assert isinstance(error_for_ckr(0xE0, "C_Sign"), TokenRemovedError)
    assert isinstance(error_for_ckr(0x32, "C_Sign"), TokenRemovedError)
    assert isinstance(error_for_ckr(0x70, "C_SignInit"), MechanismUnsupportedError)
    generic = error_for_ckr(0x06, "C_Sign")
    assert generic.code == "token_error" and "C_Sign" in generic.message and generic.message_ru


_GC_DURING_LOAD = """
import gc, os, sys, threading
import PyKCS11
import pkcs11_sim
from signagent.tokens.pkcs11 import Pkcs11Module

real = threading.Lock()


class Probe:
    # PyKCS11's class-wide lock, instrumented: a collection happens inside every locked section while the collector
    # is on (as it may at any allocation, e.g. in the simulator's C_Initialize); re-entry by the owner is a deadlock
    owner = None

    def __enter__(self):
        if self.owner == threading.get_ident():
            print("DEADLOCK: PyKCS11Lib.__del__ inside PyKCS11's own lock", flush=True)
            os._exit(3)
        real.acquire()
        self.owner = threading.get_ident()
        if gc.isenabled():
            gc.collect()
        return self

    def __exit__(self, *exc):
        self.owner = None
        real.release()


PyKCS11.PyKCS11Lib._lock = Probe()
gc.set_threshold(10**6)  # no automatic collection before the probe's
junk = PyKCS11.PyKCS11Lib()
junk.cycle = junk  # freed only by the cyclic collector; its __del__ takes the lock
del junk
module = Pkcs11Module(pkcs11_sim.module_path())
labels = [t.label for t in module.tokens()]
module.close()
print("loaded", labels)
"""


def test_garbage_collection_during_module_load_does_not_hang(sim, tmp_path: Path) -> None:
    """A PyKCS11Lib collected by the cyclic GC while PyKCS11 holds its load lock used to deadlock the process
    (seen as a hung test run); the backend pauses the collector around load and unload."""
    import subprocess
    import sys

    root, _ = sim
    env = dict(os.environ, PKCS11_SIM_DIR=str(root.path))
    try:
        done = subprocess.run([sys.executable, "-c", _GC_DURING_LOAD], env=env, capture_output=True, text=True,
                              timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("loading a PKCS#11 module hung (garbage collection inside PyKCS11's load lock)")
    assert done.returncode == 0 and "loaded" in done.stdout and "Head" in done.stdout, done.stdout + done.stderr
