"""`pkcs11-sim provision` names the certificate by the id signagent uses, and the CKA_ID apart (issue 11, item 8)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pkcs11_sim.cli import main as sim_main
from signagent.cli import main as agent_main
from tests.conftest import simulator_env

PIN, SO_PIN = "1234", "87654321"


def _secret_file(path: Path, value: str) -> str:
    path.write_text(value + "\n")
    os.chmod(path, 0o600)
    return str(path)


def test_provision_prints_the_id_signagent_certs_shows_and_sign_accepts(
        tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with simulator_env(tmp_path_factory):
        pin = _secret_file(tmp_path / "pin", PIN)
        so_pin = _secret_file(tmp_path / "so-pin", SO_PIN)
        args = ["provision", "--label", "Head", "--pin-file", pin, "--so-pin-file", so_pin, "--profile", "head"]
        assert sim_main([*args, "--json"]) == 0
        made = json.loads(capsys.readouterr().out)
        cert_id, cka_id = made["certificate_id"], made["cka_id"]
        assert len(cert_id) == 64 and len(cka_id) == 40 and not cert_id.startswith(cka_id)
        assert "key_id" not in made and "id" not in made  # no third, ambiguous "id"

        # Provisioning again reuses the certificate on the token; the text output labels both ids.
        assert sim_main(args) == 0
        lines = capsys.readouterr().out.splitlines()
        assert f"certificate id (signagent certs, signagent sign --cert): {cert_id}" in lines
        assert f"CKA_ID: {cka_id}" in lines

        trust = ["--no-trust-store", "--trust", made["root_certificate"],
                 "--intermediate", made["intermediate_certificate"]]
        assert agent_main(["certs", "--json", *trust]) == 0
        (listed,) = [c for c in json.loads(capsys.readouterr().out)["certificates"]
                     if c["source"]["label"] == "Head"]
        assert listed["id"] == cert_id and listed["has_private_key"]

        document = tmp_path / "document.txt"
        document.write_text("Заявление о регистрации\n", encoding="utf-8")
        for i, ref in enumerate((cert_id, cert_id[:16])):  # the full id, and the prefix `signagent certs` prints
            signature = tmp_path / f"document.{i}.sig"
            assert agent_main(["sign", str(document), "--token", "Head", "--cert", ref, "--pin-file", pin,
                               "-o", str(signature)]) == 0, capsys.readouterr().err
            assert agent_main(["verify", str(signature), *trust[1:], "--offline", "--revocation", "off"]) == 0
        capsys.readouterr()
