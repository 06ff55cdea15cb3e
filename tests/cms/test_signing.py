"""CAdES-BES signing: structure of what we write, 256- and 512-bit keys, streaming, PEM output."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime

import pytest
from asn1crypto import cms

from signagent.asn1 import oids
from signagent.cms.armor import PemWriter
from signagent.cms.errors import CmsSigningError
from signagent.cms.parsing import load_signed_data
from signagent.cms.signer import Signer, SoftwareSigner
from signagent.cms.signing import sign
from signagent.cms.verification import verify
from signagent.gost import PrivateKey, curve, streebog256, streebog512

from .conftest import certificate, chain_validator, signer

WHEN = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def _signer_info(der: bytes) -> cms.SignerInfo:
    return cms.ContentInfo.load(der)["content"]["signer_infos"][0]


def _attributes(si: cms.SignerInfo) -> dict[str, object]:
    return {a["type"].native: a["values"][0] for a in si["signed_attrs"]}


@pytest.mark.parametrize(("name", "digest", "key_oid", "hash_fn"), [
    ("head", oids.STREEBOG256, oids.GOST2012_256, streebog256),
    ("head512", oids.STREEBOG512, oids.GOST2012_512, streebog512),
])
def test_cades_bes_structure(pki, name, digest, key_oid, hash_fn) -> None:
    content = b"Registration request"
    der = sign(content, signer(pki, name), signing_time=WHEN)
    info = cms.ContentInfo.load(der)
    sd = info["content"]
    assert info["content_type"].native == "signed_data"
    assert sd["version"].native == "v1"
    assert [a["algorithm"].dotted for a in sd["digest_algorithms"]] == [digest]
    assert sd["encap_content_info"]["content"].native == content
    assert [c.chosen.dump() for c in sd["certificates"]] == [pki[name].der]
    si = sd["signer_infos"][0]
    assert si["version"].native == "v1"
    assert si["sid"].name == "issuer_and_serial_number"
    assert si["sid"].chosen["serial_number"].native == pki[name].serial
    assert si["digest_algorithm"]["algorithm"].dotted == digest
    assert si["signature_algorithm"]["algorithm"].dotted == key_oid  # the key OID, as OpenSSL and TC 26 write
    attrs = _attributes(si)
    assert set(attrs) == {"content_type", "message_digest", "signing_time", "signing_certificate_v2"}
    assert attrs["content_type"].native == "data"
    assert attrs["message_digest"].native == hash_fn(content).digest()
    assert attrs["signing_time"].native == WHEN
    ess = attrs["signing_certificate_v2"]["certs"][0]
    assert ess["hash_algorithm"]["algorithm"].dotted == digest
    assert ess["cert_hash"].native == hash_fn(pki[name].der).digest()
    assert ess["issuer_serial"]["serial_number"].native == pki[name].serial
    # the signature is over the DER SET OF the attributes (sorted), with the signer's public key
    signed = b"\x31" + si["signed_attrs"].dump()[1:]
    encodings = [a.dump() for a in si["signed_attrs"]]
    assert encodings == sorted(encodings)
    key = certificate(pki, name).public_key()
    assert key.verify_digest(hash_fn(signed).digest(), si["signature"].native)
    # and the whole is DER: asn1crypto re-encodes it identically
    assert cms.ContentInfo.load(der).dump(force=True) == der


def test_detached_has_no_content_and_verifies(pki) -> None:
    der = sign(b"abc", signer(pki, "employee"), detached=True)
    parsed = load_signed_data(der)
    assert parsed.detached
    report = verify(der, content=b"abc", validate_chain=chain_validator(pki))
    assert report.status == "valid", report.to_dict()
    assert report.signers[0].cades_bes


def test_chain_certificates_are_included(pki) -> None:
    der = sign(b"x", signer(pki, "head"), certificates=[certificate(pki, "inter")])
    assert sorted(c.der for c in load_signed_data(der).certificates) == sorted([pki["head"].der, pki["inter"].der])


def test_stream_equals_bytes_and_reads_in_chunks(pki, tmp_path) -> None:
    data = os.urandom(3 * (1 << 20) + 12345)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    s = signer(pki, "head")
    with open(path, "rb") as f:
        streamed = sign(f, s, signing_time=WHEN)
    parsed = load_signed_data(streamed)
    assert parsed.content == data
    assert verify(streamed, validate_chain=chain_validator(pki)).status == "valid"
    out = io.BytesIO()
    with open(path, "rb") as f:
        assert sign(f, s, detached=True, out=out) is None
    assert verify(out.getvalue(), content=path, validate_chain=chain_validator(pki)).status == "valid"


def test_attached_from_a_pipe(pki) -> None:
    r, w = os.pipe()
    os.write(w, b"piped content")
    os.close(w)
    with os.fdopen(r, "rb") as stream:
        der = sign(stream, signer(pki, "head"))
    assert load_signed_data(der).content == b"piped content"


def test_pem_writer_round_trip(pki) -> None:
    der = sign(os.urandom(1000), signer(pki, "head"))
    out = io.BytesIO()
    pem = PemWriter(out)
    for i in range(0, len(der), 7):  # odd pieces: the writer must re-cut them into 64-character lines
        pem.write(der[i:i + 7])
    pem.close()
    text = out.getvalue().decode()
    lines = text.splitlines()
    assert lines[0] == "-----BEGIN CMS-----" and lines[-1] == "-----END CMS-----"
    assert all(len(line) == 64 for line in lines[1:-2]) and 0 < len(lines[-2]) <= 64
    assert load_signed_data(out.getvalue()).signed_data.dump() == load_signed_data(der).signed_data.dump()


def test_key_must_match_certificate(pki) -> None:
    with pytest.raises(CmsSigningError):
        SoftwareSigner(certificate(pki, "head"), pki["employee"].key)
    with pytest.raises(CmsSigningError):
        SoftwareSigner(certificate(pki, "head"), PrivateKey.generate(curve("1.2.643.2.2.36.0")))


def test_software_signer_is_a_signer(pki) -> None:
    assert isinstance(signer(pki, "head"), Signer)


def test_signer_returning_a_wrong_length_is_refused(pki) -> None:
    class Broken:
        certificate = certificate(pki, "head")

        def sign_digest(self, digest: bytes) -> bytes:
            return b"\x01" * 10

        def sign_message(self, message: bytes) -> bytes:
            return b"\x01" * 10

    with pytest.raises(CmsSigningError):
        sign(b"x", Broken())
