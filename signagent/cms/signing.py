"""CAdES-BES signing (RFC 5652 section 5; ETSI EN 319 122-1 CAdES-BES; RFC 9215 section 4 for GOST).

:func:`sign` makes a CMS ContentInfo of type SignedData with one SignerInfo:

* version 1, SignerIdentifier issuerAndSerialNumber, eContentType id-data (RFC 5652 section 5.1/5.3);
* digestAlgorithm Streebog-256 for a 256-bit key, Streebog-512 for a 512-bit key; signatureAlgorithm the key
  OID (see :mod:`signagent.cms.digests` for why);
* signed attributes contentType, messageDigest, signingTime, signingCertificateV2 (:mod:`.attributes`); the
  signature is ``signer.sign_message(DER(SET OF attributes))`` (Streebog of the key's size, then GOST R 34.10);
* certificates: the signer's, then any others given (the chain), as a DER SET OF;
* attached (the content inside, eContent) or detached (eContent absent).

Everything is DER with definite lengths. The content is read once, in 1 MiB chunks, and never held in memory:
for an attached signature the total length is known in advance from the content's size (every other part has a
fixed size once the key and certificates are known), so the writer emits the header, streams the content
through the hash into the output, then writes the SignerInfo computed at the end. Only a stream whose size
cannot be told (a pipe) is copied first, to an anonymous temporary file and at most
:data:`MAX_UNSIZED_CONTENT` bytes, when signing attached.

:func:`sign_digest` makes the same detached signature from the content's digest alone, for content the signer
never sees whole (a large file hashed by the web page that holds it).

Exports: sign, sign_digest, signer_info, PreparedSigner, CHUNK, MAX_UNSIZED_CONTENT.
"""

from __future__ import annotations

import functools
import io
import os
import stat
import tempfile
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

from asn1crypto import algos, core

from signagent.errors import InputTooLargeError, InvalidTypeError, SignAgentError
from signagent.fileio import CHUNK, iter_chunks
from signagent.x509 import Certificate

from . import der
from .attributes import (
    build_signed_attributes,
    digest_algorithm_identifier,
    signed_attributes_set,
    signing_certificate_v2_attribute,
)
from .digests import CONTENT_TYPE_DATA, SIGNED_DATA, DigestSpec, digest_for_key_size
from .errors import CmsSigningError
from .signer import Signer

__all__ = ["CHUNK", "MAX_UNSIZED_CONTENT", "PreparedSigner", "sign", "sign_digest", "signer_info"]

_VERSION_1 = core.Integer(1).dump()
_OID_DATA = core.ObjectIdentifier(CONTENT_TYPE_DATA).dump()
_OID_SIGNED_DATA = core.ObjectIdentifier(SIGNED_DATA).dump()

#: Most bytes an attached signature takes from a stream of unknown size (a pipe, standard input): it is spooled
#: to a temporary file first. Regular files of any size stream directly; detached signatures have no cap.
MAX_UNSIZED_CONTENT = 1 << 30

#: Read size for streamed content: big enough that per-call costs vanish next to hashing, small for memory.

Content = bytes | bytearray | memoryview | BinaryIO


def _key_spec(certificate: Certificate) -> DigestSpec:
    try:
        key = certificate.public_key()
    except SignAgentError as exc:
        raise CmsSigningError(situation="unusable_key", error=exc.message) from None
    spec = digest_for_key_size(key.curve.size)
    if certificate.public_key_algorithm.oid != spec.key_oid:
        raise CmsSigningError(situation="gost2001")
    return spec


@functools.lru_cache(maxsize=64)
def _certificate_parts(certificate: Certificate) -> tuple[DigestSpec, bytes, bytes, bytes, bytes]:
    """(spec, sid, signingCertificateV2, digest and signature AlgorithmIdentifiers) of a signer certificate.

    Encoding them costs more than the signature itself on small messages, and a portal signs many with one
    certificate, so they are kept per certificate (Certificate hashes and compares by its DER; a few certificates
    are in use at a time).
    """
    spec = _key_spec(certificate)
    issuer = certificate.asn1["tbs_certificate"]["issuer"].dump()
    # SignerIdentifier issuerAndSerialNumber (RFC 5652 section 10.2.4), the issuer exactly as encoded.
    sid = der.tlv(der.TAG_SEQUENCE, issuer + core.Integer(certificate.serial_number).dump())
    return (spec, sid, signing_certificate_v2_attribute(certificate, spec), digest_algorithm_identifier(spec).dump(),
            algos.SignedDigestAlgorithm({"algorithm": spec.key_oid, "parameters": core.Null()}).dump())


