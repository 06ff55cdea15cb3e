"""Trust anchors are exact (issue 10, defect 1): a path ends only at a certificate byte-identical to a trusted
one; a copy with the anchor's name and key but other bytes is validated like any certificate (its signature
checked), and certificates carried in a CMS are intermediates at most.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509

from signagent.cms.signer import SoftwareSigner
from signagent.cms.signing import sign
from signagent.service.signatures import verify_signature_file
from signagent.testpki import generate
from signagent.testpki.generator import TestPKI
from signagent.testpki.spec import default_spec
from signagent.trust.path_building import CertificatePool, build_paths
from signagent.trust.validation import clear_caches, validate
from signagent.x509 import Certificate, load_certificate


@pytest.fixture(scope="module")
def short_root_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    """The test PKI with a root that expires in 60 days (the intermediate and the head live on)."""
    spec = default_spec()
    spec = replace(spec, root=replace(spec.root, days_after=60))
    return generate(tmp_path_factory.mktemp("short-root"), spec=spec)


def _not_after_extended(der: bytes) -> bytes:
    """A copy whose notAfter is put ten years later, the original signature kept (as the probe did)."""
    cert = asn1_x509.Certificate.load(der)
    validity = cert["tbs_certificate"]["validity"]
    old = validity["not_after"].chosen.dump()
    later = validity["not_after"].native.replace(year=validity["not_after"].native.year + 10)
    new = type(validity["not_after"].chosen)(later).dump()
    assert len(new) == len(old) and der.count(old) == 1
    return der.replace(old, new)


def _serial_flipped(der: bytes) -> bytes:
    """A copy with the last byte of the serial number flipped (same length: still DER)."""
    cert = asn1_x509.Certificate.load(der)
    serial = cert["tbs_certificate"]["serial_number"].dump()
    assert der.count(serial) == 1
    return der.replace(serial, serial[:-1] + bytes([serial[-1] ^ 0x01]))


def test_an_extended_copy_of_an_expired_root_in_a_cms_does_not_make_it_valid(short_root_pki, tmp_path) -> None:
    pki = short_root_pki
    copy = _not_after_extended(pki.root.der)
    assert Certificate.from_der(copy).not_after > load_certificate(pki.root.der).not_after
    head = SoftwareSigner(load_certificate(pki["head"].der), pki["head"].key)
    inter = load_certificate(pki.intermediate.der)
    when = pki.now + timedelta(days=90)  # root expired; intermediate and head valid
    (tmp_path / "root.der").write_bytes(pki.root.der)
    verdicts = {}
    for label, extra in (("honest", [inter]), ("tampered", [inter, Certificate.from_der(copy)])):
        signature = tmp_path / f"{label}.p7s"
        signature.write_bytes(sign(b"document", head, certificates=extra))  # type: ignore[arg-type]
        clear_caches()
        report = verify_signature_file(signature, trust_paths=[tmp_path / "root.der"], at=when, offline=True,
                                       revocation="off")
        verdicts[label] = (report.status, [r.code for r in report.signers[0].reasons])
    assert verdicts["honest"][0] == "invalid" and "expired" in verdicts["honest"][1]
    assert verdicts["tampered"] == verdicts["honest"]


def test_a_copy_in_the_pool_is_never_the_anchor(short_root_pki) -> None:
    pki = short_root_pki
    root = Certificate.from_der(pki.root.der)
    copy = Certificate.from_der(_not_after_extended(pki.root.der))
    inter = Certificate.from_der(pki.intermediate.der)
    pool = CertificatePool([root], [copy])
    assert pool.is_anchor(root) and not pool.is_anchor(copy)
    assert copy.is_self_issued and not copy.is_self_signed  # its signature covers the original validity
    paths = build_paths(inter, pool)
    # one path through the real root; the one through the copy goes on to the root, where its signature fails
    assert [(len(p.certificates), p.end) for p in paths] == [(2, "anchor"), (3, "anchor")]
    report = validate(pki.intermediate.der, trust_roots=[pki.root.der], intermediates=[copy.der],
                      at=pki.now + timedelta(days=90), offline=True, revocation="off", purpose="any")
    assert report.status == "invalid" and report.codes == ("expired",)
    through_copy = [p for p in report.paths if len(p.certificates) == 3]
    assert through_copy and "bad_signature" in [r.code for r in through_copy[0].reasons]


def test_a_serial_flipped_copy_of_the_root_is_not_the_root(short_root_pki) -> None:
    pki = short_root_pki
    copy = _serial_flipped(pki.root.der)
    clear_caches()
    report = validate(copy, trust_roots=[pki.root.der], offline=True, revocation="off", purpose="any")
    assert report.status == "invalid"
    assert "bad_signature" in report.codes
    assert report.chain[0].sha1 == Certificate.from_der(copy).sha1_thumbprint  # the file's own thumbprint
    honest = validate(pki.root.der, trust_roots=[pki.root.der], offline=True, revocation="off", purpose="any")
    assert honest.status == "valid"


def test_cli_cert_validate_rejects_a_serial_flipped_root_copy(short_root_pki, tmp_path: Path) -> None:
    pki = short_root_pki
    (tmp_path / "copy.der").write_bytes(_serial_flipped(pki.root.der))
    (tmp_path / "root.der").write_bytes(pki.root.der)
    done = subprocess.run([sys.executable, "-m", "signagent", "cert", "validate", str(tmp_path / "copy.der"),
                           "--trust", str(tmp_path / "root.der"), "--offline", "--revocation", "off"],
                          capture_output=True, timeout=120, check=False)
    assert done.returncode == 1, done.stderr.decode(errors="replace")


def test_an_unknown_self_signed_certificate_is_an_untrusted_root(short_root_pki) -> None:
    pki = short_root_pki
    other = generate_other_root(pki)
    report = validate(other, trust_roots=[pki.root.der], offline=True, revocation="off", purpose="any")
    assert report.status == "invalid" and report.codes == ("untrusted_root",)


def generate_other_root(pki: TestPKI) -> bytes:
    """A self-signed certificate with the root's name and key but other bytes (a re-issue by the same key)."""
    from signagent.x509 import builder as b

    root = load_certificate(pki.root.der)
    reissue = b.build_certificate(
        subject=root.asn1["tbs_certificate"]["subject"], public_key=pki.root.key.public_key(),
        signing_key=pki.root.key, issuer=None, serial=12345, not_before=root.not_before,
        not_after=root.not_after + timedelta(days=365), extensions=list(root.asn1["tbs_certificate"]["extensions"]))
    der = reissue.dump()
    assert Certificate.from_der(der).is_self_signed and der != pki.root.der
    return der


def test_a_ber_parse_never_shares_the_result_of_its_der_twin(short_root_pki) -> None:
    """validate() remembers results by the inputs' bytes: an asn1crypto certificate read from BER must be keyed
    (and checked) by the BER it was read from, not by its DER re-encoding."""
    from signagent.errors import CertificateFormatError

    pki = short_root_pki
    der = pki.intermediate.der
    ber = b"\x30\x80" + der[4:] + b"\x00\x00"
    assert der[1] == 0x82
    clear_caches()
    good = validate(der, trust_roots=[pki.root.der], offline=True, revocation="off", purpose="any")
    assert good.status == "valid"
    with pytest.raises(CertificateFormatError) as caught:
        validate(asn1_x509.Certificate.load(ber), trust_roots=[pki.root.der], offline=True, revocation="off",
                 purpose="any")
    assert caught.value.code == "not_der"
