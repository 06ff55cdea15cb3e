"""Each reason code of a validation report, produced by a purpose-built certificate.

The test PKI (signagent.testpki: root 512-bit -> intermediate 256-bit pathLen 0 -> end entities with the faulty
variants and CRLs) gives expired / not_yet_valid / revoked / wrong_key_usage / pkup_over; the others are built here
with signagent.x509.builder under the same CAs: a certificate issued by a non-CA, a sub-CA breaking pathLen 0, a CA
without keyCertSign, an unknown critical extension, a non-GOST signature algorithm, a damaged signature.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from asn1crypto import core, x509

from signagent.errors import CertificateFormatError, CrlFormatError
from signagent.gost import PrivateKey, curve
from signagent.testpki import TestPKI, generate
from signagent.trust import validation as v
from signagent.trust.gost_validator import GostAlgorithmPolicy
from signagent.trust.report import REASONS
from signagent.x509 import builder as b

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return generate(tmp_path_factory.mktemp("pki"), seed="trust-reasons")


def _check(pki: TestPKI, cert: object, *, crls: tuple[str, ...] = ("inter", "root"), revocation: str = "hard",
           intermediates: list[object] | None = None, roots: list[object] | None = None, **kw: object):
    return v.validate(cert, trust_roots=roots if roots is not None else [pki.root.certificate],
                      intermediates=intermediates if intermediates is not None else [pki.intermediate.certificate],
                      crls=[pki.crls[c].der for c in crls], at=pki.now, offline=True,
                      revocation=revocation, **kw)  # type: ignore[arg-type]


def _issue(pki: TestPKI, *, issuer_cert: x509.Certificate, issuer_key: PrivateKey, extensions: list,
           name: str = "Проверка") -> tuple[x509.Certificate, PrivateKey]:
    key = PrivateKey.generate(curve("1.2.643.7.1.2.1.1.1"))
    cert = b.build_certificate(subject=[("CN", name)], public_key=key.public_key(), signing_key=issuer_key,
                               issuer=issuer_cert, not_before=pki.now - timedelta(days=1),
                               not_after=pki.now + timedelta(days=30), extensions=extensions)
    return cert, key


def _ee_extensions() -> list:
    return [b.key_usage("digital_signature", "non_repudiation")]


@pytest.mark.parametrize("name", ["head", "employee", "ip", "person"])
def test_valid_profiles(pki: TestPKI, name: str) -> None:
    report = _check(pki, pki.end_entities[name].certificate)
    assert (report.status, report.codes, report.warning_codes) == ("valid", (), ())
    assert [c.role for c in report.chain] == ["end_entity", "intermediate", "root"]
    revocation = [c for c in report.chain[0].checks if c.name == "revocation"]
    assert revocation[0].status == "passed"


@pytest.mark.parametrize(("variant", "code"), [
    ("expired", "expired"), ("not_yet_valid", "not_yet_valid"), ("revoked", "revoked"),
    ("wrong_key_usage", "key_usage_not_allowed"), ("pkup_over", "private_key_usage_period_over"),
])
def test_faulty_variants(pki: TestPKI, variant: str, code: str) -> None:
    report = _check(pki, pki.end_entities[variant].certificate)
    assert report.status == "invalid"
    assert code in report.codes
    first = next(r for r in report.reasons if r.code == code)
    assert first.certificate == pki.end_entities[variant].sha1.upper().replace(":", "")
    assert first.message and first.message_ru and first.message != first.message_ru


def test_revoked_carries_date_and_reason(pki: TestPKI) -> None:
    cert = pki.end_entities["revoked"]
    (revocation,) = pki.revocations["inter"].values()
    report = _check(pki, cert.certificate)
    assert report.codes == ("revoked",)
    details = report.reasons[0].details
    assert details["revocation_reason"] == revocation.reason == "key_compromise"
    assert details["revoked_at"] == revocation.revoked_at.strftime("%Y-%m-%d %H:%M:%SZ")
    # before the revocation date the same CRL says "not revoked then"
    earlier = v.validate(cert.certificate, trust_roots=[pki.root.certificate],
                         intermediates=[pki.intermediate.certificate],
                         crls=[pki.crls["inter"].der, pki.crls["root"].der],
                         at=revocation.revoked_at - timedelta(hours=1), offline=True, revocation="hard")
    assert earlier.status == "valid"


def test_crl_expired_and_revocation_modes(pki: TestPKI) -> None:
    head = pki.end_entities["head"].certificate
    hard = _check(pki, head, crls=("inter_expired", "root"))
    assert (hard.status, hard.codes) == ("indeterminate", ("crl_expired",))
    soft = _check(pki, head, crls=("inter_expired", "root"), revocation="soft")
    assert (soft.status, soft.warning_codes) == ("valid", ("crl_expired",))
    unknown = _check(pki, head, crls=())
    assert unknown.status == "indeterminate" and set(unknown.codes) == {"revocation_unknown"}
    off = _check(pki, head, crls=(), revocation="off")
    assert (off.status, off.warning_codes) == ("valid", ("revocation_not_checked",))
    # a stale CRL (issued before the revocation) never turns a revoked certificate into "valid"
    revoked = _check(pki, pki.end_entities["revoked"].certificate, crls=("inter_expired", "root"))
    assert (revoked.status, revoked.codes) == ("indeterminate", ("crl_expired",))


def test_chain_problems(pki: TestPKI) -> None:
    head = pki.end_entities["head"].certificate
    missing = _check(pki, head, intermediates=[])
    assert (missing.status, missing.codes) == ("indeterminate", ("issuer_not_found",))
    untrusted = _check(pki, head, roots=[], intermediates=[pki.intermediate.certificate, pki.root.certificate])
    assert (untrusted.status, untrusted.codes) == ("invalid", ("untrusted_root",))


def test_bad_signature(pki: TestPKI) -> None:
    der = bytearray(pki.end_entities["head"].der)
    der[-3] ^= 0x40
    report = _check(pki, bytes(der), revocation="off")
    assert (report.status, report.codes) == ("invalid", ("bad_signature",))


def test_not_a_ca(pki: TestPKI) -> None:
    head = pki.end_entities["head"]
    cert, _ = _issue(pki, issuer_cert=head.certificate, issuer_key=head.key, extensions=_ee_extensions())
    report = _check(pki, cert, intermediates=[pki.intermediate.certificate, head.certificate], revocation="off")
    assert "not_a_ca" in report.codes and report.status == "invalid"
    assert next(r for r in report.reasons if r.code == "not_a_ca").certificate == head.sha1.upper()


def test_path_length_exceeded(pki: TestPKI) -> None:
    sub, sub_key = _issue(pki, issuer_cert=pki.intermediate.certificate, issuer_key=pki.intermediate.key,
                          extensions=[b.basic_constraints(True), b.key_usage("key_cert_sign", "crl_sign")],
                          name="Подчинённый УЦ")
    ee, _ = _issue(pki, issuer_cert=sub, issuer_key=sub_key, extensions=_ee_extensions())
    report = _check(pki, ee, intermediates=[pki.intermediate.certificate, sub], revocation="off")
    assert (report.status, report.codes) == ("invalid", ("path_length_exceeded",))


def test_ca_key_usage_missing(pki: TestPKI) -> None:
    ca, ca_key = _issue(pki, issuer_cert=pki.root.certificate, issuer_key=pki.root.key,
                        extensions=[b.basic_constraints(True, 0), b.key_usage("digital_signature")], name="УЦ")
    ee, _ = _issue(pki, issuer_cert=ca, issuer_key=ca_key, extensions=_ee_extensions())
    report = _check(pki, ee, intermediates=[ca], revocation="off")
    assert (report.status, report.codes) == ("invalid", ("ca_key_usage_missing",))


def test_unknown_critical_extension(pki: TestPKI) -> None:
    odd = x509.Extension({"extn_id": "1.2.643.100.999", "critical": True, "extn_value": core.Null().dump()})
    ee, _ = _issue(pki, issuer_cert=pki.intermediate.certificate, issuer_key=pki.intermediate.key,
                   extensions=[*_ee_extensions(), odd])
    report = _check(pki, ee, revocation="off")
    assert (report.status, report.codes) == ("invalid", ("unknown_critical_extension",))
    assert "1.2.643.100.999" in report.reasons[0].message


def test_algorithm_not_allowed(pki: TestPKI) -> None:
    original = pki.end_entities["head"].certificate
    tbs = original["tbs_certificate"].copy()
    tbs["signature"] = {"algorithm": "sha256_ecdsa"}
    forged = x509.Certificate({"tbs_certificate": tbs, "signature_algorithm": {"algorithm": "sha256_ecdsa"},
                               "signature_value": original["signature_value"].native})
    report = _check(pki, forged.dump(), revocation="off")
    assert (report.status, report.codes) == ("invalid", ("algorithm_not_allowed",))
    # with foreign algorithms allowed it is judged by its signature instead
    lenient = _check(pki, forged.dump(), revocation="off", allow_foreign_algorithms=True)
    assert lenient.codes == ("bad_signature",)


def test_malformed_input_raises(pki: TestPKI) -> None:
    with pytest.raises(CertificateFormatError):
        v.validate(b"\x30\x82\xff\xff garbage", trust_roots=[pki.root.certificate])
    with pytest.raises(CertificateFormatError):
        v.validate(pki.end_entities["head"].der[:-20], trust_roots=[pki.root.certificate])
    with pytest.raises(CrlFormatError):
        v.validate(pki.end_entities["head"].der, trust_roots=[pki.root.certificate], crls=[b"not a crl"])


def test_pyhanko_error_table() -> None:
    from pyhanko_certvalidator import errors as e

    assert v.reason_code_for(e.PathBuildingError("no issuer")) == "issuer_not_found"
    assert v.reason_code_for(e.InvalidCertificateError("The X.509 certificate provided is self-signed")) == \
        "untrusted_root"
    assert v.reason_code_for(e.InvalidCertificateError("not valid for the purpose")) == "key_usage_not_allowed"
    assert v.reason_code_for(RuntimeError("x")) == "validation_failed"
    assert {code for _, _, code in v.PYHANKO_ERRORS} <= set(REASONS)


def test_algorithm_policy() -> None:
    from asn1crypto import algos

    policy = GostAlgorithmPolicy()
    for name in ("gost3410_2012_256_streebog256", "gost3410_2012_512_streebog512", "gost3410_2001_gost341194"):
        assert policy.signature_algorithm_allowed(algos.SignedDigestAlgorithm({"algorithm": name}), None, None)
    assert not policy.signature_algorithm_allowed(algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}),
                                                  None, None)
    strict = GostAlgorithmPolicy(allow_legacy=False)
    legacy = algos.SignedDigestAlgorithm({"algorithm": "gost3410_2001_gost341194"})
    assert not strict.signature_algorithm_allowed(legacy, None, None)
    assert not strict.digest_algorithm_allowed(algos.DigestAlgorithm({"algorithm": "gost341194"}), None)
    assert policy.digest_algorithm_allowed(algos.DigestAlgorithm({"algorithm": "streebog512"}), None)


def test_result_cache_respects_the_time_window(pki: TestPKI) -> None:
    head = pki.end_entities["head"].certificate
    first = _check(pki, head)
    again = _check(pki, head)
    assert again == first
    # past the intermediate CRL's nextUpdate the cached "valid" must not be reused
    later = v.validate(head, trust_roots=[pki.root.certificate], intermediates=[pki.intermediate.certificate],
                       crls=[pki.crls["inter"].der, pki.crls["root"].der], at=pki.now + timedelta(days=8),
                       offline=True, revocation="hard")
    assert later.codes == ("crl_expired",)


def test_no_trust_roots(tmp_path: Path) -> None:
    # an empty trust list is not an error: nothing is trusted
    pki = generate(tmp_path, seed="empty-roots")
    report = v.validate(pki.end_entities["head"].certificate, trust_roots=[], offline=True, revocation="off")
    assert report.status == "indeterminate" and report.codes == ("issuer_not_found",)
