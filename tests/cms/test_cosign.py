"""Co-signing: a parallel SignerInfo added without disturbing the existing ones."""

from __future__ import annotations

import pytest
from asn1crypto import cms

from signagent.asn1 import oids
from signagent.cms.cosign import cosign
from signagent.cms.errors import CmsContentMissingError
from signagent.cms.signing import sign
from signagent.cms.verification import verify

from .conftest import chain_validator, signer

CONTENT = b"document signed by two people"


def _parts(der: bytes) -> tuple[list[bytes], list[str], list[bytes]]:
    sd = cms.ContentInfo.load(der)["content"]
    return ([si.dump() for si in sd["signer_infos"]], [a["algorithm"].dotted for a in sd["digest_algorithms"]],
            [c.chosen.dump() for c in sd["certificates"]])


def test_existing_signer_infos_keep_their_bytes(pki) -> None:
    first = sign(CONTENT, signer(pki, "head"))
    second = cosign(first, signer(pki, "head512"))
    third = cosign(second, signer(pki, "employee"))
    infos1, _, _ = _parts(first)
    infos2, algs2, _ = _parts(second)
    infos3, algs3, certs3 = _parts(third)
    assert infos2[0] == infos1[0] and infos3[:2] == infos2
    assert len(infos3) == 3
    assert sorted(algs2) == sorted(algs3) == sorted([oids.STREEBOG256, oids.STREEBOG512])
    assert set(certs3) == {pki["head"].der, pki["head512"].der, pki["employee"].der}
    report = verify(third, validate_chain=chain_validator(pki))
    assert report.status == "valid", report.to_dict()
    assert [s.certificate.der for s in report.signers] == [pki["head"].der, pki["head512"].der, pki["employee"].der]


def test_one_bad_cosigner_makes_the_whole_invalid(pki) -> None:
    both = cosign(sign(CONTENT, signer(pki, "head")), signer(pki, "revoked"))
    report = verify(both, validate_chain=chain_validator(pki))
    assert [s.status for s in report.signers] == ["valid", "invalid"]
    assert report.status == "invalid"


def test_detached_cosign_needs_the_content(pki, tmp_path) -> None:
    first = sign(CONTENT, signer(pki, "head"), detached=True)
    with pytest.raises(CmsContentMissingError):
        cosign(first, signer(pki, "employee"))
    path = tmp_path / "c.bin"
    path.write_bytes(CONTENT)
    both = cosign(first, signer(pki, "employee"), content=path)
    report = verify(both, content=CONTENT, validate_chain=chain_validator(pki))
    assert report.detached and report.status == "valid" and len(report.signers) == 2
    # co-signing other content than the first signer's: the first signer's digest no longer matches it
    wrong = cosign(first, signer(pki, "employee"), content=CONTENT + b"?")
    codes = [s.codes for s in verify(wrong, content=CONTENT + b"?", validate_chain=chain_validator(pki)).signers]
    assert codes == [("message_digest_mismatch",), ()]


def test_cosign_keeps_the_content_and_certificates(pki) -> None:
    first = sign(CONTENT, signer(pki, "head"), certificates=[])
    both = cosign(first, signer(pki, "employee"))
    sd1 = cms.ContentInfo.load(first)["content"]
    sd2 = cms.ContentInfo.load(both)["content"]
    assert sd1["encap_content_info"].dump() == sd2["encap_content_info"].dump()
    assert sd2["version"].native == sd1["version"].native
