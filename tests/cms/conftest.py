"""Fixtures of the CMS tests: the test PKI with a 512-bit end entity added, signers, and a chain validator."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from signagent.cms.signer import SoftwareSigner
from signagent.testpki import generate
from signagent.testpki.generator import TestPKI
from signagent.testpki.spec import COMPANY, HEAD, EndEntitySpec, default_spec
from signagent.trust.validation import validate
from signagent.x509 import Certificate, load_certificate
from tests.oracles import openssl_gost

PARAMSET_512_A = "1.2.643.7.1.2.1.2.1"


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    """The default test PKI plus ``head512``: the head's certificate with a 512-bit (tc26 paramSetA) key."""
    spec = default_spec()
    spec = replace(spec, end_entities=(*spec.end_entities,
                                       EndEntitySpec("head512", "head", HEAD, COMPANY, curve=PARAMSET_512_A)))
    return generate(tmp_path_factory.mktemp("cms-pki"), spec=spec)


def certificate(pki: TestPKI, name: str) -> Certificate:
    """The named certificate of the test PKI as a signagent Certificate."""
    return load_certificate(pki[name].der)


def signer(pki: TestPKI, name: str) -> SoftwareSigner:
    """A software signer with the named certificate and its key."""
    return SoftwareSigner(certificate(pki, name), pki[name].key)


def chain_validator(pki: TestPKI, **options: object) -> Callable[[Certificate, Sequence[Certificate],
                                                                  datetime | None], object]:
    """The trust layer's validate() over the test PKI (root trusted, current CRLs, offline)."""
    crls = [pki.crls["inter"].der, pki.crls["root"].der]

    def run(cert: Certificate, others: Sequence[Certificate], when: datetime | None) -> object:
        return validate(cert, trust_roots=[pki.root.der], intermediates=[*others, pki.intermediate.der], crls=crls,
                        at=when, offline=True, **options)  # type: ignore[arg-type]

    return run


def openssl_ready() -> bool:
    """The openssl command and the GOST engine are usable."""
    return openssl_gost.openssl_binary() is not None and openssl_gost.available()


def openssl_verify(pki: TestPKI, signature: Path, content: Path | None = None,
                   extra: Sequence[str] = ()) -> tuple[int, str]:
    """``openssl cms -verify`` with the chain (root + intermediate) in -CAfile; (exit status, stderr)."""
    args = ["cms", "-verify", "-binary", "-inform", "DER", "-in", str(signature),
            "-CAfile", str(pki.out_dir / "chain.pem"), "-out", "/dev/null", *extra]
    if content is not None:
        args += ["-content", str(content)]
    done = openssl_gost.run_cli(args)
    return done.returncode, done.stderr.decode(errors="replace")


def assert_openssl_accepts(pki: TestPKI, tmp_path: Path, cms: bytes, content: bytes | None = None) -> None:
    """``openssl cms -verify`` with the test PKI's chain accepts ``cms`` (checked against ``content`` when given);
    requires OpenSSL with the GOST engine (a failure in CI, a skip elsewhere)."""
    from tests.conftest import require

    require(openssl_ready(), "openssl with the GOST engine")
    (tmp_path / "sig.der").write_bytes(cms)
    if content is not None:
        (tmp_path / "content.bin").write_bytes(content)
    code, err = openssl_verify(pki, tmp_path / "sig.der", None if content is None else tmp_path / "content.bin")
    assert code == 0, err
