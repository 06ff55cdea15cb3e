"""Our verdict agrees with ``openssl verify`` (OpenSSL 3 + GOST engine) on chains and CRLs OpenSSL made.

OpenSSL builds a 512-bit root (``req -x509 -newkey gost2012_512``), a 256-bit intermediate and two end entities
(``x509 -req``), revokes one and issues the intermediate's CRL (``ca -revoke`` / ``ca -gencrl``). Each case is
verified by both sides at the same time (``-attime``); OpenSSL's "OK" must be exactly our "valid".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import pem

from signagent.trust.validation import validate
from tests.conftest import require
from tests.oracles import openssl_gost

pytestmark = pytest.mark.oracle

_EXTENSIONS = """[ca_ext]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[ee_ext]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,nonRepudiation
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[ee_bad_ku]
basicConstraints=CA:FALSE
keyUsage=critical,keyEncipherment
"""

_CA_CONFIG = """[ca]
default_ca=CA_default
[CA_default]
database=index.txt
crlnumber=crlnumber
certificate=inter.pem
private_key=inter.key
default_md=md_gost12_256
default_crl_days=30
"""


def _run(args: list[str], cwd: Path) -> None:
    done = openssl_gost.run_cli(args, cwd=cwd)
    if done.returncode:
        raise AssertionError(f"openssl {' '.join(args)} failed: {done.stderr.decode(errors='replace')}")


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require(openssl_gost.openssl_binary() and openssl_gost.available(), "OpenSSL with the GOST engine")
    d = tmp_path_factory.mktemp("openssl-chain")
    (d / "ext.cnf").write_text(_EXTENSIONS)
    (d / "ca.cnf").write_text(_CA_CONFIG)
    (d / "index.txt").write_text("")
    (d / "crlnumber").write_text("01\n")
    _run(["req", "-x509", "-newkey", "gost2012_512", "-pkeyopt", "paramset:A", "-nodes", "-keyout", "root.key",
          "-out", "root.pem", "-subj", "/CN=OpenSSL GOST Root", "-days", "3650",
          "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], d)
    _run(["req", "-new", "-newkey", "gost2012_256", "-pkeyopt", "paramset:A", "-nodes", "-keyout", "inter.key",
          "-out", "inter.csr", "-subj", "/CN=OpenSSL GOST Intermediate"], d)
    _run(["x509", "-req", "-in", "inter.csr", "-CA", "root.pem", "-CAkey", "root.key", "-set_serial", "2",
          "-days", "1800", "-extfile", "ext.cnf", "-extensions", "ca_ext", "-out", "inter.pem"], d)
    for name, serial, ext in (("ee", 10, "ee_ext"), ("ee_rev", 11, "ee_ext"), ("ee_ku", 12, "ee_bad_ku")):
        _run(["req", "-new", "-newkey", "gost2012_256", "-pkeyopt", "paramset:B", "-nodes", "-keyout",
              f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}"], d)
        _run(["x509", "-req", "-in", f"{name}.csr", "-CA", "inter.pem", "-CAkey", "inter.key", "-set_serial",
              str(serial), "-days", "365", "-extfile", "ext.cnf", "-extensions", ext, "-out", f"{name}.pem"], d)
    _run(["ca", "-config", "ca.cnf", "-revoke", "ee_rev.pem", "-crl_reason", "keyCompromise"], d)
    _run(["ca", "-config", "ca.cnf", "-gencrl", "-out", "inter.crl"], d)
    # a copy of ee.pem with one bit of its signature flipped
    der = bytearray(pem.unarmor((d / "ee.pem").read_bytes())[2])
    der[-4] ^= 0x10
    (d / "ee_tampered.pem").write_bytes(pem.armor("CERTIFICATE", bytes(der)))
    # an unrelated root with the intermediate's name (and another key): it must not be taken for an issuer
    _run(["req", "-x509", "-newkey", "gost2012_256", "-pkeyopt", "paramset:A", "-nodes", "-keyout", "other.key",
          "-out", "other.pem", "-subj", "/CN=OpenSSL GOST Intermediate", "-days", "3650"], d)
    return d


def _openssl_ok(d: Path, target: str, at: datetime, *, root: str = "root.pem", crl: bool = False) -> bool:
    args = ["verify", "-CAfile", root, "-untrusted", "inter.pem", "-attime", str(int(at.timestamp()))]
    if crl:
        args += ["-crl_check", "-CRLfile", "inter.crl"]
    done = openssl_gost.run_cli([*args, target], cwd=d)
    return done.returncode == 0 and done.stdout.strip().endswith(b"OK")


def _ours(d: Path, target: str, at: datetime, *, root: str = "root.pem", crl: bool = False):
    return validate((d / target).read_bytes(), trust_roots=[(d / root).read_bytes()],
                    intermediates=[(d / "inter.pem").read_bytes()],
                    crls=[(d / "inter.crl").read_bytes()] if crl else [], at=at, offline=True,
                    revocation="soft" if crl else "off", purpose="any")


NOW = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)

CASES = [
    # (target, time, trust root, check CRL, expected OpenSSL verdict, our reason codes when not valid)
    ("ee.pem", NOW, "root.pem", False, True, ()),
    ("ee.pem", NOW, "root.pem", True, True, ()),
    ("ee_rev.pem", NOW, "root.pem", False, True, ()),
    ("ee_rev.pem", NOW, "root.pem", True, False, ("revoked",)),
    ("ee.pem", NOW + timedelta(days=400), "root.pem", False, False, ("expired",)),
    ("ee.pem", NOW - timedelta(days=2), "root.pem", False, False, ("not_yet_valid",)),
    ("ee_tampered.pem", NOW, "root.pem", False, False, ("bad_signature",)),
    ("ee.pem", NOW, "other.pem", False, False, ("issuer_not_found",)),
]


@pytest.mark.parametrize(("target", "at", "root", "crl", "expected", "codes"), CASES)
def test_verdict_matches_openssl(chain: Path, target: str, at: datetime, root: str, crl: bool, expected: bool,
                                 codes: tuple[str, ...]) -> None:
    assert _openssl_ok(chain, target, at, root=root, crl=crl) is expected
    report = _ours(chain, target, at, root=root, crl=crl)
    assert (report.status == "valid") is expected, report.to_dict()
    if not expected:
        assert set(codes) <= set(report.codes), report.codes


def test_signing_key_usage_against_openssl_purpose(chain: Path) -> None:
    # OpenSSL's smimesign purpose needs digitalSignature/nonRepudiation like our "signing" purpose
    done = openssl_gost.run_cli(["verify", "-CAfile", "root.pem", "-untrusted", "inter.pem", "-purpose",
                                 "smimesign", "ee_ku.pem"], cwd=chain)
    assert done.returncode != 0
    report = validate((chain / "ee_ku.pem").read_bytes(), trust_roots=[(chain / "root.pem").read_bytes()],
                      intermediates=[(chain / "inter.pem").read_bytes()], offline=True, revocation="off")
    assert report.codes == ("key_usage_not_allowed",)
    good = openssl_gost.run_cli(["verify", "-CAfile", "root.pem", "-untrusted", "inter.pem", "-purpose",
                                 "smimesign", "ee.pem"], cwd=chain)
    assert good.returncode == 0


def test_crl_made_by_openssl_lists_the_revocation(chain: Path) -> None:
    report = _ours(chain, "ee_rev.pem", NOW, crl=True)
    assert report.reasons[0].details["revocation_reason"] == "key_compromise"
    text = openssl_gost.run_cli(["crl", "-in", "inter.crl", "-noout", "-text"], cwd=chain).stdout
    assert b"Serial Number: 0B" in text and b"Key Compromise" in text
