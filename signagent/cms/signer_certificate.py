"""The signer's certificate as verification uses it: found by the SignerIdentifier, with what depends only on it
computed once.

A portal verifies many signatures by few certificates. Everything here is a function of the certificate's bytes
(:class:`~signagent.x509.Certificate` hashes and compares by its DER), so it is remembered in a bounded LRU keyed
by the certificate, each computed only when a check first needs it (so a certificate that cannot give one fails
where it always did): its issuer encoding (to match issuerAndSerialNumber), its key identifier, its validated
public key (validation multiplies by q) and the signingCertificateV2 value a CAdES-BES signer writes for it (hash
of the DER included). Nothing is skipped: a cached value is the value the check would compute again.

Exports: find_signer, issuer_encoding, key_identifier_of, public_key_of, own_signing_certificate_v2.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from signagent.asn1 import oids
from signagent.asn1.failures import PARSE_ERRORS
from signagent.errors import SignAgentError
from signagent.gost import PublicKey
from signagent.x509 import Certificate
from signagent.x509.builder import key_identifier

from .attributes import signing_certificate_v2
from .digests import digest_by_oid
from .received import ReceivedSigner

__all__ = ["find_signer", "issuer_encoding", "key_identifier_of", "own_signing_certificate_v2", "public_key_of"]

_KEY_DIGESTS = {oids.GOST2012_256: oids.STREEBOG256, oids.GOST2012_512: oids.STREEBOG512}


@functools.lru_cache(maxsize=256)
def issuer_encoding(cert: Certificate) -> bytes | None:
    """The certificate's issuer Name as encoded in it (None if asn1crypto cannot dump it)."""
    try:
        return cert.asn1["tbs_certificate"]["issuer"].dump()
    except PARSE_ERRORS:
        return None


@functools.lru_cache(maxsize=256)
def key_identifier_of(cert: Certificate) -> bytes | None:
    """subjectKeyIdentifier, or else the key identifier computed from the key (None when neither is readable)."""
    try:
        return cert.subject_key_identifier or key_identifier(cert.public_key_info)
    except (SignAgentError, *PARSE_ERRORS):
        return None


@functools.lru_cache(maxsize=256)
def public_key_of(cert: Certificate) -> PublicKey:
    """The certificate's validated public key (validation multiplies by q). Raises as
    :meth:`Certificate.public_key` does; only successes are remembered."""
    return cert.public_key()


@functools.lru_cache(maxsize=256)
def own_signing_certificate_v2(cert: Certificate) -> bytes | None:
    """SigningCertificateV2 (RFC 5035 section 3) as this project's signer encodes it for ``cert`` -- the Streebog
    of the key's size over the DER, issuer and serial -- or None when the key is not GOST R 34.10-2012."""
    try:
        digest = _KEY_DIGESTS.get(cert.public_key_algorithm.oid)
        return None if digest is None else signing_certificate_v2(cert, digest_by_oid(digest))
    except (SignAgentError, *PARSE_ERRORS):
        return None


def find_signer(signer: ReceivedSigner, pool: Iterable[Certificate]) -> Certificate | None:
    """The certificate the signer's SignerIdentifier names (RFC 5652 section 5.3), or None: the first of ``pool``
    with the same serial and an issuer of the same encoding or, failing that, equal as a Name (RFC 5280 section
    7.1, asn1crypto's comparison); or, for subjectKeyIdentifier, the same key identifier."""
    if signer.issuer is not None:
        for cert in pool:
            if cert.serial_number != signer.serial:
                continue
            issuer = issuer_encoding(cert)
            if issuer is None:  # as before: a certificate whose issuer cannot be dumped names no signer
                continue
            if issuer == signer.issuer:
                return cert
            try:
                same = cert.asn1["tbs_certificate"]["issuer"] == signer.sid.chosen["issuer"]
            except PARSE_ERRORS:
                same = False
            if same:
                return cert
        return None
    for cert in pool:
        if key_identifier_of(cert) == signer.key_identifier:
            return cert
    return None
