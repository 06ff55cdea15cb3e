"""The certificate inventory over two simulator tokens (loaded through PyKCS11) and a software key directory."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

import pkcs11_sim
from pkcs11_sim.provision import provision
from pkcs11_sim.store import SimRoot
from signagent.service import inventory as inv
from signagent.service import sources as src
from signagent.testpki import generate
from signagent.tokens import discovery
from signagent.tokens.errors import TokenRemovedError
from signagent.tokens.protocol import cert_id_of
from signagent.x509 import Certificate
from tests.conftest import require

try:
    import PyKCS11
except ImportError:
    PyKCS11 = None

PIN, SO_PIN = b"1234", b"87654321"


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):
    """Tokens "Head" (head profile) and "Person" (person profile) in a fresh simulator directory."""
    require(PyKCS11 is not None, "PyKCS11")
    path = tmp_path_factory.mktemp("sim")
    saved = {k: os.environ.get(k) for k in ("PKCS11_SIM_DIR", "SIGNAGENT_PKCS11_MODULES", "SIGNAGENT_KEYS_DIR")}
    os.environ["PKCS11_SIM_DIR"] = str(path)
    os.environ["SIGNAGENT_PKCS11_MODULES"] = pkcs11_sim.module_path()
    os.environ["SIGNAGENT_KEYS_DIR"] = str(tmp_path_factory.mktemp("nokeys"))
    pki = generate(tmp_path_factory.mktemp("pki"))
    root = SimRoot(path)
    for label, profile in (("Head", "head"), ("Person", "person")):
        provision(root, label=label, pin=PIN, so_pin=SO_PIN, profile=profile, pki_dir=pki.out_dir)
    yield root, pki
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture()
def sources(sim):
    tokens, modules, errors = src.default_sources(keys_dir=os.environ["SIGNAGENT_KEYS_DIR"])
    assert errors == []
    yield tokens
    for module in modules:
        module.close()


def _ids(pki, name: str) -> str:
    return cert_id_of(Certificate.from_der(pki[name].certificate.dump()))


def test_lists_both_tokens_with_identity_key_and_valid_chain(sim, sources) -> None:
    _, pki = sim
    labels = {s.label for s in sources}
    assert {"Head", "Person", "software keys"} <= labels
    result = inv.build_inventory(sources, trust_roots=[pki.root.certificate],
                                 intermediates=[pki.intermediate.certificate])
    assert result.errors == ()
    by_id = {e.id: e for e in result.entries}
    head, person = by_id[_ids(pki, "head")], by_id[_ids(pki, "person")]
    assert (head.kind, head.token_label, person.token_label) == ("pkcs11", "Head", "Person")
    head_identity = Certificate.from_der(pki["head"].certificate.dump()).identity
    assert head.identity["ogrn"] == head_identity.ogrn and head.identity["ogrn"]
    assert head.identity["full_name"] == head_identity.full_name and head.identity["organization"]
    assert person.identity["snils"] and person.identity["organization"] is None
    assert head.has_private_key and person.has_private_key
    assert head.chain_status == person.chain_status == "valid"
    assert head.warnings == () and head.days_left > 30
    doc = result.to_dict()
    entry = next(c for c in doc["certificates"] if c["id"] == head.id)
    assert entry["source"] == {"kind": "pkcs11", "label": "Head", "serial": head.token_serial,
                               "model": head.token_model, "location": pkcs11_sim.module_path(), "reader": None}
    assert entry["chain"]["status"] == "valid" and entry["has_private_key"] is True
    assert len(entry["id"]) == 64


def test_without_trust_roots_the_chain_is_unknown(sources) -> None:
    result = inv.build_inventory(sources)
    assert {e.chain_status for e in result.entries} == {"unknown"}


def test_wrong_root_gives_a_non_valid_status(sim, sources) -> None:
    _, pki = sim
    result = inv.build_inventory(sources, trust_roots=[pki["employee"].certificate])  # not a CA of the chain
    head = result.entry(_ids(pki, "head"))
    assert head is not None and head.chain_status in ("invalid", "indeterminate")


@pytest.mark.parametrize(("days_before_end", "threshold"), [(20, 30), (10, 14)])
def test_warning_near_the_end(sim, sources, days_before_end: int, threshold: int) -> None:
    _, pki = sim
    cert = Certificate.from_der(pki["person"].certificate.dump())
    end = cert.not_after
    key_end = cert.identity.private_key_not_after
    assert key_end is None or key_end >= end  # the person certificate's key period does not end first
    now = end - timedelta(days=days_before_end, hours=1)
    result = inv.build_inventory(sources, trust_roots=[pki.root.certificate],
                                 intermediates=[pki.intermediate.certificate], now=now)
    entry = result.entry(cert_id_of(cert))
    assert entry is not None and entry.days_left == days_before_end
    codes = [w["code"] for w in entry.warnings if w["subject"] == "certificate"]
    assert codes == [f"certificate_expires_in_{threshold}_days"]
    assert entry.chain_status == "valid"  # still inside every validity period


def test_expired_certificate_warned_as_past(sim, sources) -> None:
    _, pki = sim
    cert = Certificate.from_der(pki["head"].certificate.dump())
    entry = inv.build_inventory(sources, now=cert.not_after + timedelta(days=3)).entry(cert_id_of(cert))
    assert entry is not None and entry.days_left < 0
    assert "certificate_expires_past" in [w["code"] for w in entry.warnings]


def test_removed_token_is_reported_and_the_other_still_lists(sim, sources) -> None:
    root, _ = sim
    store = root.find("Person")
    store.set_present(False)
    try:
        result = inv.build_inventory(sources)
    finally:
        store.set_present(True)
    assert [e.token_label for e in result.entries if e.kind == "pkcs11"] == ["Head"]
    assert len(result.errors) == 1
    failed = result.errors[0]
    assert (failed.kind, failed.label) == ("pkcs11", "Person")
    assert isinstance(failed.error, TokenRemovedError)
    assert result.to_dict()["errors"][0]["error"]["code"] == "token_removed"


def test_missing_module_is_an_error_not_a_crash(sim, tmp_path) -> None:
    tokens, modules, errors = src.default_sources([str(tmp_path / "missing.so")], keys_dir=str(tmp_path))
    try:
        assert [e.code for e in errors] == ["module_load_failed"]
        assert {"Head", "Person"} <= {t.label for t in tokens}
    finally:
        for module in modules:
            module.close()


@pytest.mark.parametrize(("a", "b", "same"), [
    ("1A2B3C4D5E6F7081", "1a2b3c4d5e6f7081", True),  # the sim card's EF.TokenInfo vs OpenSC's lower-case hex
    ("00001A2B", "1A2B", True),  # modules pad serials with zeros
    ("1A:2B 3C", "1a2b3c", True),
    ("3132333441424344", "1234ABCD", True),  # EF.TokenInfo octets shown as hex, the module shows them as text
    ("1A2B3C4D", "1A2B3C4E", False),
    ("3130", "10", False),  # too short to trust the text reading
    ("", "", False),
    ("0000", "", False),
])
def test_same_serial(a: str, b: str, same: bool) -> None:
    assert discovery.same_serial(a, b) is same and discovery.same_serial(b, a) is same


def test_no_pcsc_service_is_a_status_not_an_error(sim, tmp_path, monkeypatch) -> None:
    """pcsc-lite's client library finds pcscd through PCSCLITE_CSOCK_NAME: pointing it at nothing is a machine
    without pcscd (read when pyscard is first loaded, hence a fresh interpreter)."""
    import json
    import subprocess
    import sys

    script = ("import json; from signagent.service import inventory as inv\n"
              f"r = inv.collect_inventory(use_trust_store=False, keys_dir={str(tmp_path)!r})\n"
              "print(json.dumps(r.to_dict()))")
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, encoding="utf-8", env=env,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["errors"] == []
    assert doc["pcsc"]["available"] is False and doc["pcsc"]["error"]["code"] == "pcsc_unavailable"
    assert {c["source"]["label"] for c in doc["certificates"]} == {"Head", "Person"}
