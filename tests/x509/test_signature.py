"""GOST signature verification on certificates, CRLs and requests: real PKI, RFC 9215 examples, OpenSSL."""

from __future__ import annotations

from pathlib import Path

import pytest
from asn1crypto import csr as asn1_csr
from asn1crypto import pem

from signagent.errors import CertificateFormatError, UnknownAlgorithmError
from signagent.gost import PrivateKey, curve
from signagent.x509 import (
    Certificate,
    crl_is_signed_by,
    load_certificate,
    load_certificates_file,
    load_crl,
    load_crl_file,
    signature_scheme,
    verify_signature,
)
from tests.conftest import require
from tests.oracles.openssl_gost import openssl_binary, run_cli
from tests.x509.der_builder import CN, build, extension, name, seq, utf8


@pytest.fixture(scope="module")
def real(real_pki_dir: Path) -> dict[str, Certificate]:
    path = real_pki_dir
    require(path.is_dir(), f"real state-PKI certificates {path}")
    return {p.name: load_certificates_file(p)[0] for p in sorted(path.glob("*.pem")) if not p.name.startswith("crl_")}


def _root_named(real: dict[str, Certificate], tag: str) -> Certificate:
    (match,) = [c for n, c in real.items() if n.startswith("root_") and tag in n]
    return match


def test_every_real_certificate_verifies_under_the_issuer_its_name_says(real):
    checked = 0
    for file_name, cert in real.items():
        if file_name.startswith("root_"):
            assert cert.is_self_signed, file_name
            assert cert.is_signed_by(cert)
            continue
        tag = file_name.split("_by_")[1].rsplit("_", 1)[0]
        issuer = _root_named(real, tag)
        assert cert.issuer == issuer.subject, file_name
        assert cert.is_signed_by(issuer), file_name
        assert not cert.is_self_signed
        checked += 1
    assert checked == 15  # 14 intermediates and the cross-certificate


def test_the_cross_certificate_gives_the_2022_cas_a_second_issuer(real):
    cross = real["cross_mincifry2022_by_minkomsvyaz2021_1D131217.pem"]
    root_2022 = _root_named(real, "mincifry2022")
    assert cross.public_key() == root_2022.public_key()
    for file_name, cert in real.items():
        if "_by_mincifry2022_" in file_name:
            assert cert.is_signed_by(cross) and cert.is_signed_by(root_2022)
            assert cert.authority_key_identifier == cross.subject_key_identifier == root_2022.subject_key_identifier


def test_legacy_gost2001_root_intermediate_and_crl(real, real_pki_dir):
    root = _root_named(real, "guc2012_gost2001")
    nuc = real["ca_nuc_2017_gost2001_by_guc2012_8F89950A.pem"]
    assert root.signature_algorithm.oid == nuc.signature_algorithm.oid == "1.2.643.2.2.3"
    assert nuc.is_signed_by(root)
    crl = load_crl_file(real_pki_dir / "crl_guc2012_gost2001_2018-05-24.pem")
    assert crl_is_signed_by(crl, root)
    # A GOST R 34.10-2001 signature does not fit a 2012 key, and is refused as such rather than "invalid".
    with pytest.raises(UnknownAlgorithmError, match="does not fit"):
        crl_is_signed_by(crl, _root_named(real, "minkomsvyaz2018"))


def test_tampering_breaks_the_signature(real, real_pki_dir):
    cert = real["ca_fns_2022-11_by_mincifry2022_08A4C134.pem"]
    issuer = _root_named(real, "mincifry2022")
    tbs = bytearray(cert.tbs_der)
    tbs[-40] ^= 0x01
    algorithm = cert.asn1["signature_algorithm"]
    assert verify_signature(cert.tbs_der, algorithm, cert.signature_value, issuer.public_key_info)
    assert not verify_signature(bytes(tbs), algorithm, cert.signature_value, issuer.public_key_info)
    sig = bytearray(cert.signature_value)
    sig[5] ^= 0x80
    assert not verify_signature(cert.tbs_der, algorithm, bytes(sig), issuer.public_key_info)
    assert not verify_signature(cert.tbs_der, algorithm, cert.signature_value[:-1], issuer.public_key_info)
    assert not cert.is_signed_by(_root_named(real, "minkomsvyaz2021"))  # right algorithm, wrong key
    crl = load_crl_file(real_pki_dir / "crl_guc2012_gost2001_2018-05-24.pem")
    der = bytearray(crl.dump())
    der[200] ^= 0x01
    assert not crl_is_signed_by(load_crl(bytes(der)), _root_named(real, "guc2012_gost2001"))


@pytest.mark.parametrize("example", ["ex256_TestParamSet", "ex256_paramSetA", "ex512_TestParamSet"])
def test_rfc9215_examples_verify(vectors_dir: Path, example: str):
    folder = vectors_dir / "rfc9215" / example
    cert = load_certificate((folder / "certificate.pem").read_bytes())
    assert cert.is_self_signed
    crl = load_crl((folder / "crl.pem").read_bytes())
    assert crl_is_signed_by(crl, cert)
    _, _, der = pem.unarmor((folder / "csr.pem").read_bytes())
    request = asn1_csr.CertificationRequest.load(der)
    info = request["certification_request_info"]
    args = (request["signature_algorithm"], request["signature"].native, info["subject_pk_info"])
    assert verify_signature(info.dump(), *args)
    assert not verify_signature(info.dump() + b"\x00", *args)
    expected_bits = 512 if example.startswith("ex512") else 256
    assert cert.public_key_curve.bits == expected_bits


