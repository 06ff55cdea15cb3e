"""The inventory over a PKCS#15 card read through a real pcscd (the simulator's token served as a vpcd card).

* No PKCS#11 module at all (``$SIGNAGENT_PKCS11_MODULES`` empty and the vendor paths searched empty): the card is a
  source of its own, kind "pcsc", its certificate valid against the test PKI, and it signs.
* This machine's real discovery: OpenSC's opensc-pkcs11.so sits at a usual path and is loaded. With its default
  configuration it does not recognise the simulator's card; with its PKCS#15 "default" driver enabled it shows the
  token (same serial, lower case) but none of its GOST certificates -- the card's own reading then replaces it.
* With the simulator's PKCS#11 module too, the token is listed once, through PKCS#11.
* A card pulled out, or held exclusively by another program: no crash, and the inventory says so or forgets it.

The pcscd fixture is the simulator suite's; every wait is bounded (``WAIT`` seconds).
"""

from __future__ import annotations

import contextlib
import json
import locale
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import pkcs11_sim
from pkcs11_sim.pcsc.server import start, stop
from pkcs11_sim.provision import Provisioned, provision
from pkcs11_sim.store import SimRoot
from signagent.cli import main
from signagent.gost import streebog256, streebog512
from signagent.service import inventory as inv
from signagent.service import sources as src
from signagent.testpki import TestPKI, generate
from signagent.tokens import discovery, pkcs11
from signagent.tokens.errors import PinIncorrectError
from signagent.tokens.pkcs11 import discovery as module_paths
from signagent.tokens.pkcs15 import Pkcs15Token
from signagent.tokens.protocol import StaticPinProvider, cert_id_of
from signagent.x509 import Certificate
from tests.conftest import require
from tests.pkcs11_sim.test_pcsc import WAIT, _wait_state, pcscd  # noqa: F401  (the session fixture, reused)

PIN, SO = b"12345678", b"87654321"
READER = 1
READER_NAME = f"Virtual PCD 00 {READER:02d}"
SIM_MODEL = "pkcs11-sim virtual card"
OPENSC_PATHS = [p for p in pkcs11.default_module_paths("linux") if p.endswith("/opensc-pkcs11.so")]


@dataclass
class World:
    pki: TestPKI
    made: Provisioned
    keys_dir: str
    cert: Certificate

    @property
    def cert_id(self) -> str:
        return cert_id_of(self.cert)

    @property
    def validation(self) -> dict[str, list[object]]:
        return {"trust_roots": [self.pki.root.certificate], "intermediates": [self.pki.intermediate.certificate]}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One provisioned token ("head" profile); no PKCS#11 module configured; no card server outlives the module."""
    base = tmp_path_factory.mktemp("inventory-pcsc")
    pki = generate(base / "pki")
    root = SimRoot(base / "sim")
    made = provision(root, label="p15-inventory", pin=PIN, so_pin=SO, profile="head", pki_dir=base / "pki")
    mp = pytest.MonkeyPatch()
    mp.setenv("PKCS11_SIM_DIR", str(base / "sim"))
    mp.setenv("SIGNAGENT_PKCS11_MODULES", "")
    mp.setenv("SIGNAGENT_KEYS_DIR", str(base / "no-keys"))
    mp.delenv("OPENSC_CONF", raising=False)
    mp.setenv("LANG", "C")
    try:
        yield World(pki, made, str(base / "no-keys"), Certificate.from_der(made.certificate.read_bytes()))
    finally:
        stop(made.store)
        mp.undo()


@pytest.fixture
def card(pcscd: None, world: World) -> Iterator[World]:  # noqa: F811
    """The token as a card in reader 1, pulled out afterwards."""
    start(world.made.store, READER, others=[world.made.store])
    _wait_state(READER_NAME, True)
    yield world
    stop(world.made.store)
    _wait_state(READER_NAME, False)