#: Classes whose instances passed ``isinstance(x, Signer)`` and that define every member of the protocol
#: themselves. A runtime-checkable Protocol's isinstance walks the protocol's members on every call (longer than the
#: rest of the SignerInfo); for these classes the answer is the same every time.
_SIGNER_CLASSES: weakref.WeakSet[type] = weakref.WeakSet()
_SIGNER_MEMBERS = tuple(name for name in vars(Signer) if not name.startswith("_"))


def _is_signer(obj: object) -> bool:
    """``isinstance(obj, Signer)``, remembered per class when the class itself provides the members."""
    cls = type(obj)
    if cls in _SIGNER_CLASSES:
        return True
    if not isinstance(obj, Signer):
        return False
    if all(getattr(cls, name, None) is not None for name in _SIGNER_MEMBERS):
        _SIGNER_CLASSES.add(cls)
    return True


@dataclass(frozen=True)
class PreparedSigner:
    """What a signer contributes to every SignerInfo, computed once: digest, SignerIdentifier, the
    signingCertificateV2 attribute and the algorithm identifiers (all DER)."""

    signer: Signer
    spec: DigestSpec
    sid: bytes
    signing_certificate: bytes
    digest_algorithm: bytes
    signature_algorithm: bytes

    @classmethod
    def of(cls, signer: Signer) -> PreparedSigner:
        """Check ``signer``'s certificate (a GOST R 34.10-2012 key) and encode its parts."""
        if not _is_signer(signer):
            raise InvalidTypeError("signer must implement signagent.cms.Signer (certificate, sign_message...)")
        return cls(signer, *_certificate_parts(signer.certificate))

    def signer_info(self, message_digest: bytes, *, signing_time: datetime | None,
                    signature: bytes | None = None, origin: str | None = None) -> bytes:
        """DER of a version-1 SignerInfo over ``message_digest`` (RFC 5652 section 5.3).

        ``signature`` given (length planning, tests) skips the signing and stores those bytes instead; ``origin``
        adds signagent's origin attribute (:func:`.attributes.origin_attribute`).
        """
        spec = self.spec
        if len(message_digest) != spec.size:
            raise CmsSigningError(f"the message digest must be {spec.size} bytes")
        attributes = build_signed_attributes(message_digest=message_digest,
                                             signing_certificate=self.signing_certificate,
                                             signing_time=signing_time, origin=origin)
        if signature is None:
            signed = signed_attributes_set(attributes)
            signature = bytes(self.signer.sign_message(signed))
        if len(signature) != 2 * spec.size:
            raise CmsSigningError(situation="signature_length", got=len(signature), expected=2 * spec.size)
        body = b"".join((
            _VERSION_1,
            self.sid,
            self.digest_algorithm,
            der.implicit_set(der.TAG_CONTEXT_0_CONSTRUCTED, attributes),  # signedAttrs [0] IMPLICIT
            self.signature_algorithm,
            der.tlv(der.TAG_OCTET_STRING, bytes(signature)),
        ))
        return der.tlv(der.TAG_SEQUENCE, body)


def signer_info(signer: Signer, message_digest: bytes, *, signing_time: datetime | None,
                signature: bytes | None = None, origin: str | None = None) -> bytes:
    """DER of a version-1 SignerInfo by ``signer`` over ``message_digest`` (see :class:`PreparedSigner`)."""
    return PreparedSigner.of(signer).signer_info(message_digest, signing_time=signing_time, signature=signature,
                                                 origin=origin)


def _stream_size(stream: BinaryIO) -> int | None:
    """Bytes left to read in ``stream`` when that can be told (a regular file, a BytesIO), else None."""
    try:
        st = os.fstat(stream.fileno())
        if not stat.S_ISREG(st.st_mode):
            return None
        return st.st_size - stream.tell()
    except (AttributeError, OSError, io.UnsupportedOperation):
        pass
    try:
        here = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(here)
        return end - here
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None


