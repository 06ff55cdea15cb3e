"""`signagent cert show` and `signagent trust list|import` through the real console entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FNS_2022_11 = "ca_fns_2022-11_by_mincifry2022_08A4C134.pem"
ROOT_2022 = "root_mincifry2022_guc2022_2F0CB09B.pem"


def run(*args: str, lang: str = "C.UTF-8", store: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, LANG=lang, LC_ALL="", LC_MESSAGES="")
    if store is not None:
        env["SIGNAGENT_TRUST_DIR"] = str(store)
    return subprocess.run([sys.executable, "-m", "signagent", *args], capture_output=True, text=True, env=env,
                          timeout=120)


@pytest.fixture(scope="module")
def real(real_pki_dir: Path) -> Path:
    return real_pki_dir


def test_cert_show_text_in_both_languages(real: Path) -> None:
    en = run("cert", "show", str(real / FNS_2022_11))
    assert en.returncode == 0, en.stderr
    assert "OGRN:" in en.stdout and "1047707030513" in en.stdout
    assert "08A4C134" in en.stdout  # the SHA-1 thumbprint, as CryptoPro shows it
    ru = run("cert", "show", str(real / FNS_2022_11), lang="ru_RU.UTF-8")
    assert "ОГРН" in ru.stdout and "1047707030513" in ru.stdout


def test_cert_show_json(real: Path) -> None:
    out = run("cert", "show", "--json", str(real / FNS_2022_11))
    doc = json.loads(out.stdout)
    assert doc["identity"]["ogrn"] == "1047707030513"
    assert doc["signature_algorithm"]["oid"] == "1.2.643.7.1.1.3.2"


def test_cert_show_bad_input_is_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.cer"
    junk.write_bytes(b"\x30\x82\xff\xff garbage")
    out = run("cert", "show", str(junk))
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    missing = run("cert", "show", str(tmp_path / "missing.cer"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_trust_import_and_list(real: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    out = run("trust", "import", str(real / ROOT_2022), store=store)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("added 1")
    again = run("trust", "import", "--json", str(real / ROOT_2022), store=store)
    assert json.loads(again.stdout)["present"] == 1
    inter = run("trust", "import", str(real / FNS_2022_11), store=store)
    assert inter.returncode == 0
    listed = json.loads(run("trust", "list", "--json", store=store).stdout)
    assert sorted(e["kind"] for e in listed) == ["intermediate", "root"]
    assert any(e["sha1"].startswith("2F0CB09B") for e in listed)


def test_trust_import_refuses_a_non_ca(tmp_path: Path) -> None:
    from signagent.testpki import generate

    pki = generate(tmp_path / "pki")
    out = run("trust", "import", "--kind", "root", str(pki["head"].paths["pem"]), store=tmp_path / "store")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert run("trust", "list", "--json", store=tmp_path / "store").stdout.strip() == "[]"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory):
    from signagent.testpki import generate

    return generate(tmp_path_factory.mktemp("pki"))


def validate(pki, name: str, *extra: str, store: Path | None = None) -> tuple[int, dict]:
    certs = pki.out_dir / "certs"
    args = ["cert", "validate", "--json", str(certs / f"{name}.pem"), "--intermediate", str(certs / "inter.pem"),
            "--offline", *extra]
    if store is None:
        args += ["--trust", str(certs / "root.pem")]
    out = run(*args, store=store)
    assert "Traceback" not in out.stderr
    return out.returncode, (json.loads(out.stdout) if out.stdout else {})


def test_cert_validate_exit_codes(pki) -> None:
    crls = str(pki.out_dir / "crl")
    rc, doc = validate(pki, "head", "--crl", crls)
    assert rc == 0 and doc["status"] == "valid" and [c["role"] for c in doc["chain"]] == [
        "end_entity", "intermediate", "root"]
    rc, doc = validate(pki, "revoked", "--crl", crls)
    assert rc == 1 and [r["code"] for r in doc["reasons"]] == ["revoked"]
    rc, doc = validate(pki, "head", "--revocation", "hard")  # offline, no CRL given: status unknown
    assert rc == 2 and doc["status"] == "indeterminate"
    rc, doc = validate(pki, "head", "--revocation", "soft")
    assert rc == 0 and "revocation_unknown" in [w["code"] for w in doc["warnings"]]


def test_cert_validate_at_a_given_time_and_bad_time(pki) -> None:
    before = (pki.now.replace(year=pki.now.year + 5)).isoformat()
    rc, doc = validate(pki, "head", "--revocation", "off", "--at", before)
    assert rc == 1 and "expired" in [r["code"] for r in doc["reasons"]]
    bad = run("cert", "validate", str(pki.out_dir / "certs" / "head.pem"), "--trust",
              str(pki.out_dir / "certs" / "root.pem"), "--at", "yesterday")
    assert bad.returncode == 2 and "--at" in bad.stderr


def test_cert_validate_uses_the_trust_store_without_trust(pki, tmp_path: Path) -> None:
    store = tmp_path / "store"
    rc, _ = validate(pki, "head", "--revocation", "off", store=store)
    assert rc == 2  # empty store: no anchor, a usage error
    assert run("trust", "import", str(pki.out_dir / "certs" / "root.pem"), store=store).returncode == 0
    rc, doc = validate(pki, "head", "--revocation", "off", store=store)
    assert rc == 0 and doc["status"] == "valid"


def test_cert_validate_real_state_pki(real: Path) -> None:
    out = run("cert", "validate", "--json", str(real / FNS_2022_11), "--trust", str(real / ROOT_2022),
              "--at", "2026-06-01", "--revocation", "off")
    doc = json.loads(out.stdout)
    assert out.returncode == 0 and doc["status"] == "valid"
    assert doc["chain"][-1]["sha1"].startswith("2F0CB09B")
