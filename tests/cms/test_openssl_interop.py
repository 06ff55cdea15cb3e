"""Both directions with OpenSSL's GOST engine: ``openssl cms -verify`` accepts ours, we verify ``cms -sign``'s."""

from __future__ import annotations

from pathlib import Path

import pytest

from signagent.cms.cosign import cosign
from signagent.cms.signing import sign
from signagent.cms.verification import verify
from signagent.x509 import load_certificate
from tests.conftest import require
from tests.oracles import openssl_gost

from .conftest import chain_validator, openssl_ready, openssl_verify, signer

CONTENT = b"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82, portal!\r\n\x00binary\xff"


@pytest.fixture(autouse=True)
def _needs_openssl() -> None:
    require(openssl_ready(), f"openssl with the GOST engine ({openssl_gost.reason()})")


@pytest.mark.parametrize("name", ["head", "employee", "head512"])
@pytest.mark.parametrize("detached", [False, True])
def test_openssl_accepts_ours(pki, tmp_path: Path, name: str, detached: bool) -> None:
    sig = tmp_path / "s.p7s"
    data = tmp_path / "data.bin"
    data.write_bytes(CONTENT)
    sig.write_bytes(sign(CONTENT, signer(pki, name), detached=detached))
    rc, err = openssl_verify(pki, sig, data if detached else None)
    assert rc == 0, err
    # and OpenSSL notices a changed content
    data.write_bytes(CONTENT + b".")
    if detached:
        rc, _ = openssl_verify(pki, sig, data)
        assert rc != 0


def test_openssl_accepts_cosigned(pki, tmp_path: Path) -> None:
    first = sign(CONTENT, signer(pki, "head"))
    both = cosign(cosign(first, signer(pki, "head512")), signer(pki, "employee"))
    sig = tmp_path / "s.p7s"
    sig.write_bytes(both)
    rc, err = openssl_verify(pki, sig)
    assert rc == 0, err
    done = openssl_gost.run_cli(["cms", "-cmsout", "-print", "-inform", "DER", "-in", str(sig)])
    assert done.stdout.count(b"signatureAlgorithm:") >= 3


def test_openssl_accepts_cosigned_detached(pki, tmp_path: Path) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(CONTENT)
    both = cosign(sign(CONTENT, signer(pki, "head"), detached=True), signer(pki, "ip"), content=data)
    sig = tmp_path / "s.p7s"
    sig.write_bytes(both)
    rc, err = openssl_verify(pki, sig, data)
    assert rc == 0, err


def _openssl_sign(pki, tmp_path: Path, name: str, *options: str) -> bytes:
    data = tmp_path / "data.bin"
    data.write_bytes(CONTENT)
    out = tmp_path / "ossl.p7s"
    done = openssl_gost.run_cli(["cms", "-sign", "-binary", "-in", str(data), "-signer", str(pki[name].paths["pem"]),
                                 "-inkey", str(pki[name].paths["key"]), "-outform", "DER", "-out", str(out),
                                 *options])
    assert done.returncode == 0, done.stderr
    return out.read_bytes()


@pytest.mark.parametrize("name", ["head", "head512"])
def test_we_verify_openssl_default(pki, tmp_path: Path, name: str) -> None:
    der = _openssl_sign(pki, tmp_path, name, "-nodetach")
    report = verify(der, validate_chain=chain_validator(pki))
    assert report.status == "valid", report.to_dict()
    s = report.signers[0]
    assert s.signed_attributes and s.signing_time is not None
    assert not s.cades_bes and "not_cades_bes" in s.warning_codes  # no signingCertificateV2 without -cades
    assert verify(der, content=CONTENT + b"!", validate_chain=chain_validator(pki)).signers[0].codes == (
        "message_digest_mismatch",)


@pytest.mark.parametrize("name", ["head", "head512"])
def test_we_verify_openssl_cades(pki, tmp_path: Path, name: str) -> None:
    der = _openssl_sign(pki, tmp_path, name, "-cades")  # detached (no -nodetach)
    report = verify(der, content=CONTENT, validate_chain=chain_validator(pki))
    assert report.status == "valid", report.to_dict()
    assert report.detached and report.signers[0].cades_bes
    assert report.signers[0].warning_codes == ()


def test_we_verify_openssl_noattr(pki, tmp_path: Path) -> None:
    der = _openssl_sign(pki, tmp_path, "head", "-noattr", "-nodetach")
    report = verify(der, validate_chain=chain_validator(pki))
    assert report.status == "valid", report.to_dict()
    s = report.signers[0]
    assert not s.signed_attributes and not s.cades_bes and s.signing_time is None
    assert "not_cades_bes" in s.warning_codes
    bad = verify(der, content=CONTENT[:-1], validate_chain=chain_validator(pki))
    assert bad.status == "invalid" and "bad_signature" in bad.signers[0].codes


def test_we_verify_openssl_streamed_ber(pki, tmp_path: Path) -> None:
    der = _openssl_sign(pki, tmp_path, "head", "-nodetach", "-stream")
    assert der[1] == 0x80  # indefinite length: BER
    assert verify(der, validate_chain=chain_validator(pki)).status == "valid"


def test_we_verify_openssl_without_certificates(pki, tmp_path: Path) -> None:
    der = _openssl_sign(pki, tmp_path, "head", "-nodetach", "-nocerts")
    lost = verify(der, validate_chain=chain_validator(pki))
    assert lost.status == "indeterminate" and lost.signers[0].codes == ("signer_certificate_not_found",)
    found = verify(der, extra_certificates=[load_certificate(pki["head"].der)],
                   validate_chain=chain_validator(pki))
    assert found.status == "valid"


def test_we_cosign_openssl(pki, tmp_path: Path) -> None:
    der = _openssl_sign(pki, tmp_path, "head", "-nodetach", "-cades")
    both = cosign(der, signer(pki, "employee"))
    report = verify(both, validate_chain=chain_validator(pki))
    assert report.status == "valid" and len(report.signers) == 2


def test_tc26_example_signed_data(vectors_dir: Path) -> None:
    """TC 26's CMS example: attached "Test message", no signed attributes, no certificates inside."""
    folder = vectors_dir / "tc26" / "256"
    cert = load_certificate((folder / "certificate.pem").read_bytes())

    def chain(c, others, when):  # the example certificate is its own (self-signed) root
        from signagent.trust.validation import validate

        return validate(c, trust_roots=[cert], at=when, offline=True, revocation="off")

    der = (folder / "signed_data.der").read_bytes()
    report = verify(der, extra_certificates=[cert], validate_chain=chain)
    assert report.status == "valid", report.to_dict()
    assert report.signers[0].warning_codes[0] == "not_cades_bes"
    assert verify(der, validate_chain=chain).signers[0].codes == ("signer_certificate_not_found",)
    assert verify(der, content=b"Test messagE", extra_certificates=[cert],
                  validate_chain=chain).signers[0].codes == ("bad_signature",)
