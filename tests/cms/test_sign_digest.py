"""sign_digest: a detached CAdES-BES signature from the content's Streebog digest alone (docs/API.md: a page signs
a large file by its digest) -- the same structure as sign(detached=True), verified by us and by OpenSSL."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from signagent.cms.errors import CmsSigningError
from signagent.cms.parsing import load_signed_data
from signagent.cms.signing import sign, sign_digest
from signagent.cms.verification import verify
from signagent.errors import InvalidTypeError
from signagent.gost import streebog256, streebog512
from tests.cms.conftest import assert_openssl_accepts, chain_validator, signer

WHEN = datetime.now(UTC).replace(microsecond=0)


@pytest.mark.parametrize(("name", "hasher"), [("head", streebog256), ("head512", streebog512)])
def test_digest_signature_verifies_with_the_content(pki, tmp_path: Path, name: str, hasher) -> None:
    content = os.urandom(70_000)
    who = signer(pki, name)
    cms = sign_digest(hasher(content).digest(), who, signing_time=WHEN)
    report = verify(cms, content=content, validate_chain=chain_validator(pki), at=WHEN)
    assert report.status == "valid", report.to_dict()
    assert verify(cms, content=content[:-1], validate_chain=chain_validator(pki), at=WHEN).status == "invalid"
    # byte for byte the shape sign(detached) makes: only the signature value (random k) differs
    ours, theirs = load_signed_data(cms), load_signed_data(sign(content, who, detached=True, signing_time=WHEN))
    assert ours.signers[0].signed_attrs == theirs.signers[0].signed_attrs
    assert len(cms) == len(sign(content, who, detached=True, signing_time=WHEN))
    assert_openssl_accepts(pki, tmp_path, cms, content)


def test_a_digest_of_the_wrong_size_or_type_is_refused(pki) -> None:
    who = signer(pki, "head")
    with pytest.raises(CmsSigningError):
        sign_digest(bytes(64), who)  # a 256-bit key signs a 32-byte digest
    with pytest.raises(InvalidTypeError):
        sign_digest("00" * 32, who)  # type: ignore[arg-type]


def test_the_origin_attribute_is_signed_and_reported(pki, tmp_path: Path) -> None:
    content = "Заявление".encode()
    who = signer(pki, "head")
    for cms in (sign(content, who, origin="https://portal.test"),
                sign(content, who, detached=True, origin="https://portal.test"),
                sign_digest(streebog256(content).digest(), who, origin="https://portal.test")):
        report = verify(cms, content=content, validate_chain=chain_validator(pki))
        assert report.status == "valid" and report.signers[0].origin == "https://portal.test"
        assert report.to_dict()["signers"][0]["origin"] == "https://portal.test"
    plain = verify(sign(content, who), validate_chain=chain_validator(pki))
    assert plain.signers[0].origin is None
    # the attribute is under the signature: another origin written in its place breaks it
    cms = sign(content, who, origin="https://portal.test")
    forged = cms.replace(b"https://portal.test", b"https://other.test!")
    assert verify(forged, validate_chain=chain_validator(pki)).status == "invalid"
    assert_openssl_accepts(pki, tmp_path, cms)  # an unknown signed attribute is fine for OpenSSL


def test_a_cosignature_carries_its_own_origin(pki) -> None:
    from signagent.cms.cosign import cosign

    content = b"contract"
    first = sign(content, signer(pki, "head"), origin="https://portal.test")
    both = cosign(first, signer(pki, "employee"), origin="https://other.test")
    report = verify(both, validate_chain=chain_validator(pki))
    assert report.status == "valid"
    assert [s.origin for s in report.signers] == ["https://portal.test", "https://other.test"]
