"""`signagent tokens` and `signagent certs` against two simulator tokens, in-process."""

from __future__ import annotations

import json

import pytest

import pkcs11_sim
import signagent.cli.tokens  # noqa: F401  (registers the commands until the package imports it)
from pkcs11_sim.provision import provision
from pkcs11_sim.store import SimRoot
from signagent.cli import main
from signagent.testpki import generate
from tests.conftest import simulator_env


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory):
    with simulator_env(tmp_path_factory) as path:
        pki = generate(tmp_path_factory.mktemp("pki"))
        for label, profile in (("Head", "head"), ("Person", "person")):
            provision(SimRoot(path), label=label, pin=b"1234", so_pin=b"87654321", profile=profile,
                      pki_dir=pki.out_dir)
        yield pki


def test_tokens_json(env, capsys) -> None:
    assert main(["tokens", "--json"]) == 0
    view = json.loads(capsys.readouterr().out)
    assert set(view) == {"modules", "readers", "pcsc", "errors"}
    sim = next(m for m in view["modules"] if m["path"] == pkcs11_sim.module_path())
    assert {t["label"] for t in sim["tokens"]} == {"Head", "Person"}
    assert all(t["serial"] and t["model"] for t in sim["tokens"])
    assert isinstance(view["pcsc"]["available"], bool)


def test_tokens_text(env, capsys) -> None:
    assert main(["tokens"]) == 0
    out = capsys.readouterr().out
    assert "«Head»" in out and "«Person»" in out and "PC/SC" in out


def test_certs_json(env, capsys) -> None:
    trust = ["--trust", str(env.root.paths["pem"]), "--intermediate", str(env.intermediate.paths["pem"])]
    assert main(["certs", "--json", "--no-trust-store", *trust]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"generated_at", "certificates", "errors", "pcsc"} and doc["errors"] == []
    assert isinstance(doc["pcsc"]["available"], bool)
    by_label = {c["source"]["label"]: c for c in doc["certificates"]}
    assert set(by_label) == {"Head", "Person"}
    head = by_label["Head"]
    assert head["source"]["kind"] == "pkcs11" and head["has_private_key"] is True
    assert head["identity"]["ogrn"] and len(head["id"]) == 64 and head["days_left"] > 30
    assert head["chain"] == {"status": "valid", "reasons": []}
    # without the intermediate the chain cannot be built up to the root
    assert main(["certs", "--json", "--no-trust-store", *trust[:2]]) == 0
    lonely = {c["source"]["label"]: c for c in json.loads(capsys.readouterr().out)["certificates"]}["Head"]
    assert lonely["chain"]["status"] != "valid"


def test_certs_text(env, capsys) -> None:
    assert main(["certs", "--no-trust-store"]) == 0
    out = capsys.readouterr().out
    assert "unknown" in out and "Head" in out and "Person" in out


def test_certs_text_without_pcsc_service_is_one_quiet_line(env, tmp_path) -> None:
    """No pcscd (the client library pointed at a socket nobody serves): the certificates are listed, no error,
    one line in parentheses says PC/SC is not there."""
    import os
    import subprocess
    import sys

    envvars = {**os.environ, "PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm"), "LANG": "C"}
    done = subprocess.run([sys.executable, "-m", "signagent", "certs", "--no-trust-store"], capture_output=True,
                          encoding="utf-8", env=envvars, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "Sources not listed:" not in lines and "Head" in done.stdout
    assert [line for line in lines if "PC/SC" in line] == [lines[-1]] and lines[-1].startswith("(PC/SC: ")
