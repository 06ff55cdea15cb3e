"""Validation of the real state-PKI CA certificates (certs/real, public data; provenance in its README).

Known facts checked (see that folder's README): every intermediate chains to the root its file name says at a
fixed time; a CA under the 2022 "Минцифры России" key has two paths (directly, and through the cross-certificate
to the 2021 "Минкомсвязь России" root); the legacy GOST R 34.10-2001 root, the NUC 2017 CA under it and the root's
2018 CRL verify; after NUC 2017's notAfter (2026-10-26) it is reported expired.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import pem, x509

from signagent.service.validation import exit_code, validate_certificate_file
from signagent.trust.validation import clear_caches, validate

AT = datetime(2026, 6, 1, tzinfo=UTC)  # inside every intermediate's validity, NUC 2017 included


@pytest.fixture(scope="module")
def real(real_pki_dir: Path) -> Path:
    return real_pki_dir


def _load(path: Path) -> x509.Certificate:
    return x509.Certificate.load(pem.unarmor(path.read_bytes())[2])


@pytest.fixture(scope="module")
def roots(real: Path) -> dict[str, x509.Certificate]:
    return {p.name: _load(p) for p in sorted(real.glob("root_*.pem"))}


@pytest.fixture(scope="module")
def cross(real: Path) -> x509.Certificate:
    return _load(next(real.glob("cross_mincifry2022_by_minkomsvyaz2021_*.pem")))


def _root_for(ca_file: str, roots: dict[str, x509.Certificate]) -> x509.Certificate:
    tag = ca_file.split("_by_")[1].rsplit("_", 1)[0]  # e.g. "mincifry2022", "guc2012_gost2001"
    (name,) = [n for n in roots if n.startswith(f"root_{tag}")]
    return roots[name]


class FailingFetcher:
    """A fetcher that fails the test if validation touches the network."""

    def get(self, url: str) -> bytes:
        pytest.fail(f"offline validation fetched {url}")

    def post(self, url: str, body: bytes, content_type: str) -> bytes:
        pytest.fail(f"offline validation posted to {url}")


def test_every_intermediate_chains_to_its_root(real: Path, roots: dict[str, x509.Certificate]) -> None:
    files = sorted(real.glob("ca_*.pem"))
    assert len(files) == 14
    for path in files:
        root = _root_for(path.name, roots)
        report = validate(_load(path), trust_roots=[root], at=AT, revocation="off")
        assert report.status == "valid", (path.name, report.to_dict()["reasons"])
        assert [c.role for c in report.chain] == ["end_entity", "root"]
        assert report.chain[-1].sha1 == _thumbprint(root)
        assert report.warning_codes == ("revocation_not_checked",)
        # a different root of the same name (2018 vs 2021 "Минкомсвязь России") is not taken as the issuer
        others = [r for r in roots.values() if r is not root]
        assert validate(_load(path), trust_roots=others, at=AT, revocation="off").status != "valid", path.name


def _thumbprint(cert: x509.Certificate) -> str:
    import hashlib

    return hashlib.sha1(cert.dump()).hexdigest().upper()  # noqa: S324


def test_both_paths_through_the_cross_certificate(real: Path, roots: dict[str, x509.Certificate],
                                                  cross: x509.Certificate) -> None:
    root2022 = roots[next(n for n in roots if n.startswith("root_mincifry2022"))]
    root2021 = roots[next(n for n in roots if n.startswith("root_minkomsvyaz2021"))]
    # the two candidates really share the subject and the key identifier
    assert cross.subject == root2022.subject and cross.key_identifier == root2022.key_identifier
    under_2022 = sorted(real.glob("ca_*_by_mincifry2022_*.pem"))
    assert len(under_2022) == 6
    for path in under_2022:
        report = validate(_load(path), trust_roots=[root2022, root2021], intermediates=[cross], at=AT,
                          revocation="off")
        assert report.status == "valid"
        found = {p.thumbprints[1:] for p in report.paths}
        assert found == {(_thumbprint(root2022),), (_thumbprint(cross), _thumbprint(root2021))}, path.name
        assert all(p.status == "valid" for p in report.paths)
        assert len(report.chain) == 2  # the direct path is preferred
        # trusting only the 2021 root, the cross-certificate path alone makes it valid
        only_2021 = validate(_load(path), trust_roots=[root2021], intermediates=[cross], at=AT, revocation="off")
        assert only_2021.status == "valid"
        assert only_2021.chain[1].sha1 == _thumbprint(cross)


def test_legacy_gost2001_root_ca_and_crl(real: Path, roots: dict[str, x509.Certificate]) -> None:
    guc = roots[next(n for n in roots if n.startswith("root_guc2012_gost2001"))]
    nuc = _load(next(real.glob("ca_nuc_2017_gost2001_*.pem")))
    crl_pem = next(real.glob("crl_guc2012_gost2001_*.pem")).read_bytes()
    inside = datetime(2018, 6, 1, tzinfo=UTC)  # within the CRL's thisUpdate..nextUpdate
    report = validate(nuc, trust_roots=[guc], crls=[crl_pem], at=inside, revocation="hard", offline=True)
    assert report.status == "valid", report.to_dict()
    checks = {c.name: c for c in report.chain[0].checks}
    assert checks["signature"].status == "passed" and checks["signature"].detail == "gost3410_2001_gost341194"
    assert checks["revocation"].status == "passed" and "crl" in checks["revocation"].detail
    # the same CRL a year later is out of date: indeterminate when hard, valid with a warning when soft
    later = datetime(2019, 6, 1, tzinfo=UTC)
    hard = validate(nuc, trust_roots=[guc], crls=[crl_pem], at=later, revocation="hard", offline=True)
    assert (hard.status, hard.codes) == ("indeterminate", ("crl_expired",))
    assert exit_code(hard) == 2
    soft = validate(nuc, trust_roots=[guc], crls=[crl_pem], at=later, revocation="soft", offline=True)
    assert (soft.status, soft.warning_codes) == ("valid", ("crl_expired",))
    # after NUC 2017's notAfter (2026-10-26) while the root is still valid (until 2027-07-17)
    expired = validate(nuc, trust_roots=[guc], at=datetime(2027, 1, 1, tzinfo=UTC), revocation="off")
    assert expired.status == "invalid" and expired.codes == ("expired",)
    assert expired.reasons[0].certificate == _thumbprint(nuc)
    assert "2026-10-26" in expired.reasons[0].message and "истёк" in expired.reasons[0].message_ru
    assert exit_code(expired) == 1


def test_tampered_signature_is_reported(real: Path, roots: dict[str, x509.Certificate]) -> None:
    path = next(real.glob("ca_fns_2022-04_*.pem"))
    der = bytearray(_load(path).dump())
    der[-5] ^= 0x01  # inside the signature value (the last element of the certificate)
    report = validate(bytes(der), trust_roots=[_root_for(path.name, roots)], at=AT, revocation="off")
    assert (report.status, report.codes) == ("invalid", ("bad_signature",))


def test_missing_issuer_and_untrusted_root(real: Path, roots: dict[str, x509.Certificate]) -> None:
    path = next(real.glob("ca_fns_2022-04_*.pem"))
    root2022 = roots[next(n for n in roots if n.startswith("root_mincifry2022"))]
    root2018 = roots[next(n for n in roots if n.startswith("root_minkomsvyaz2018"))]
    missing = validate(_load(path), trust_roots=[root2018], at=AT, revocation="off", offline=True)
    assert (missing.status, missing.codes) == ("indeterminate", ("issuer_not_found",))
    untrusted = validate(_load(path), trust_roots=[root2018], intermediates=[root2022], at=AT, revocation="off")
    assert (untrusted.status, untrusted.codes) == ("invalid", ("untrusted_root",))
    assert untrusted.reasons[0].certificate == _thumbprint(root2022)


def test_offline_never_touches_the_network(real: Path, roots: dict[str, x509.Certificate],
                                           tmp_path: Path) -> None:
    path = next(real.glob("ca_fns_2022-04_*.pem"))
    clear_caches()
    report = validate(_load(path), trust_roots=[_root_for(path.name, roots)], at=AT, offline=True,
                      revocation="soft", fetcher=FailingFetcher(), cache_dir=str(tmp_path))
    assert report.status == "valid"
    assert report.warning_codes == ("revocation_unknown",)
    assert "not available offline" in report.warnings[0].message
    hard = validate(_load(path), trust_roots=[_root_for(path.name, roots)], at=AT, offline=True,
                    revocation="hard", fetcher=FailingFetcher(), cache_dir=str(tmp_path))
    assert hard.status == "indeterminate"


def test_report_to_dict_is_json(real: Path, roots: dict[str, x509.Certificate], cross: x509.Certificate) -> None:
    path = next(real.glob("ca_kazna_2024_*.pem"))
    report = validate(_load(path), trust_roots=list(roots.values()), intermediates=[cross], at=AT, revocation="off")
    data = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
    assert data["status"] == "valid" and len(data["paths"]) == 2
    assert data["chain"][0]["subject"].find("Федеральное казначейство") >= 0
    assert {c["name"] for c in data["chain"][0]["checks"]} >= {"signature", "validity", "critical_extensions"}
    assert "basic_constraints" in {c["name"] for c in data["chain"][1]["checks"]}
    assert data["warnings"][0]["code"] == "revocation_not_checked"


def test_service_reads_files_and_directories(real: Path, tmp_path: Path) -> None:
    trust = tmp_path / "trust"
    trust.mkdir()
    for p in real.glob("root_*.pem"):
        (trust / p.name).write_bytes(p.read_bytes())
    (trust / "README.txt").write_text("not a certificate")  # skipped, as in trust folders in the wild
    target = next(real.glob("ca_sertum_pro_2024_*.pem"))
    cross_file = next(real.glob("cross_*.pem"))
    report = validate_certificate_file(target, trust_paths=[trust], intermediate_paths=[cross_file],
                                       at="2026-06-01T00:00:00Z", revocation="off")
    assert report.status == "valid" and len(report.paths) == 2 and exit_code(report) == 0
    nuc = next(real.glob("ca_nuc_2017_gost2001_*.pem"))
    crl_file = next(real.glob("crl_guc2012_*.pem"))
    legacy = validate_certificate_file(nuc, trust_paths=[trust], crl_paths=[crl_file], at="2018-06-01",
                                       offline=True, revocation="hard")
    assert legacy.status == "valid"