@pytest.fixture
def no_vendor_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine where no vendor module is installed at the usual paths (this one has OpenSC's)."""
    monkeypatch.setattr(module_paths, "default_module_paths", lambda platform=None: [])
    assert pkcs11.discover_modules() == []


def _mine(entries: tuple[inv.InventoryEntry, ...], world: World) -> list[inv.InventoryEntry]:
    return [e for e in entries if e.id == world.cert_id]


def _reader_errors(errors: tuple[discovery.SourceError, ...] | list[discovery.SourceError]
                   ) -> list[discovery.SourceError]:
    return [e for e in errors if e.location == READER_NAME]


# --- no PKCS#11 module: the card read over APDUs ---------------------------------------------------------------------
def test_card_is_a_source_of_its_own(card: World, no_vendor_modules: None) -> None:
    found = src.discover_sources(keys_dir=card.keys_dir)
    try:
        assert found.modules == [] and found.errors == [] and found.pcsc == discovery.PcscStatus(True)
        assert _reader_errors(found.card_errors) == []
        (source,) = [t for t in found.tokens if isinstance(t, Pkcs15Token) and t.reader == READER_NAME]
        assert (source.label, source.serial, source.model) == ("p15-inventory", card.made.store.serial, SIM_MODEL)
        assert inv._kind_of(source) == "pcsc"
        result = inv.build_inventory(found.tokens, **card.validation)
    finally:
        found.close()
    (entry,) = _mine(result.entries, card)
    assert (entry.kind, entry.token_label, entry.token_serial, entry.token_model, entry.token_location) == (
        "pcsc", "p15-inventory", card.made.store.serial, SIM_MODEL, READER_NAME)
    assert entry.has_private_key and entry.label == card.made.entity
    assert entry.identity == card.cert.identity.to_dict() and entry.identity["ogrn"]
    assert entry.chain_status == "valid" and entry.chain_reasons == ()
    source_doc = entry.to_dict()["source"]
    assert source_doc["kind"] == "pcsc" and source_doc["reader"] == source_doc["location"] == READER_NAME


def test_collect_inventory_reports_pcsc_available(card: World, no_vendor_modules: None) -> None:
    result = inv.collect_inventory(use_trust_store=False, keys_dir=card.keys_dir,
                                   trust_roots=[card.pki.root.certificate],
                                   intermediates=[card.pki.intermediate.certificate])
    (entry,) = _mine(result.entries, card)
    assert entry.kind == "pcsc" and entry.chain_status == "valid"
    assert result.extra_errors == () and _reader_errors(result.errors) == []
    doc = result.to_dict()
    assert doc["pcsc"] == {"available": True, "error": None}


def test_signing_through_the_inventory_source(card: World, no_vendor_modules: None) -> None:
    tokens, modules, errors = src.default_sources(keys_dir=card.keys_dir)
    assert modules == [] and errors == []
    (source,) = [t for t in tokens if getattr(t, "reader", None) == READER_NAME]
    key = card.cert.public_key()
    hasher = streebog256 if key.curve.size == 32 else streebog512
    digest = hasher(b"registration request").digest()
    full = card.made.store.pin_status("user")["max_tries"]
    (entry,) = [e for e in source.certificates() if e.cert_id == card.cert_id]
    with pytest.raises(PinIncorrectError) as err:  # a wrong PIN: typed, with the tries left the card reports
        source.sign_digest_with_key(entry.key, digest, StaticPinProvider(b"00000000"))
    assert err.value.tries_left == full - 1
    pins = StaticPinProvider(PIN)
    signature = source.sign_digest_with_key(entry.key, digest, pins)
    assert pins.calls == 1 and len(signature) == 2 * key.curve.size
    assert key.verify_digest(digest, signature)
    assert not key.verify_digest(hasher(b"another").digest(), signature)
    assert card.made.store.pin_status("user")["tries_left"] == full  # the right PIN reset the counter


# --- this machine's own discovery (OpenSC is installed here) ---------------------------------------------------------
def _opensc_conf(tmp_path: Path) -> Path:
    conf = tmp_path / "opensc.conf"
    conf.write_text("app default {\n  enable_default_driver = true;\n  card_drivers = default;\n}\n")
    return conf


def test_real_discovery_lists_the_card_once(card: World) -> None:
    """Whatever vendor modules this machine has: the card's certificate appears once, read over PC/SC unless a
    module shows it (the only module at the usual paths here, OpenSC, does not recognise the simulator's card)."""
    found = src.discover_sources(keys_dir=card.keys_dir)
    try:
        same = [t for t in found.tokens if not isinstance(t, Pkcs15Token)
                and discovery.same_serial(t.serial, card.made.store.serial)]
        result = inv.build_inventory(found.tokens)
    finally:
        found.close()
    mine = _mine(result.entries, card)
    assert len(mine) == 1
    assert mine[0].kind == ("pkcs11" if same else "pcsc")
    assert _reader_errors(found.card_errors) == []


def test_opensc_seeing_the_token_without_its_certificates_is_replaced(card: World, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenSC with its PKCS#15 driver enabled shows the card as a PKCS#11 token with the serial in lower case, but
    not its GOST certificate: the card is still listed (once, read over PC/SC) and the empty OpenSC token is not a
    second token of the same label."""
    opensc = next((p for p in OPENSC_PATHS if os.path.isfile(p)), None)
    require(opensc, "OpenSC's opensc-pkcs11.so (Debian package opensc)")
    monkeypatch.setenv("OPENSC_CONF", str(_opensc_conf(tmp_path)))
    monkeypatch.setattr(module_paths, "default_module_paths", lambda platform=None: [opensc])
    before = locale.setlocale(locale.LC_ALL)
    view = src.list_tokens()
    (row,) = [m for m in view["modules"] if m["path"] == opensc]
    seen = [t for t in row["tokens"] if t["label"] == "p15-inventory"]
    assert seen and seen[0]["serial"] == card.made.store.serial.lower()  # OpenSC shows the hex in lower case
    (reader,) = [r for r in view["readers"] if r["name"] == READER_NAME]
    assert [s["module"] for s in reader["card"]["same_as"]] == [opensc] and reader["card"]["listed"]
    found = src.discover_sources(keys_dir=card.keys_dir)
    try:
        labelled = [t for t in found.tokens if t.label == "p15-inventory"]
        assert [type(t) for t in labelled] == [Pkcs15Token]
        result = inv.build_inventory(found.tokens)
    finally:
        found.close()
    (entry,) = _mine(result.entries, card)
    assert entry.kind == "pcsc" and entry.has_private_key
    # OpenSC calls setlocale(LC_ALL, "") when it meets the card; under LANG=C that would make this process's text
    # encoding ASCII. The backend puts the locale back after every module call.
    assert locale.setlocale(locale.LC_ALL) == before


# --- the simulator's PKCS#11 module as well --------------------------------------------------------------------------
def test_with_the_pkcs11_module_too_the_token_is_listed_once(card: World, no_vendor_modules: None,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGNAGENT_PKCS11_MODULES", pkcs11_sim.module_path())
    found = src.discover_sources(keys_dir=card.keys_dir)
    try:
        labelled = [t for t in found.tokens if t.label == "p15-inventory"]
        assert [type(t) for t in labelled] == [pkcs11.Pkcs11Token]
        (seen,) = [c for c in found.cards if c.reader == READER_NAME]
        assert seen.same_as == tuple(labelled) and not seen.listed
        result = inv.build_inventory(found.tokens, **card.validation)
    finally:
        found.close()
    (entry,) = _mine(result.entries, card)
    assert entry.kind == "pkcs11" and entry.token_location == pkcs11_sim.module_path()
    assert entry.chain_status == "valid" and _reader_errors(found.card_errors) == []
    view = src.list_tokens()
    (reader,) = [r for r in view["readers"] if r["name"] == READER_NAME]
    assert reader["card"]["same_as"] == [{"module": pkcs11_sim.module_path(), "label": "p15-inventory",
                                          "serial": card.made.store.serial}]
    assert reader["card"]["listed"] is False


# --- signagent tokens -------------------------------------------------------------------------------------------------
def test_tokens_command_shows_the_card(card: World, no_vendor_modules: None, capsys: pytest.CaptureFixture) -> None:
    assert main(["tokens", "--json"]) == 0
    view = json.loads(capsys.readouterr().out)
    assert view["pcsc"] == {"available": True, "error": None} and view["modules"] == []
    (reader,) = [r for r in view["readers"] if r["name"] == READER_NAME]
    assert reader["present"] and reader["model"] == SIM_MODEL
    assert reader["card"] == {"label": "p15-inventory", "serial": card.made.store.serial,
                              "manufacturer": reader["card"]["manufacturer"], "error": None, "listed": True,
                              "same_as": []}
    assert reader["card"]["manufacturer"]
    assert main(["tokens"]) == 0
    text = capsys.readouterr().out
    assert f"PKCS#15: «p15-inventory»  serial: {card.made.store.serial}" in text
    assert "no PKCS#11 module shows it" in text


# --- removal and a busy card ------------------------------------------------------------------------------------------
def test_pulled_out_card_is_forgotten_without_an_error(card: World, no_vendor_modules: None) -> None:
    tokens, modules, errors = src.default_sources(keys_dir=card.keys_dir)
    assert modules == [] and errors == []
    assert [t for t in tokens if getattr(t, "reader", None) == READER_NAME]
    stop(card.made.store)
    _wait_state(READER_NAME, False)
    # A source taken before the removal: its listing is a typed error for that reader, not a crash.
    stale = inv.build_inventory(tokens)
    (failed,) = _reader_errors(stale.errors)
    assert (failed.kind, failed.label, failed.error.code) == ("pcsc", "p15-inventory", "token_removed")
    # The next inventory no longer has the card, and says nothing about it.
    result = inv.collect_inventory(use_trust_store=False, keys_dir=card.keys_dir)
    assert _mine(result.entries, card) == [] and _reader_errors(result.errors) == []
    assert result.pcsc == discovery.PcscStatus(True)


@contextlib.contextmanager
def _held_exclusively(reader: str) -> Iterator[None]:
    """Another program holding the card: an exclusive PC/SC connection from a context of our own."""
    from smartcard import scard

    rv, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    assert rv == scard.SCARD_S_SUCCESS
    try:
        rv, handle, _ = scard.SCardConnect(ctx, reader, scard.SCARD_SHARE_EXCLUSIVE,
                                           scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
        assert rv == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(rv)
        try:
            yield
        finally:
            scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)
    finally:
        scard.SCardReleaseContext(ctx)


def test_busy_card_is_an_error_entry(card: World, no_vendor_modules: None) -> None:
    with _held_exclusively(READER_NAME):
        result = inv.collect_inventory(use_trust_store=False, keys_dir=card.keys_dir)
        view = src.list_tokens()
    (failed,) = _reader_errors(result.errors)
    assert (failed.kind, failed.label, failed.error.code) == ("pcsc", READER_NAME, "card_busy")
    assert _mine(result.entries, card) == []
    doc = result.to_dict()
    assert [e["source"]["location"] for e in doc["errors"] if e["error"]["code"] == "card_busy"] == [READER_NAME]
    (reader,) = [r for r in view["readers"] if r["name"] == READER_NAME]
    assert reader["in_use"] and reader["card"]["error"]["code"] == "card_busy"
    # Released: the next inventory reads it again.
    again = inv.collect_inventory(use_trust_store=False, keys_dir=card.keys_dir)
    assert [e.kind for e in _mine(again.entries, card)] == ["pcsc"]


def test_cli_signs_on_the_card_and_openssl_verifies(card: World, no_vendor_modules: None, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """`signagent sign --token LABEL` with only the PC/SC card present: the CMS is made over APDUs (MSE + PSO CDS)
    and both our verifier and `openssl cms -verify` accept it."""
    from tests.cms.conftest import openssl_ready
    from tests.oracles import openssl_gost

    doc, sig, pin = tmp_path / "doc.txt", tmp_path / "doc.sig", tmp_path / "pin"
    doc.write_bytes("Заявление, подписанное картой".encode())
    pin.write_bytes(PIN + b"\n")
    rc = main(["sign", str(doc), "--token", "p15-inventory", "--cert", card.cert_id[:16], "--pin-file", str(pin),
               "--chain", str(card.pki.intermediate.paths["pem"]), "-o", str(sig)])
    assert rc == 0, capsys.readouterr().err
    rc = main(["verify", str(sig), "--trust", str(card.pki.root.paths["pem"]), "--offline", "--revocation", "off",
               "--json"])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and report["status"] == "valid"
    assert report["signers"][0]["signer"]["sha1"] == card.cert.sha1_thumbprint
    require(openssl_ready(), f"openssl with the GOST engine ({openssl_gost.reason()})")
    done = openssl_gost.run_cli(["cms", "-verify", "-binary", "-inform", "DER", "-in", str(sig), "-CAfile",
                                 str(card.pki.out_dir / "chain.pem"), "-out", "/dev/null"])
    assert done.returncode == 0, done.stderr.decode(errors="replace")