def _spool(stream: BinaryIO) -> BinaryIO:
    """A pipe's content copied to an anonymous temporary file (rewound), read in chunks and capped.

    DER needs the content's length before its first byte (X.690 section 10.1: definite lengths), and a pipe
    cannot tell it: the bytes go to disk, not memory, and at most :data:`MAX_UNSIZED_CONTENT` of them, so that
    ``sign -`` fed by an endless producer stops with InputTooLargeError instead of filling the disk. The chunked
    reads let Ctrl-C through. The file has no name (deleted at once), so nothing is left behind.
    """
    spool = tempfile.TemporaryFile(prefix="signagent-")
    try:
        total = 0
        for chunk in iter_chunks(stream):
            total += chunk.nbytes
            if total > MAX_UNSIZED_CONTENT:
                raise InputTooLargeError(situation="pipe", limit_mib=MAX_UNSIZED_CONTENT >> 20)
            spool.write(chunk)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool  # type: ignore[return-value]


def _certificate_set(signer: Signer, certificates: Iterable[Certificate]) -> bytes:
    ders: list[bytes] = [signer.certificate.der]
    for cert in certificates:
        if not isinstance(cert, Certificate):
            raise InvalidTypeError("certificates must be signagent.x509.Certificate objects")
        if cert.der not in ders:
            ders.append(cert.der)
    return der.implicit_set(der.TAG_CONTEXT_0_CONSTRUCTED, ders)  # certificates [0] IMPLICIT CertificateSet


def _write_signed_data(write: Callable[[bytes], object], *, digest_algorithm: bytes, certificates_set: bytes,
                       signer_infos: bytes, content_length: int | None,
                       stream_content: Callable[[], None] | None, tail: Callable[[], bytes]) -> None:
    """Write ContentInfo{signedData} with the content streamed by ``stream_content`` between header and tail.

    ``signer_infos`` is a placeholder of the exact length of the final SignerInfos SET that ``tail()`` returns.
    """
    version = _VERSION_1
    digest_algorithms = der.set_of([digest_algorithm])
    data_oid = _OID_DATA
    if content_length is None:  # detached: EncapsulatedContentInfo without eContent
        encap_head = der.header(der.TAG_SEQUENCE, len(data_oid)) + data_oid
        encap_total = len(encap_head)
    else:
        octets = der.header(der.TAG_OCTET_STRING, content_length)
        explicit = der.header(der.TAG_CONTEXT_0_CONSTRUCTED, len(octets) + content_length)  # eContent [0]
        inner = len(data_oid) + len(explicit) + len(octets) + content_length
        encap_head = der.header(der.TAG_SEQUENCE, inner) + data_oid + explicit + octets
        encap_total = len(encap_head) + content_length
    sd_len = len(version) + len(digest_algorithms) + encap_total + len(certificates_set) + len(signer_infos)
    sd_head = der.header(der.TAG_SEQUENCE, sd_len)
    oid = _OID_SIGNED_DATA
    explicit0 = der.header(der.TAG_CONTEXT_0_CONSTRUCTED, len(sd_head) + sd_len)
    ci_head = der.header(der.TAG_SEQUENCE, len(oid) + len(explicit0) + len(sd_head) + sd_len)
    write(ci_head + oid + explicit0 + sd_head + version + digest_algorithms + encap_head)
    if stream_content is not None:
        stream_content()
    final = tail()
    if len(final) != len(signer_infos):  # cannot happen with fixed-size parts; never emit a wrong length
        raise CmsSigningError("internal error: the SignerInfo changed length")
    write(certificates_set + final)


