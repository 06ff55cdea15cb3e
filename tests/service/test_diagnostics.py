"""signagent.service.diagnostics: a report of real parts (the simulator's PKCS#11 module with a token, a module that
does not load, a trust store with roots and CRLs, a state directory with a secret and pairings, PC/SC through a
real pcscd or none), every probe independent of the others, nothing secret in it, and the reduced public view."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

import pkcs11_sim
from pkcs11_sim.provision import provision
from pkcs11_sim.store import SimRoot
from signagent.service import diagnostics as diag
from signagent.service.config import load_config
from signagent.service.local_secret import load_or_create_secret
from signagent.service.pairing import PairingStore
from signagent.testpki import generate
from signagent.trust.store import TrustStore
from tests.conftest import simulator_env
from tests.pkcs11_sim.test_pcsc import pcscd  # noqa: F401  (the session fixture, reused)

PIN, SO = b"12345678", b"87654321"
MISSING_MODULE = "/nonexistent/libvendor-pkcs11.so"


@pytest.fixture
def setup(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> dict:
    pki = tmp_path / "pki"
    generate(pki)
    store = TrustStore(tmp_path / "trust")
    store.add_root((pki / "certs" / "root.pem").read_bytes())
    store.add_intermediate((pki / "certs" / "inter.pem").read_bytes())
    store.add_crl((pki / "crl" / "root.crl").read_bytes())
    store.add_crl((pki / "crl" / "inter.crl").read_bytes())
    state = tmp_path / "state"
    secret = load_or_create_secret(state)
    PairingStore(state).add("https://portal.test")
    config_file = tmp_path / "config.toml"
    config_file.write_text("")
    config = load_config({"trust_dir": tmp_path / "trust", "pkcs11_modules": (MISSING_MODULE,)}, environ={},
                         path=config_file)
    return {"pki": pki, "state": state, "secret": secret, "config": config, "factory": tmp_path_factory}


def test_report_of_real_parts(setup: dict) -> None:
    with simulator_env(setup["factory"]) as sim_dir:
        made = provision(SimRoot(sim_dir), label="diag-token", pin=PIN, so_pin=SO, profile="head",
                         pki_dir=setup["pki"])
        report = diag.diagnostics(setup["config"], setup["state"], now=datetime(2000, 1, 1, tzinfo=UTC))
    text = json.dumps(report)  # JSON-ready through and through
    agent = report["agent"]
    assert agent["version"] and agent["python"].count(".") == 2 and agent["gost_backend"] in ("native", "pure")
    modules = {m["path"]: m for m in report["pkcs11"]["modules"]}
    sim = modules[pkcs11_sim.module_path()]
    assert sim["loaded"] and sim["origin"] == "configured" and sim["error"] is None
    assert {"label": "diag-token", "serial": made.store.serial, "model": sim["tokens"][0]["model"]} in sim["tokens"]
    missing = modules[MISSING_MODULE]
    assert not missing["loaded"] and missing["error"]["code"] == "module_load_failed"
    assert MISSING_MODULE in report["pkcs11"]["configured"] and report["pkcs11"]["tokens"] >= 1
    trust = report["trust_store"]
    assert (trust["roots"], trust["intermediates"], trust["crls"]) == (1, 1, 2) and trust["exists"]
    assert trust["latest_crl_next_update"] and trust["crls_past_next_update"] == 0  # "now" is the year 2000
    state = report["state"]
    assert state == {"directory": str(setup["state"]), "exists": True, "local_secret_present": True,
                     "paired_sites": 1}
    assert report["config"]["api_port"] == setup["config"].api_port
    # Nothing secret: not the local secret, no PIN, no paired origin.
    assert setup["secret"] not in text and PIN.decode() not in text and "portal.test" not in text
    # CRLs past their next update are counted against the real clock far in the future.
    later = diag.diagnostics(setup["config"], setup["state"], now=datetime(2999, 1, 1, tzinfo=UTC))
    assert later["trust_store"]["crls_past_next_update"] == 2


def test_a_failing_probe_leaves_the_others(setup: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: TrustStore) -> list:  # type: ignore[type-arg]
        raise RuntimeError("/home/someone/private detail")

    monkeypatch.setattr(TrustStore, "list", broken)
    (setup["state"] / "pairings.json").write_text("{damaged")
    report = diag.diagnostics(setup["config"], setup["state"])
    assert report["trust_store"] == {"error": {"code": "internal_error", "message": "RuntimeError in the probe",
                                               "message_ru": "RuntimeError при проверке", "retriable": False}}
    assert "private detail" not in json.dumps(report)
    assert report["state"]["error"]["code"] == "invalid_input"  # the damaged pairing list, typed
    assert report["agent"]["version"] and "modules" in report["pkcs11"] and "pyscard" in report["pcsc"]


def test_pcsc_through_a_real_pcscd(pcscd: None, setup: dict) -> None:  # noqa: F811
    report = diag.diagnostics(setup["config"], setup["state"])
    pcsc = report["pcsc"]
    assert pcsc["pyscard"] and pcsc["service"] and pcsc["error"] is None and pcsc["busy_timeout"] > 0
    names = {r["name"] for r in pcsc["readers"]}
    assert {"Virtual PCD 00 00", "Virtual PCD 00 01"} <= names
    assert pcsc["cards_present"] == sum(r["present"] for r in pcsc["readers"])


def test_pcsc_without_a_service_is_reported_not_raised() -> None:
    script = ("import json; from signagent.service.diagnostics import _pcsc; print(json.dumps(_pcsc()))")
    env = {**os.environ, "PCSCLITE_CSOCK_NAME": "/nonexistent/pcscd.comm"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["pyscard"] is True and out["service"] is False and out["readers"] == []
    assert out["error"]["code"] == "pcsc_unavailable"


def test_public_view_names_nothing(setup: dict) -> None:
    with simulator_env(setup["factory"]) as sim_dir:
        made = provision(SimRoot(sim_dir), label="public-token", pin=PIN, so_pin=SO, profile="head",
                         pki_dir=setup["pki"])
        report = diag.diagnostics(setup["config"], setup["state"])
    view = diag.public_view(report)
    text = json.dumps(view)
    for private in (made.store.serial, "public-token", str(setup["state"]), pkcs11_sim.module_path(),
                    MISSING_MODULE, str(setup["config"].trust_dir), "Virtual PCD"):
        assert private not in text, private
    assert view["view"] == "public" and view["agent"]["version"] == report["agent"]["version"]
    assert view["pkcs11"]["tokens"] >= 1 and view["pkcs11"]["modules_failed"] >= 1
    assert view["trust_store"]["roots"] == 1
    assert set(view["pcsc"]) == {"pyscard", "service", "cards_present", "readers"}
    assert diag.public_view({"agent": {"error": {"code": "x"}}})["agent"] == {"error": True}


def test_the_command_line(setup: dict, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """``signagent diagnostics [--json]``: the same report, and a text form naming each part."""
    from signagent.cli import main

    monkeypatch.setenv("SIGNAGENT_TRUST_DIR", str(setup["config"].trust_dir))
    monkeypatch.setenv("SIGNAGENT_PKCS11_MODULES", MISSING_MODULE)
    monkeypatch.setenv("LANG", "C")
    assert main(["diagnostics", "--json", "--state-dir", str(setup["state"])]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["state"]["paired_sites"] == 1 and report["trust_store"]["roots"] == 1
    assert setup["secret"] not in json.dumps(report)
    assert main(["diagnostics", "--state-dir", str(setup["state"])]) == 0
    text = capsys.readouterr().out
    assert text.startswith("signagent ") and f"PKCS#11 {MISSING_MODULE}: PKCS#11 module not found" in text
    assert "1 root(s), 1 intermediate(s), 2 CRL(s)" in text and "1 paired site(s)" in text
    assert "PC/SC: " in text and setup["secret"] not in text
