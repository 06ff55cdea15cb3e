"""Hostile certificates (issue 10, defects 1, 2 and 5): the mutations the probe made of a signed certificate, each
judged by ``openssl verify`` (OpenSSL 3 + GOST engine) and by signagent -- both must reject -- on its own and as
the signer certificate carried inside a CMS signature.

The mutations keep the issuer's signature over the original TBS. Those asn1crypto undoes when it re-encodes (junk
in the extensions' EXPLICIT wrapper, bytes after the TBS fields, a fourth element, indefinite length) used to pass
because the signature was checked over the re-encoding; parameters added to the outer signatureAlgorithm used to
pass because only the inner one is signed.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from asn1crypto import cms, pem

from signagent.cms.signing import sign
from signagent.cms.verification import verify
from signagent.errors import SignAgentError
from signagent.trust.validation import clear_caches, validate
from tests.conftest import require
from tests.der import children, read, tlv
from tests.x509.mutations import (
    NULL,
    bytes_after_tbs_fields,
    fourth_element,
    indefinite_length,
    junk_in_extensions,
    outer_algorithm_parameters,
    outer_indefinite_length,
    serial_byte_flipped,
)

from .conftest import chain_validator, openssl_ready, signer

MUTATIONS = [junk_in_extensions, bytes_after_tbs_fields, fourth_element, outer_algorithm_parameters,
             indefinite_length, serial_byte_flipped]
#: what signagent says: refused at load as not DER, or loaded and rejected by validation with this reason
EXPECTED = {
    "junk_in_extensions": "not_der", "bytes_after_tbs_fields": "not_der", "fourth_element": "not_der",
    "indefinite_length": "not_der", "outer_algorithm_parameters": "signature_algorithm_mismatch",
    "serial_byte_flipped": "bad_signature",
}


def _signagent_verdict(pki, der: bytes) -> str:
    """'valid', or the code that rejected it."""
    clear_caches()
    try:
        report = validate(der, trust_roots=[pki.root.der], intermediates=[pki.intermediate.der],
                          crls=[pki.crls["inter"].der, pki.crls["root"].der], offline=True)
    except SignAgentError as exc:
        assert "\n" not in exc.message
        return exc.code
    return "valid" if report.status == "valid" else report.codes[0]


def _replace_element(signature: bytes, old: bytes, new: bytes) -> bytes:
    """``signature`` with the certificate ``old`` swapped for ``new`` (raw bytes) and every enclosing length
    recomputed (the CMS writer's output is DER, so the walk is over definite lengths)."""
    if signature == old:
        return new
    tag, content, _ = read(signature)
    if tag & 0x20 and old in content:
        return tlv(tag, b"".join(_replace_element(tlv(t, c), old, new) for t, c in children(content)))
    return signature


@pytest.mark.oracle
def test_an_indefinite_outer_length_openssl_accepts_is_refused(pki, tmp_path: Path) -> None:
    """The one disagreement, on purpose: OpenSSL reads BER at the outer level of a certificate and verifies the TBS
    it kept as received, so `openssl verify` says OK; RFC 5280 section 4.1 requires DER, and signagent refuses."""
    require(openssl_ready(), "OpenSSL with the GOST engine")
    bad = outer_indefinite_length(pki["head"].der)
    path = tmp_path / "outer.der"
    path.write_bytes(bad)
    assert _openssl_verify(pki, path, inform_der=True).returncode == 0
    assert _signagent_verdict(pki, bad) == "not_der"


def test_the_unmutated_certificate_is_valid_for_both(pki, tmp_path: Path) -> None:
    require(openssl_ready(), "OpenSSL with the GOST engine")
    path = tmp_path / "head.pem"
    path.write_bytes(pem.armor("CERTIFICATE", pki["head"].der))
    done = _openssl_verify(pki, path)
    assert done.returncode == 0, done.stderr
    assert _signagent_verdict(pki, pki["head"].der) == "valid"


@pytest.mark.oracle
@pytest.mark.parametrize("mutate", MUTATIONS, ids=lambda m: m.__name__)
def test_openssl_and_signagent_both_reject(pki, tmp_path: Path, mutate) -> None:
    require(openssl_ready(), "OpenSSL with the GOST engine")
    bad = mutate(pki["head"].der)
    path = tmp_path / "mutated.der"
    path.write_bytes(bad)
    done = _openssl_verify(pki, path, inform_der=True)
    assert done.returncode != 0 or b"OK" not in done.stdout, done.stdout
    assert _signagent_verdict(pki, bad) == EXPECTED[mutate.__name__]


@pytest.mark.parametrize("mutate", MUTATIONS, ids=lambda m: m.__name__)
def test_a_mutated_signer_certificate_inside_a_cms_never_verifies(pki, mutate) -> None:
    good = pki["head"].der
    signature = sign(b"content", signer(pki, "head"))
    assert signature is not None
    tampered = _replace_element(signature, good, mutate(good))
    assert tampered != signature and cms.ContentInfo.load(tampered)  # still a CMS asn1crypto reads
    clear_caches()
    report = verify(tampered, validate_chain=chain_validator(pki))
    assert report.status != "valid"
    codes = [r.code for r in report.signers[0].reasons]
    expected = {"not_der": "signer_certificate_not_der",
                # the SignerIdentifier names the original serial: the flipped copy is not the signer's
                "bad_signature": "signer_certificate_not_found"}.get(EXPECTED[mutate.__name__],
                                                                      EXPECTED[mutate.__name__])
    assert expected in codes, codes


def _openssl_verify(pki, path: Path, *, inform_der: bool = False):  # type: ignore[no-untyped-def]
    from tests.oracles import openssl_gost

    target = path
    if inform_der:  # `openssl verify` reads PEM only: armour the mutated bytes as they are
        target = path.with_suffix(".pem")
        target.write_bytes(pem.armor("CERTIFICATE", path.read_bytes()))
    return openssl_gost.run_cli(["verify", "-CAfile", str(pki.out_dir / "chain.pem"), str(target)])


# -- malformed extension values: a report or a project error, never a traceback (issue 10, defect 5) -------------

_MALFORMED_EXTENSIONS = {  # each value a NULL where the extension's ASN.1 type is a SEQUENCE, BIT/OCTET STRING
    "authorityKeyIdentifier": ("2.5.29.35", False), "subjectKeyIdentifier": ("2.5.29.14", False),
    "keyUsage": ("2.5.29.15", True), "basicConstraints": ("2.5.29.19", False),
    "privateKeyUsagePeriod": ("2.5.29.16", False), "cRLDistributionPoints": ("2.5.29.31", False),
    "certificatePolicies": ("2.5.29.32", True), "extKeyUsage": ("2.5.29.37", False),
    "nameConstraints": ("2.5.29.30", True),
}


def _malformed(pki, oid: str, critical: bool) -> tuple[bytes, object]:
    from asn1crypto import x509 as asn1_x509

    from tests.x509.der_builder import CN, build, extension, name, utf8

    inter = asn1_x509.Certificate.load(pki.intermediate.der)
    return build(name((CN, utf8("hostile"))), issuer=inter["tbs_certificate"]["subject"].dump(),
                 issuer_key=pki.intermediate.key, extensions=[extension(oid, NULL, critical=critical)],
                 not_before=pki.now - timedelta(days=1), not_after=pki.now + timedelta(days=30))


@pytest.mark.parametrize("extension_name", sorted(_MALFORMED_EXTENSIONS))
def test_malformed_extension_values_give_a_report_not_a_traceback(pki, extension_name) -> None:
    from signagent.cms.signer import SoftwareSigner
    from signagent.x509 import Certificate

    oid, critical = _MALFORMED_EXTENSIONS[extension_name]
    der, key = _malformed(pki, oid, critical)
    assert _signagent_verdict(pki, der) != "valid"
    cert = Certificate.from_der(der)
    assert "extension_malformed" in [p.code for p in cert.problems]
    signature = sign(b"content", SoftwareSigner(cert, key))  # type: ignore[arg-type]
    clear_caches()
    report = verify(signature, validate_chain=chain_validator(pki))
    assert report.status != "valid"
    assert all("\n" not in r.message for r in report.signers[0].reasons)


def test_a_name_that_cannot_be_decoded_gives_a_report_not_a_traceback(pki) -> None:
    """Invalid UTF-8 in the issuer's UTF8String: asn1crypto's RFC 5280 7.1 name preparation raised
    UnicodeDecodeError out of path building; the name now compares by its DER (it matches no issuer)."""
    from tests.der import seq
    from tests.x509.der_builder import CN, build, name, utf8

    bad_issuer = seq(tlv(0x31, seq(tlv(0x06, b"\x55\x04\x03"), tlv(0x0C, b"\xff\xfe"))))
    der, _ = build(name((CN, utf8("hostile"))), issuer=bad_issuer, issuer_key=pki.intermediate.key,
                   not_before=pki.now - timedelta(days=1), not_after=pki.now + timedelta(days=30))
    assert _signagent_verdict(pki, der) == "issuer_not_found"


def test_signed_attributes_must_be_der(pki) -> None:
    """RFC 5652 5.3: SignedAttributes are DER even in a BER CMS; the signature is over their DER SET OF as
    received (5.4), so a non-minimal length inside them is refused by name, not merely as a bad signature."""
    signature = sign(b"content", signer(pki, "head"))
    assert signature is not None
    info = cms.ContentInfo.load(signature)
    attribute = info["content"]["signer_infos"][0]["signed_attrs"][0].dump()  # contentType, short-form length
    assert attribute[1] < 0x80
    stretched = b"\x30\x81" + attribute[1:]
    tampered = _replace_element(signature, attribute, stretched)
    assert tampered != signature
    report = verify(tampered, validate_chain=chain_validator(pki))
    assert "signed_attributes_not_der" in [r.code for r in report.signers[0].reasons]
    assert report.status == "invalid"
