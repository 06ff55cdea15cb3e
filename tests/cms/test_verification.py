"""Verification verdicts and reasons: tampering, wrong certificates, revoked and expired signers, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import cms, core

from signagent.cms.errors import CmsContentMissingError, CmsFormatError
from signagent.cms.report import REASONS
from signagent.cms.signing import sign
from signagent.cms.verification import verify
from signagent.errors import InvalidInputError
from signagent.testpki import profiles
from signagent.x509 import builder as b

from .conftest import certificate, chain_validator, signer

CONTENT = b"head-registration request"


def test_valid_report_names_the_signer(pki) -> None:
    when = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    report = verify(sign(CONTENT, signer(pki, "head"), signing_time=when), validate_chain=chain_validator(pki))
    assert report.status == "valid" and not report.detached
    s = report.signers[0]
    assert s.certificate == certificate(pki, "head")
    assert s.certificate.identity.full_name == "Иванов Иван Иванович"
    assert s.signing_time == when and s.signing_time_source == "signer_claim"
    doc = report.to_dict()["signers"][0]
    assert doc["signer"]["identity"]["ogrn"] == certificate(pki, "head").identity.ogrn
    assert doc["signing_time"] == "2026-05-01T09:30:00+00:00" and doc["chain"]["status"] == "valid"


def test_changed_content(pki) -> None:
    der = sign(CONTENT, signer(pki, "head"), detached=True)
    report = verify(der, content=CONTENT.replace(b"head", b"HEAD"), validate_chain=chain_validator(pki))
    assert report.status == "invalid" and report.signers[0].codes == ("message_digest_mismatch",)
    attached = sign(CONTENT, signer(pki, "head"))
    flipped = attached.replace(CONTENT, CONTENT.upper())
    report = verify(flipped, validate_chain=chain_validator(pki))
    assert report.status == "invalid" and report.signers[0].codes == ("message_digest_mismatch",)


def test_changed_signed_attribute(pki) -> None:
    when = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    der = sign(CONTENT, signer(pki, "head"), signing_time=when)
    stamp = b"260501093000Z"
    assert der.count(stamp) == 1
    forged = der.replace(stamp, b"250501093000Z")  # backdated by a year, same length
    report = verify(forged, validate_chain=chain_validator(pki))
    assert report.status == "invalid" and report.signers[0].codes == ("bad_signature",)


def test_changed_signature_value(pki) -> None:
    der = bytearray(sign(CONTENT, signer(pki, "head")))
    der[-5] ^= 0x01  # inside the signature OCTET STRING at the very end
    assert verify(bytes(der), validate_chain=chain_validator(pki)).signers[0].codes == ("bad_signature",)


def _replace_certificates(der: bytes, certs: list[bytes]) -> bytes:
    info = cms.ContentInfo.load(der)
    sd = info["content"]
    sd["certificates"] = cms.CertificateSet([cms.CertificateChoices(name="certificate", value=cms.Certificate.load(c))
                                             for c in certs])
    return info.dump(force=True)


def test_wrong_certificate_with_the_same_issuer_and_serial(pki) -> None:
    """A substituted certificate (same issuer and serial, another key) fails signature and signingCertificateV2."""
    real = certificate(pki, "head")
    other_key = pki["employee"].key
    impostor = b.build_certificate(
        subject=[("CN", "Подменённый")], public_key=other_key.public_key(), signing_key=pki.intermediate.key,
        issuer=pki.intermediate.certificate, serial=real.serial_number, not_before=real.not_before,
        not_after=real.not_after, extensions=[b.key_usage("digital_signature", "non_repudiation")])
    der = _replace_certificates(sign(CONTENT, signer(pki, "head")), [impostor.dump()])
    s = verify(der, validate_chain=chain_validator(pki)).signers[0]
    assert s.status == "invalid"
    assert "bad_signature" in s.codes and "signing_certificate_mismatch" in s.codes


def test_signing_certificate_v2_must_name_the_signer(pki) -> None:
    """The signer certificate re-issued with the same key: the signature verifies, the ESSCertIDv2 does not."""
    real = certificate(pki, "head")
    reissued = b.build_certificate(
        subject=real.asn1.subject, public_key=pki["head"].key.public_key(), signing_key=pki.intermediate.key,
        issuer=pki.intermediate.certificate, serial=real.serial_number, not_before=real.not_before,
        not_after=real.not_after, extensions=[b.key_usage("digital_signature", "non_repudiation")])
    der = _replace_certificates(sign(CONTENT, signer(pki, "head")), [reissued.dump()])
    s = verify(der, validate_chain=chain_validator(pki)).signers[0]
    assert s.status == "invalid" and s.codes == ("signing_certificate_mismatch",)


def test_signer_certificate_not_found(pki) -> None:
    der = _replace_certificates(sign(CONTENT, signer(pki, "head")), [pki["employee"].der])
    report = verify(der, validate_chain=chain_validator(pki))
    assert report.status == "indeterminate"
    assert report.signers[0].codes == ("signer_certificate_not_found",)
    found = verify(der, extra_certificates=[certificate(pki, "head")], validate_chain=chain_validator(pki))
    assert found.status == "valid"


def test_revoked_signer(pki) -> None:
    report = verify(sign(CONTENT, signer(pki, "revoked")), validate_chain=chain_validator(pki))
    assert report.status == "invalid"
    s = report.signers[0]
    assert "revoked" in s.codes
    assert next(r for r in s.reasons if r.code == "revoked").scope == "chain"


def test_expired_signer_now_and_at_signing_time(pki) -> None:
    window = profiles.end_entity_window("expired", pki.now)
    claimed = window.not_before + timedelta(days=100)
    der = sign(CONTENT, signer(pki, "expired"), signing_time=claimed)
    now = verify(der, validate_chain=chain_validator(pki))
    assert now.status == "invalid" and "expired" in now.signers[0].codes
    then = verify(der, validate_chain=chain_validator(pki), at="signing-time")
    assert then.status == "valid", then.to_dict()
    assert then.signers[0].chain_checked_at == claimed and then.signers[0].signing_time_source == "signer_claim"


def test_signing_time_missing_falls_back_to_now(pki) -> None:
    from signagent.cms import signing
    from signagent.gost import streebog256

    info = cms.ContentInfo.load(sign(CONTENT, signer(pki, "head")))
    si = signing.signer_info(signer(pki, "head"), streebog256(CONTENT).digest(), signing_time=None)
    info["content"]["signer_infos"] = cms.SignerInfos([cms.SignerInfo.load(si)])
    report = verify(info.dump(force=True), validate_chain=chain_validator(pki), at="signing-time")
    s = report.signers[0]
    assert report.status == "valid" and s.signing_time is None
    assert set(s.warning_codes) >= {"signing_time_missing", "not_cades_bes"}
    assert s.chain_checked_at is not None and abs(s.chain_checked_at - datetime.now(UTC)) < timedelta(minutes=5)


def test_chain_not_checked_is_indeterminate(pki) -> None:
    report = verify(sign(CONTENT, signer(pki, "head")))
    assert report.status == "indeterminate" and report.signers[0].codes == ("chain_not_checked",)


def test_no_signers_is_invalid(pki) -> None:
    info = cms.ContentInfo.load(sign(CONTENT, signer(pki, "head")))
    info["content"]["signer_infos"] = cms.SignerInfos([])
    report = verify(info.dump(force=True))
    assert report.status == "invalid" and report.codes == ("no_signers",)


def test_detached_without_content(pki) -> None:
    with pytest.raises(CmsContentMissingError):
        verify(sign(CONTENT, signer(pki, "head"), detached=True))


@pytest.mark.parametrize("data", [
    b"", b"\x30", b"\x30\x03\x02\x01", b"not a signature at all", b"-----BEGIN CMS-----\n!!!\n-----END CMS-----\n",
    core.Integer(5).dump(), cms.ContentInfo({"content_type": "data", "content": b"x"}).dump(),
])
def test_malformed_input(data: bytes) -> None:
    with pytest.raises(CmsFormatError) as caught:
        verify(data)
    assert caught.value.code == "cms_malformed" and isinstance(caught.value, InvalidInputError)


def test_truncated_at_every_length(pki) -> None:
    der = sign(CONTENT, signer(pki, "head"))
    for n in range(0, len(der), 97):
        with pytest.raises(CmsFormatError):
            verify(der[:n], content=CONTENT)


def test_pem_and_base64_input(pki) -> None:
    import base64

    der = sign(CONTENT, signer(pki, "head"))
    b64 = base64.b64encode(der)
    lines = b"\n".join(b64[i:i + 64] for i in range(0, len(b64), 64))
    pem = b"-----BEGIN PKCS7-----\n" + lines + b"\n-----END PKCS7-----\n"
    for encoded in (pem, b64, b64 + b"\n"):
        assert verify(encoded, validate_chain=chain_validator(pki)).status == "valid"


def test_every_signature_reason_code_has_both_languages() -> None:
    for code, (en, ru) in REASONS.items():
        assert code.islower() and en and ru and en != ru


def test_key_oid_or_signwithdigest_oid(pki) -> None:
    """SignerInfo.signatureAlgorithm may be the key OID or id-tc26-signwithdigest-gost3410-12-256."""
    der = sign(CONTENT, signer(pki, "head"))
    key_alg = bytes.fromhex("06082a85030701010101")  # 1.2.643.7.1.1.1.1
    assert der.count(key_alg) >= 1
    info = cms.ContentInfo.load(der)
    si = info["content"]["signer_infos"][0]
    si["signature_algorithm"] = {"algorithm": "1.2.643.7.1.1.3.2"}
    assert verify(info.dump(force=True), validate_chain=chain_validator(pki)).status == "valid"
    si["signature_algorithm"] = {"algorithm": "1.2.643.7.1.1.3.3"}  # the 512-bit one does not fit the key
    assert "algorithm_mismatch" in verify(info.dump(force=True), validate_chain=chain_validator(pki)).codes


def test_unknown_digest_is_indeterminate(pki) -> None:
    info = cms.ContentInfo.load(sign(CONTENT, signer(pki, "head")))
    info["content"]["signer_infos"][0]["digest_algorithm"] = {"algorithm": "1.2.3.4"}
    report = verify(info.dump(force=True), validate_chain=chain_validator(pki))
    assert report.status == "indeterminate" and "algorithm_not_supported" in report.codes


def test_extra_certificates_must_be_certificates(pki) -> None:
    with pytest.raises(InvalidInputError):
        verify(sign(CONTENT, signer(pki, "head")), extra_certificates=[pki["head"].der])  # type: ignore[list-item]