def test_key_oids_are_accepted_as_signature_algorithms(real):
    # CMS SignerInfo often names the key algorithm instead of the signature algorithm.
    cert = real["ca_fns_2022-11_by_mincifry2022_08A4C134.pem"]
    issuer = _root_named(real, "mincifry2022")
    for algorithm in ("1.2.643.7.1.1.1.1", "1.2.643.7.1.1.3.2", "gost3410_2012_256_streebog256"):
        assert verify_signature(cert.tbs_der, algorithm, cert.signature_value, issuer.public_key_info)
    assert signature_scheme("1.2.643.7.1.1.1.2").hash_name == "streebog512"


def test_algorithms_that_do_not_fit_are_refused(real):
    cert = real["ca_fns_2022-11_by_mincifry2022_08A4C134.pem"]
    spki = _root_named(real, "mincifry2022").public_key_info
    with pytest.raises(UnknownAlgorithmError, match="does not fit"):
        verify_signature(cert.tbs_der, "1.2.643.7.1.1.3.3", cert.signature_value * 2, spki)  # 512-bit, 256-bit key
    with pytest.raises(UnknownAlgorithmError, match="not a GOST"):
        verify_signature(cert.tbs_der, "1.2.840.113549.1.1.11", cert.signature_value, spki)  # sha256WithRSA


@pytest.fixture(scope="module")
def openssl_dir(tmp_path_factory) -> Path:
    require(openssl_binary(), "openssl command")
    return tmp_path_factory.mktemp("openssl")


@pytest.mark.oracle
@pytest.mark.parametrize(("algorithm", "paramset", "md", "bits"), [
    ("gost2012_256", "A", "md_gost12_256", 256),
    ("gost2012_256", "TCA", "md_gost12_256", 256),
    ("gost2012_512", "A", "md_gost12_512", 512),
])
def test_certificates_signed_by_openssl_verify(openssl_dir: Path, algorithm, paramset, md, bits):
    key, out = openssl_dir / f"{algorithm}{paramset}.key", openssl_dir / f"{algorithm}{paramset}.pem"
    result = run_cli(["req", "-x509", "-newkey", algorithm, "-pkeyopt", f"paramset:{paramset}", "-nodes",
                      "-keyout", str(key), "-out", str(out), "-subj", "/CN=OpenSSL GOST test", "-days", "30",
                      f"-{md}"])
    require(result.returncode == 0, f"OpenSSL GOST engine signing ({result.stderr.decode(errors='replace')[-200:]})")
    cert = load_certificate(out.read_bytes())
    assert cert.public_key_curve.bits == bits
    assert cert.is_self_signed
    tampered = bytearray(cert.der)
    tampered[cert.der.index(b"OpenSSL GOST test")] ^= 0x20
    assert not Certificate.from_der(bytes(tampered)).is_signed_by(cert)


@pytest.mark.oracle
def test_openssl_accepts_our_signatures(openssl_dir: Path):
    # The other direction: a certificate signed by our core (512-bit root, 256-bit leaf) passes `openssl verify`.
    root_key = PrivateKey.generate(curve("tc26-512-A"))
    root_name = name((CN, utf8("Test root 512")))
    ca = extension("2.5.29.19", seq(b"\x01\x01\xff"), critical=True)
    root_der, _ = build(root_name, key=root_key, extensions=[ca])
    leaf_der, _ = build(name((CN, utf8("Leaf 256"))), issuer=root_name, issuer_key=root_key)
    root, leaf = load_certificate(root_der), load_certificate(leaf_der)
    assert root.is_self_signed and leaf.is_signed_by(root)
    for cert, file_name in ((root, "root.der"), (leaf, "leaf.der")):
        (openssl_dir / file_name).write_bytes(cert.der)
    root_pem = openssl_dir / "root.pem"
    run_cli(["x509", "-inform", "DER", "-in", str(openssl_dir / "root.der"), "-out", str(root_pem)], check=True)
    leaf_pem = openssl_dir / "leaf.pem"
    run_cli(["x509", "-inform", "DER", "-in", str(openssl_dir / "leaf.der"), "-out", str(leaf_pem)], check=True)
    result = run_cli(["verify", "-no-CApath", "-CAfile", str(root_pem), "-attime", "1735689600", str(leaf_pem)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_public_key_of_a_non_gost_certificate_is_refused(openssl_dir: Path):
    key, out = openssl_dir / "ed.key", openssl_dir / "ed.pem"
    run_cli(["req", "-x509", "-newkey", "ed25519", "-nodes", "-keyout", str(key), "-out", str(out),
             "-subj", "/CN=not GOST", "-days", "1"], check=True)
    cert = load_certificate(out.read_bytes())
    assert cert.public_key_curve is None and not cert.is_self_signed
    with pytest.raises(CertificateFormatError, match="not GOST"):
        cert.public_key()
    with pytest.raises(UnknownAlgorithmError):
        cert.is_signed_by(cert)


def test_self_issued_is_about_names_and_self_signed_about_the_signature(real):
    """RFC 5280 3.2/6.1: self-issued = subject equals issuer; self-signed = self-issued *and* its own key verifies
    the signature over the bytes received. A root with one signature bit flipped stays self-issued only."""
    root = _root_named(real, "mincifry2022")
    assert root.is_self_issued and root.is_self_signed
    tampered = bytearray(root.der)
    tampered[-1] ^= 1
    broken = Certificate.from_der(bytes(tampered))
    assert broken.is_self_issued and not broken.is_self_signed
    cross = real["cross_mincifry2022_by_minkomsvyaz2021_1D131217.pem"]
    assert not cross.is_self_issued and not cross.is_self_signed  # same key as a root, another issuer name
