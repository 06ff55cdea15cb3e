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
def real(shared_dir: Path) -> Path:
    return shared_dir / "pki" / "real"


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
