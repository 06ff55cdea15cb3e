"""A detached signature's content known only by its digest (ContentDigest: CryptoPro's VerifyHash and CoSignHash):
verification against the digest gives the verdict the content gives; a co-signature made from the digest verifies
with the content, by us and by OpenSSL; a digest of another algorithm than a signer's is said, never taken."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from signagent.asn1 import oids
from signagent.cms.content import ContentDigest
from signagent.cms.cosign import cosign
from signagent.cms.errors import CmsSigningError
from signagent.cms.signing import sign
from signagent.cms.verification import verify
from signagent.errors import InvalidTypeError, UnknownAlgorithmError
from signagent.gost import streebog256, streebog512
from tests.cms.conftest import assert_openssl_accepts, chain_validator, signer

WHEN = datetime.now(UTC).replace(microsecond=0)
CONTENT = os.urandom(50_000)
D256 = ContentDigest(oids.STREEBOG256, streebog256(CONTENT).digest())
D512 = ContentDigest(oids.STREEBOG512, streebog512(CONTENT).digest())


@pytest.mark.parametrize(("name", "digest"), [("head", D256), ("head512", D512)])
def test_verifying_by_the_digest_is_verifying_by_the_content(pki, name: str, digest: ContentDigest) -> None:
    cms = sign(CONTENT, signer(pki, name), detached=True, signing_time=WHEN)
    by_content = verify(cms, content=CONTENT, validate_chain=chain_validator(pki), at=WHEN)
    by_digest = verify(cms, content=digest, validate_chain=chain_validator(pki), at=WHEN)
    assert by_content.status == by_digest.status == "valid", by_digest.to_dict()
    assert [s.certificate.der for s in by_digest.signers] == [pki[name].der]
    other = ContentDigest(digest.oid, (streebog256 if digest.oid == oids.STREEBOG256 else streebog512)(
        CONTENT + b"!").digest())
    changed = verify(cms, content=other, validate_chain=chain_validator(pki), at=WHEN)
    assert changed.status == "invalid" and changed.signers[0].codes == ("message_digest_mismatch",)


def test_a_signer_of_another_digest_algorithm_is_not_checked_against_the_digest(pki) -> None:
    both = cosign(sign(CONTENT, signer(pki, "head"), detached=True, signing_time=WHEN), signer(pki, "head512"),
                  content=CONTENT, signing_time=WHEN)
    report = verify(both, content=D256, validate_chain=chain_validator(pki), at=WHEN)
    assert [s.status for s in report.signers] == ["valid", "indeterminate"]
    assert report.signers[1].codes == ("content_digest_algorithm",)
    reason = report.signers[1].reasons[0]
    assert "streebog256" in reason.message and "streebog512" in reason.message
    assert report.status == "indeterminate"


@pytest.mark.parametrize(("first", "second", "digest"), [("head", "employee", D256), ("head", "head512", D512)])
def test_a_cosignature_from_the_digest_verifies_with_the_content(pki, tmp_path: Path, first: str, second: str,
                                                                 digest: ContentDigest) -> None:
    original = sign(CONTENT, signer(pki, first), detached=True, signing_time=WHEN)
    both = cosign(original, signer(pki, second), content=digest, signing_time=WHEN)
    report = verify(both, content=CONTENT, validate_chain=chain_validator(pki), at=WHEN)
    assert report.status == "valid" and len(report.signers) == 2, report.to_dict()
    assert verify(both, content=CONTENT[1:], validate_chain=chain_validator(pki), at=WHEN).status == "invalid"
    assert_openssl_accepts(pki, tmp_path, both, CONTENT)


def test_a_digest_the_cosigners_key_does_not_sign_is_refused(pki) -> None:
    original = sign(CONTENT, signer(pki, "head"), detached=True)
    with pytest.raises(CmsSigningError) as caught:
        cosign(original, signer(pki, "employee"), content=D512)  # a 256-bit key signs a Streebog-256 digest
    assert "streebog256" in caught.value.message and "streebog512" in caught.value.message


def test_a_digest_must_have_its_algorithms_size() -> None:
    with pytest.raises(InvalidTypeError):
        ContentDigest(oids.STREEBOG256, bytes(64))
    with pytest.raises(InvalidTypeError):
        ContentDigest(oids.STREEBOG512, "00" * 64)  # type: ignore[arg-type]
    with pytest.raises(UnknownAlgorithmError):
        ContentDigest("1.2.3.4", bytes(32))
