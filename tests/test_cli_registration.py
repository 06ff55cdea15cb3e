"""`signagent registration verify`: a signed registration request checked as a portal would, from files; exit
codes 0 valid / 1 invalid / 2 indeterminate or usage, text in English and Russian, JSON."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

import signagent.registration
from signagent.registration.canonical import canonical_json
from signagent.registration.examples import (
    example_employee_request,
    example_entrepreneur_request,
    example_head_request,
)
from signagent.testpki import generate
from signagent.testpki.generator import TestPKI
from signagent.testpki.spec import COMPANY
from tests.cli_inprocess import run

ORIGIN = "https://portal.test"
NONCE = "5e" * 32
DEMO = Path(signagent.registration.__file__).parent / "demo"
EGRUL, EGRIP = DEMO / "egrul-romashka-test.xml", DEMO / "egrip-sidorov.xml"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return generate(tmp_path_factory.mktemp("cli-registration-pki"))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _trust(pki: TestPKI, *, crls: bool = True) -> list[object]:
    args: list[object] = ["--trust", pki.root.paths["pem"], "--intermediate", pki.intermediate.paths["pem"],
                          "--offline"]
    if crls:
        args += ["--crl", pki.out_dir / "crl" / "inter.crl", "--crl", pki.out_dir / "crl" / "root.crl"]
    return args


def _signed(pki: TestPKI, tmp_path: Path, request: object, *, name: str = "head", origin: str = ORIGIN) -> Path:
    """The request signed through `signagent sign --origin`, as a script or a server-side test makes one."""
    content, out = tmp_path / f"{name}-request.json", tmp_path / f"{name}-request.json.sig"
    content.write_bytes(canonical_json(request))  # type: ignore[arg-type]
    done = run("sign", content, "--cert", pki[name].paths["pem"], "--key", pki[name].paths["key"],
               "--origin", origin, "-o", out)
    assert done.returncode == 0, done.stderr
    return out


def _verify(signed: Path, *extra: object, pki: TestPKI, nonce: str = NONCE, lang: str = "C.UTF-8",
            crls: bool = True) -> subprocess.CompletedProcess[str]:
    return run("registration", "verify", signed, "--origin", ORIGIN, "--nonce", nonce, "--egrul", EGRUL,
               *_trust(pki, crls=crls), *extra, lang=lang)


def test_the_head_request_is_valid_in_english_and_russian(pki: TestPKI, tmp_path: Path) -> None:
    signed = _signed(pki, tmp_path, example_head_request(NONCE, ORIGIN, _now()))
    done = _verify(signed, pki=pki)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("VALID\n") and COMPANY.ogrn in done.stdout and ORIGIN in done.stdout
    assert "registration of an organisation by its head" in done.stdout
    done = _verify(signed, pki=pki, lang="ru_RU.UTF-8")
    assert done.returncode == 0 and done.stdout.startswith("ДЕЙСТВИТЕЛЕН\n") and "Иванов" in done.stdout


def test_json_report_of_an_employee_certificate_presented_as_head(pki: TestPKI, tmp_path: Path) -> None:
    signed = _signed(pki, tmp_path, example_head_request(NONCE, ORIGIN, _now()), name="employee")
    done = _verify(signed, "--json", pki=pki)
    assert done.returncode == 1, done.stderr
    doc = json.loads(done.stdout)
    assert doc["status"] == "invalid" and [r["code"] for r in doc["reasons"]] == ["not_authorized_head"]
    assert doc["signer"]["identity"]["surname"] == "Петрова" and doc["nonce"] == "ok"
    text = _verify(signed, pki=pki, lang="ru_RU.UTF-8")
    assert text.returncode == 1 and "НЕДЕЙСТВИТЕЛЕН" in text.stdout and "not_authorized_head" in text.stdout


def test_a_request_for_another_site_and_another_nonce(pki: TestPKI, tmp_path: Path) -> None:
    signed = _signed(pki, tmp_path, example_head_request(NONCE, ORIGIN, _now()), origin="https://evil.test")
    done = _verify(signed, "--json", pki=pki)
    assert done.returncode == 1 and [r["code"] for r in json.loads(done.stdout)["reasons"]] == ["origin_mismatch"]
    signed = _signed(pki, tmp_path, example_head_request(NONCE, ORIGIN, _now()))
    done = _verify(signed, "--json", pki=pki, nonce="7f" * 32)
    assert done.returncode == 1 and [r["code"] for r in json.loads(done.stdout)["reasons"]] == ["nonce_unknown"]


def test_unknown_revocation_status_is_indeterminate_exit_2(pki: TestPKI, tmp_path: Path) -> None:
    signed = _signed(pki, tmp_path, example_head_request(NONCE, ORIGIN, _now()))
    done = _verify(signed, "--json", pki=pki, crls=False)
    assert done.returncode == 2
    doc = json.loads(done.stdout)
    assert doc["status"] == "indeterminate" and doc["reasons"][0]["code"] == "chain_indeterminate"


def test_entrepreneur_and_employee(pki: TestPKI, tmp_path: Path) -> None:
    signed = _signed(pki, tmp_path, example_entrepreneur_request(NONCE, ORIGIN, _now()), name="ip")
    done = run("registration", "verify", signed, "--origin", ORIGIN, "--nonce", NONCE, "--egrip", EGRIP,
               *_trust(pki))
    assert done.returncode == 0, done.stdout + done.stderr
    signed = _signed(pki, tmp_path, example_employee_request(NONCE, ORIGIN, _now()), name="employee")
    done = _verify(signed, "--json", pki=pki)
    assert done.returncode == 1 and json.loads(done.stdout)["reasons"][0]["code"] == "organisation_unknown"
    done = _verify(signed, "--organisation", COMPANY.ogrn, "--organisation", COMPANY.inn_le, pki=pki)
    assert done.returncode == 0, done.stdout


def test_usage_and_input_errors_exit_2_with_one_line(pki: TestPKI, tmp_path: Path) -> None:
    signed = _signed(pki, tmp_path, example_head_request(NONCE, ORIGIN, _now()))
    done = _verify(signed, pki=pki, nonce="xyz")
    assert done.returncode == 2 and done.stdout == "" and len(done.stderr.splitlines()) == 1
    assert "64" in done.stderr and "--nonce" in done.stderr
    done = run("registration", "verify", signed, "--origin", ORIGIN, "--nonce", NONCE, *_trust(pki))
    assert done.returncode == 2 and "--egrul" in done.stderr and len(done.stderr.splitlines()) == 1
    done = run("registration", "verify", signed, "--nonce", NONCE, "--egrul", EGRUL, *_trust(pki), "--json")
    assert done.returncode == 2 and "--origin" in done.stderr and json.loads(done.stdout)["error"]
    done = run("registration", "verify", signed, "--origin", "https://portal.test/path", "--nonce", NONCE,
               "--egrul", EGRUL, *_trust(pki))
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
    garbage = tmp_path / "garbage.xml"
    garbage.write_text("<Файл><СвЮЛ", encoding="utf-8")
    done = run("registration", "verify", signed, "--origin", ORIGIN, "--nonce", NONCE, "--egrul", garbage,
               *_trust(pki))
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
    done = run("registration", "verify", tmp_path / "missing.sig", "--origin", ORIGIN, "--nonce", NONCE,
               "--egrul", EGRUL, *_trust(pki))
    assert done.returncode == 2 and "missing.sig" in done.stderr


def test_a_signature_that_is_not_cms_is_a_verdict_not_an_error(pki: TestPKI, tmp_path: Path) -> None:
    junk = tmp_path / "junk.sig"
    junk.write_bytes(b"junk")
    done = _verify(junk, "--json", pki=pki)
    assert done.returncode == 1 and json.loads(done.stdout)["reasons"][0]["code"] == "signature_malformed"


def test_at_checks_the_chain_at_another_time(pki: TestPKI, tmp_path: Path) -> None:
    signed = _signed(pki, tmp_path, example_head_request(NONCE, ORIGIN, _now()))
    done = _verify(signed, "--at", "2099-01-01T00:00:00Z", "--json", pki=pki)
    assert done.returncode == 1, done.stderr
    reason = json.loads(done.stdout)["reasons"][0]
    assert reason["code"] == "chain_invalid" and "expired" in reason["details"]["codes"]
    done = _verify(signed, "--at", "not a time", pki=pki)
    assert done.returncode == 2 and "--at" in done.stderr