def sign(content: Content, signer: Signer, *, detached: bool = False, certificates: Iterable[Certificate] = (),
         signing_time: datetime | None = None, out: BinaryIO | None = None, origin: str | None = None
         ) -> bytes | None:
    """Sign ``content`` (bytes or a binary stream) as CAdES-BES; DER ContentInfo returned, or written to ``out``.

    ``detached``: leave the content out of the signature. ``certificates``: more certificates to include (the
    chain); the signer's own is always included. ``signing_time``: the claimed time (default: now, UTC).
    ``out``: a binary stream to write to (then None is returned); the content is streamed, never held whole.
    ``origin``: the web origin the signature was asked for, as signagent's origin attribute (None: none).

    Raises CmsSigningError when the certificate cannot sign (non-GOST or 2001 key), InvalidTypeError for wrong
    argument types, and whatever the stream or the signer raise.
    """
    prepared = PreparedSigner.of(signer)
    spec = prepared.spec
    when = datetime.now(UTC) if signing_time is None else signing_time
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    certificates_set = _certificate_set(signer, certificates)
    sink = io.BytesIO() if out is None else out
    write = sink.write
    h = spec.factory()
    spool: BinaryIO | None = None

    if isinstance(content, bytes | bytearray | memoryview):
        data = memoryview(content).cast("B")
        size: int | None = data.nbytes
        stream: BinaryIO | None = None
    elif hasattr(content, "read"):
        stream, data = content, None  # type: ignore[assignment]
        size = _stream_size(content)
        if size is None and not detached:  # a pipe: its length is needed before its bytes (DER, definite)
            stream = spool = _spool(content)
            size = _stream_size(spool)
    else:
        raise InvalidTypeError("content must be bytes or a readable binary stream")

    def feed(out_too: bool) -> None:
        seen = 0
        if data is not None:
            for i in range(0, data.nbytes, CHUNK):
                h.update(data[i:i + CHUNK])
                if out_too:
                    write(data[i:i + CHUNK])
            return
        assert stream is not None
        for chunk in iter_chunks(stream):
            h.update(chunk)
            if out_too:
                write(chunk)
            seen += len(chunk)
        if out_too and seen != size:
            raise CmsSigningError(situation="content_changed", seen=seen, size=size)

    def tail() -> bytes:
        return der.set_of([prepared.signer_info(h.digest(), signing_time=when, origin=origin)])

    if data is not None:
        # In memory: hash first, so that the SignerInfo is made once and gives its own length (no placeholder).
        feed(False)
        final = tail()
        _write_signed_data(write, digest_algorithm=prepared.digest_algorithm, certificates_set=certificates_set,
                           signer_infos=final, content_length=None if detached else size,
                           stream_content=None if detached else (lambda: write(data)), tail=lambda: final)
        return sink.getvalue() if out is None else None  # type: ignore[union-attr]

    placeholder = der.set_of([prepared.signer_info(bytes(spec.size), signing_time=when, origin=origin,
                                                   signature=bytes(2 * spec.size))])
    try:
        if detached:
            feed(False)
            _write_signed_data(write, digest_algorithm=prepared.digest_algorithm, certificates_set=certificates_set,
                               signer_infos=placeholder, content_length=None, stream_content=None, tail=tail)
        else:
            _write_signed_data(write, digest_algorithm=prepared.digest_algorithm, certificates_set=certificates_set,
                               signer_infos=placeholder, content_length=size, stream_content=lambda: feed(True),
                               tail=tail)
    finally:
        if spool is not None:
            spool.close()
    return sink.getvalue() if out is None else None  # type: ignore[union-attr]


def sign_digest(message_digest: bytes, signer: Signer, *, certificates: Iterable[Certificate] = (),
                signing_time: datetime | None = None, origin: str | None = None) -> bytes:
    """A detached CAdES-BES signature (DER ContentInfo) over content whose Streebog digest is ``message_digest``.

    The digest must be of the key's size (32 bytes for a 256-bit key, 64 for a 512-bit key; RFC 9215 section 4):
    it becomes the messageDigest signed attribute (RFC 5652 section 11.2), so the result is byte for byte what
    :func:`sign` makes with ``detached=True`` from the content itself. CmsSigningError for a digest of the wrong
    size or type.
    """
    prepared = PreparedSigner.of(signer)
    if not isinstance(message_digest, bytes | bytearray | memoryview):
        raise InvalidTypeError("the message digest must be bytes")
    message_digest = bytes(message_digest)
    when = datetime.now(UTC) if signing_time is None else signing_time
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    final = der.set_of([prepared.signer_info(message_digest, signing_time=when, origin=origin)])
    sink = io.BytesIO()
    _write_signed_data(sink.write, digest_algorithm=prepared.digest_algorithm,
                       certificates_set=_certificate_set(signer, certificates), signer_infos=final,
                       content_length=None, stream_content=None, tail=lambda: final)
    return sink.getvalue()
