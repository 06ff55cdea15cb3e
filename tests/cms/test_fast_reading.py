"""The fast reading of SignedData (signagent.cms.received) agrees with the asn1crypto reading on every input.

The fast reading takes only the common DER shape and hands everything else to asn1crypto; these tests check that
the shape signers write does take the fast path, and that on hundreds of tampered signatures (bytes flipped,
replaced, deleted) both readings give the same report -- or the same error -- field for field.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

import signagent.cms.parsing as parsing
from signagent.asn1.strict_der import check_der
from signagent.cms import der
from signagent.cms.received import check_attributes_der, read_signed_data
from signagent.cms.signing import sign
from signagent.cms.verification import verify
from signagent.errors import NotDerError, SignAgentError
from signagent.x509 import load_certificate

from .conftest import certificate, signer

CONTENT = b"head-registration request " * 8
WHEN = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
_REAL_READ = parsing.read_signed_data


def _outcome(data: bytes, content: bytes | None, extra: list, *, fast: bool) -> tuple:
    parsing.read_signed_data = _REAL_READ if fast else (lambda raw: None)
    try:
        return ("report", verify(data, content=content, extra_certificates=extra).to_dict())
    except SignAgentError as exc:
        return ("error", exc.code, exc.message)
    finally:
        parsing.read_signed_data = _REAL_READ


def _mutations(seed: bytes, rng: random.Random, count: int) -> list[bytes]:
    out = []
    for _ in range(count):
        data = bytearray(seed)
        i = rng.randrange(len(data))
        kind = rng.randrange(3)
        if kind == 0:
            data[i] ^= 1 << rng.randrange(8)
        elif kind == 1:
            data[i] = rng.randrange(256)
        else:
            del data[i:i + rng.randrange(1, 4)]
        out.append(bytes(data))
    return out


@pytest.mark.parametrize("name", ["head", "head512"])
def test_our_signatures_take_the_fast_path(pki, name: str) -> None:
    inter = load_certificate(pki.intermediate.der)
    for detached in (False, True):
        data = sign(CONTENT, signer(pki, name), detached=detached, signing_time=WHEN, certificates=[inter])
        read = read_signed_data(data)
        assert read is not None and len(read.signers) == 1 and len(read.certificates) == 2
        assert read.content == (None if detached else CONTENT)
        assert read.signers[0].signature_oid == certificate(pki, name).public_key_algorithm.oid
        assert _outcome(data, CONTENT, [], fast=True) == _outcome(data, CONTENT, [], fast=False)


def test_tampered_signatures_read_alike(pki) -> None:
    rng = random.Random(11)
    extra = [certificate(pki, "head")]
    seeds = [(sign(CONTENT, signer(pki, "head"), signing_time=WHEN), None),
             (sign(CONTENT, signer(pki, "head512"), detached=True, signing_time=WHEN), CONTENT)]
    fast_taken = 0
    for seed, content in seeds:
        for data in [seed, *_mutations(seed, rng, 300)]:
            fast_taken += read_signed_data(data) is not None
            assert _outcome(data, content, extra, fast=True) == _outcome(data, content, extra, fast=False)
    assert fast_taken > 100  # both readings were exercised


def test_a_signature_outside_the_shape_is_left_to_asn1crypto(pki) -> None:
    data = sign(CONTENT, signer(pki, "head"), signing_time=WHEN)
    # the same signature with an indefinite-length (BER) outer ContentInfo: valid CMS, not the fast shape
    head_len = 2 + (data[1] & 0x7F if data[1] & 0x80 else 0)
    ber = b"\x30\x80" + data[head_len:] + b"\x00\x00"
    assert read_signed_data(ber) is None
    assert _outcome(ber, None, [], fast=True) == _outcome(data, None, [], fast=True)


def test_attribute_der_check_raises_as_check_der() -> None:
    good = der.tlv(der.TAG_SEQUENCE, b"\x06\x03\x2a\x03\x04" + der.tlv(der.TAG_SET, b"\x04\x01\x00"))
    bad = der.tlv(der.TAG_SEQUENCE, b"\x06\x03\x2a\x03\x04" + der.tlv(der.TAG_SET, b"\x04\x81\x01\x00"))
    check_attributes_der(der.set_of([good, good]))
    signed = der.tlv(der.TAG_SET, good + bad)
    with pytest.raises(NotDerError) as ours:
        check_attributes_der(signed)
    with pytest.raises(NotDerError) as reference:
        check_der(signed, what="the signed attributes")
    assert ours.value.message == reference.value.message


def test_openssl_signature_reads_alike(pki, tmp_path: Path) -> None:
    from .conftest import openssl_ready
    from .test_openssl_interop import _openssl_sign
    if not openssl_ready():
        pytest.skip("openssl with the GOST engine is not available")
    data = _openssl_sign(pki, tmp_path, "head", "-nodetach")
    assert _outcome(data, None, [], fast=True) == _outcome(data, None, [], fast=False)
