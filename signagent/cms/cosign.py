"""Co-signing: a parallel SignerInfo added to an existing SignedData (RFC 5652 section 5.1: "any number of
signers in parallel").

The existing SignerInfos, the encapsulated content, the CRLs and the existing certificates are copied byte for
byte (so every earlier signature stays exactly as its signer made it, BER included); only the sets that must
grow are rebuilt: digestAlgorithms (the new signer's digest added if missing, DER-sorted), certificates (the new
signer's certificate and chain added, DER-sorted) and signerInfos (the new SignerInfo appended after the others,
whose order is kept). The SignedData version is kept (our SignerInfo is version 1, which never raises it).

The content is needed to compute the new messageDigest: the embedded eContent, or ``content`` for a detached
signature (bytes, a binary stream or a path; streamed).

Exports: cosign.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, datetime

from asn1crypto import core

from signagent.errors import FileAccessError, InvalidTypeError
from signagent.x509 import Certificate

from . import der
from .attributes import digest_algorithm_identifier
from .content import ContentDigest, hash_content
from .digests import SIGNED_DATA, digest_by_oid, digest_for_key_size
from .errors import CmsContentMissingError, CmsSigningError
from .parsing import ParsedSignedData, load_signed_data
from .signer import Signer
from .signing import signer_info

__all__ = ["cosign"]


def cosign(signature: bytes | ParsedSignedData, signer: Signer, *, content: object = None,
           certificates: Iterable[Certificate] = (), signing_time: datetime | None = None,
           origin: str | None = None) -> bytes:
    """Add ``signer``'s CAdES-BES SignerInfo to the SignedData ``signature``; return the new DER ContentInfo.

    ``content`` is required for a detached signature (and, when given for an attached one, must be what is
    inside: the new signature is over the embedded content); for a detached one it may be only the content's
    digest (:class:`~.content.ContentDigest`, CryptoPro's CoSignHash), computed with the digest algorithm that goes
    with the signer's key (Streebog-256 for a 256-bit key, -512 for a 512-bit one; CmsSigningError otherwise).
    ``origin``: signagent's origin attribute in the new SignerInfo (:func:`.signing.sign`). Raises
    CmsFormatError for a malformed signature, CmsContentMissingError for a detached one without content,
    CmsSigningError when the signer cannot sign.
    """
    if not isinstance(signer, Signer):
        raise InvalidTypeError("signer must implement signagent.cms.Signer (certificate, sign_message...)")
    parsed = signature if isinstance(signature, ParsedSignedData) else load_signed_data(signature)
    source = parsed.content if parsed.content is not None else content
    if source is None:
        raise CmsContentMissingError(needs="content")
    if isinstance(source, str | os.PathLike) and not os.path.isfile(source):
        raise FileAccessError(situation="unreadable", path=os.fspath(source))
    spec = digest_for_key_size(signer.certificate.public_key().curve.size)
    if isinstance(source, ContentDigest) and source.oid != spec.oid:
        raise CmsSigningError(situation="digest_algorithm", expected=spec.name,
                              given=digest_by_oid(source.oid).name)
    digest = hash_content(source, {spec.oid})[spec.oid]
    when = datetime.now(UTC) if signing_time is None else signing_time
    new_info = signer_info(signer, digest, signing_time=when, origin=origin)

    sd = parsed.signed_data
    version = sd["version"].dump()
    algorithms = [a.dump() for a in sd["digest_algorithms"]]
    if spec.oid not in {a["algorithm"].dotted for a in sd["digest_algorithms"]}:
        algorithms.append(digest_algorithm_identifier(spec).dump())
    certs = [] if isinstance(sd["certificates"], core.Void) else [c.dump() for c in sd["certificates"]]
    for cert in (signer.certificate, *certificates):
        if not isinstance(cert, Certificate):
            raise InvalidTypeError("certificates must be signagent.x509.Certificate objects")
        if cert.der not in certs:
            certs.append(cert.der)
    crls = b"" if isinstance(sd["crls"], core.Void) else sd["crls"].dump()
    infos = [si.dump() for si in parsed.signer_infos] + [new_info]

    body = b"".join((
        version,
        der.set_of(algorithms),
        sd["encap_content_info"].dump(),
        der.implicit_set(der.TAG_CONTEXT_0_CONSTRUCTED, certs),
        crls,
        der.tlv(der.TAG_SET, b"".join(infos)),  # appended, not re-sorted: earlier signers keep their places
    ))
    signed_data = der.tlv(der.TAG_SEQUENCE, body)
    return der.tlv(der.TAG_SEQUENCE, core.ObjectIdentifier(SIGNED_DATA).dump()
                   + der.tlv(der.TAG_CONTEXT_0_CONSTRUCTED, signed_data))
