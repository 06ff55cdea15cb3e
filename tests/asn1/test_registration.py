"""signagent.asn1 teaches asn1crypto the GOST algorithms and the Russian profile without changing the rest."""

from __future__ import annotations

from pathlib import Path

import pytest
from asn1crypto import algos, keys, pem, x509

import signagent.asn1  # noqa: F401  (registers)
from signagent.asn1 import gost, oids, russian


def load(path: Path) -> x509.Certificate:
    _, _, der = pem.unarmor(path.read_bytes())
    return x509.Certificate.load(der)


@pytest.fixture(scope="module")
def real(real_pki_dir: Path) -> dict[str, x509.Certificate]:
    folder = real_pki_dir
    return {p.name.rsplit("_", 1)[0]: load(p) for p in folder.glob("*.pem") if not p.name.startswith("crl_")}


def test_registration_is_idempotent() -> None:
    gost.register()
    russian.register()
    assert keys.PublicKeyAlgorithmId(oids.GOST2012_256).native == "gost3410_2012_256"


def test_gost_2012_certificate_algorithms(real: dict[str, x509.Certificate]) -> None:
    cert = real["root_minkomsvyaz2021_guc2021"]
    assert cert["signature_algorithm"]["algorithm"].dotted == oids.SIGNWITHDIGEST_2012_256
    assert cert.signature_algo == "gost3410_2012"
    assert cert["signature_algorithm"].hash_algo == "streebog256"
    spki = cert.public_key
    assert spki.algorithm == "gost3410_2012_256"
    params = spki["algorithm"]["parameters"]
    assert isinstance(params, gost.GostPublicKeyParameters)
    assert params["public_key_param_set"].dotted == "1.2.643.2.2.35.1"  # CryptoPro-A, as the README says
    assert len(spki["public_key"].parsed.native) == 64  # X || Y, 32 bytes each


def test_legacy_gost_2001_root(real: dict[str, x509.Certificate]) -> None:
    cert = real["root_guc2012_gost2001"]
    assert cert["signature_algorithm"].signature_algo == "gost3410_2001"
    assert cert["signature_algorithm"].hash_algo == "gost341194"
    assert cert.public_key.algorithm == "gost3410_2001"


def test_russian_attributes_by_name(real: dict[str, x509.Certificate]) -> None:
    subject = real["root_mincifry2022_guc2022"].subject.native
    assert subject["innle"] == "7710474375"  # ИНН ЮЛ of Минцифры России
    assert subject["ogrn"] == "1047702026701"
    legacy = real["root_minkomsvyaz2018_guc_gost12"].subject.native
    assert legacy["inn"] == "007710474375"  # pre-2021 layout: organisation INN left-padded with 00
    assert "ИНН ЮЛ: 7710474375" in real["root_mincifry2022_guc2022"].subject.human_friendly


def test_russian_extensions_parse(real: dict[str, x509.Certificate]) -> None:
    found = {}
    for cert in real.values():
        for ext in cert["tbs_certificate"]["extensions"]:
            name = ext["extn_id"].native
            if name in oids.RUSSIAN_EXTENSIONS.values():
                found[name] = ext["extn_value"].parsed.native
    assert isinstance(found["subject_sign_tool"], str) and found["subject_sign_tool"]
    tool = found["issuer_sign_tool"]
    assert set(tool) == {"sign_tool", "ca_tool", "sign_tool_cert", "ca_tool_cert"}
    assert all(isinstance(v, str) and v for v in tool.values())


def test_other_algorithms_unchanged() -> None:
    rsa = algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"})
    assert (rsa.signature_algo, rsa.hash_algo) == ("rsassa_pkcs1v15", "sha256")
    assert algos.DigestAlgorithm({"algorithm": "streebog512"})["algorithm"].dotted == oids.STREEBOG512
    ecdsa = algos.SignedDigestAlgorithm({"algorithm": "sha384_ecdsa"})
    assert (ecdsa.signature_algo, ecdsa.hash_algo) == ("ecdsa", "sha384")


def test_cms_style_key_oid_as_signature_algorithm() -> None:
    algo = algos.SignedDigestAlgorithm({"algorithm": oids.GOST2012_512})
    assert (algo.signature_algo, algo.hash_algo) == ("gost3410_2012", "streebog512")


def test_pkcs8_in_the_openssl_gost_layout(vectors_dir: Path) -> None:
    """The privateKey OCTET STRING holds d little-endian (GOST R 34.10-2012 example A.1's d)."""
    from asn1crypto import keys as asn1_keys

    _, _, der = pem.unarmor((vectors_dir / "gost3410_2012" / "A1_256_private_key.pem").read_bytes())
    info = asn1_keys.PrivateKeyInfo.load(der)
    assert info["private_key_algorithm"]["algorithm"].native == "gost3410_2012_256"
    d_le = info["private_key"].native
    assert d_le[::-1].hex() == "7a929ade789bb9be10ed359dd39a72c11b60961f49397eee1d19ce9891ec3b28"
    assert info.dump() == der


def test_gost_keys_still_parse_after_pyhanko_certvalidator_is_imported(real_pki_dir: Path) -> None:
    """pyhanko-certvalidator rewires asn1crypto's public-key spec hook when imported; GOST must survive it."""
    import subprocess
    import sys

    root = real_pki_dir / "root_mincifry2022_guc2022_2F0CB09B.pem"
    code = (
        "import signagent.asn1\n"
        "import pyhanko_certvalidator.asn1_types\n"
        "from asn1crypto import pem, x509\n"
        f"der = pem.unarmor(open({str(root)!r}, 'rb').read())[2]\n"
        "print(len(x509.Certificate.load(der).public_key['public_key'].parsed.native))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "64"
