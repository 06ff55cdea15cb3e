"""Digest and signature algorithms of GOST CMS signatures (RFC 9215 section 4; RFC 4490 for the 2001 legacy).

A GOST R 34.10-2012 key fixes the hash: 256-bit keys sign Streebog-256 digests, 512-bit keys Streebog-512.
In SignerInfo we write

* ``digestAlgorithm`` = id-tc26-gost3411-12-256 / -512 (1.2.643.7.1.1.2.2 / .3) with NULL parameters,
* ``signatureAlgorithm`` = the *key* OID id-tc26-gost3410-12-256 / -512 (1.2.643.7.1.1.1.1 / .2) with NULL
  parameters.

That is what OpenSSL's GOST engine and the TC 26 CMS examples write (``tests/vectors/README.md``), so it is
what CryptoPro and every Russian verifier accept; RFC 5652 section 10.1.2 allows the signature algorithm to be
named by the key algorithm. A verifier accepts the signwithdigest OIDs (1.2.643.7.1.1.3.2 / .3) as well.

Exports: DigestSpec, digest_for_key_size, digest_by_oid, new_hash, CONTENT_TYPE_DATA, SIGNED_DATA.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from signagent.asn1 import oids
from signagent.errors import UnknownAlgorithmError
from signagent.gost import gost341194, streebog256, streebog512

__all__ = ["CONTENT_TYPE_DATA", "SIGNED_DATA", "DigestSpec", "digest_by_oid", "digest_for_key_size", "new_hash"]

CONTENT_TYPE_DATA = oids.DATA  # id-data, RFC 5652 section 4
SIGNED_DATA = oids.SIGNED_DATA  # id-signedData, RFC 5652 section 5.1


@dataclass(frozen=True)
class DigestSpec:
    """A digest algorithm: OID, name, output size, constructor; and for GOST the key OID that goes with it."""

    oid: str
    name: str
    size: int
    factory: Callable[[], Any]
    key_oid: str | None = None


_STREEBOG256 = DigestSpec(oids.STREEBOG256, "streebog256", 32, streebog256, oids.GOST2012_256)
_STREEBOG512 = DigestSpec(oids.STREEBOG512, "streebog512", 64, streebog512, oids.GOST2012_512)
_DIGESTS = {
    d.oid: d for d in (
        _STREEBOG256,
        _STREEBOG512,
        DigestSpec(oids.GOST341194, "gost341194", 32, gost341194, oids.GOST2001),
        # Foreign hashes appear in ESSCertIDv2 (SHA-256 is its DEFAULT) and signing-certificate (SHA-1).
        DigestSpec(oids.SHA1, "sha1", 20, hashlib.sha1),
        DigestSpec(oids.SHA256, "sha256", 32, hashlib.sha256),
        DigestSpec(oids.SHA384, "sha384", 48, hashlib.sha384),
        DigestSpec(oids.SHA512, "sha512", 64, hashlib.sha512),
    )
}


def digest_for_key_size(size: int) -> DigestSpec:
    """The Streebog variant a GOST R 34.10-2012 key of ``size`` bytes (32 or 64) signs with."""
    if size == 32:
        return _STREEBOG256
    if size == 64:
        return _STREEBOG512
    raise UnknownAlgorithmError(situation="key_size", size=size)


def digest_by_oid(oid: str) -> DigestSpec:
    """The digest algorithm of a dotted OID; UnknownAlgorithmError when signagent cannot compute it."""
    spec = _DIGESTS.get(oid)
    if spec is None:
        raise UnknownAlgorithmError(situation="digest", algorithm=oid)
    return spec


def new_hash(oid: str) -> Any:
    """A fresh hashlib-style object for the digest OID."""
    return digest_by_oid(oid).factory()
