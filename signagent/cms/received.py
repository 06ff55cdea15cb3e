"""A CMS SignedData read straight from the bytes received, for the shape signers write (the fast path).

asn1crypto builds an object per element and re-walks them on every access; on a 1 KiB signature that costs
several times the GOST verification itself. Nearly every signature a verifier meets has one shape: DER, a
ContentInfo holding SignedData (RFC 5652 section 5.1) with id-data content, X.509 certificates, no CRLs, and
SignerInfos (section 5.3) with a GOST digest and signature algorithm. :func:`read_signed_data` walks exactly that
shape with a strict DER reader (single-octet tags, definite minimal lengths -- X.690 clause 10.1 -- nothing left
over inside any element) and returns None for anything else, so the caller falls back to the asn1crypto reading,
which gives every unusual or malformed input its usual verdict or error. Everything accepted here is a strict
subset of what that reading accepts, and the fields are the same bytes, so the verdicts cannot differ.

The certificates inside go through :meth:`Certificate.from_der_cached` (strict DER and the full structure check,
remembered by the certificate's bytes), as in the asn1crypto reading; a certificate that fails sends the whole
signature to that reading, which reports it.

Exports: ReadSignedData, ReceivedSigner, read_signed_data, read_attributes, Attribute, check_attributes_der.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from asn1crypto import cms

from signagent.asn1 import oids
from signagent.asn1.failures import PARSE_ERRORS
from signagent.asn1.strict_der import MAX_DEPTH, check_der
from signagent.errors import SignAgentError
from signagent.x509 import Certificate

from . import der
from .digests import CONTENT_TYPE_DATA, SIGNED_DATA

__all__ = ["Attribute", "ReadSignedData", "ReceivedSigner", "check_attributes_der", "read_attributes",
           "read_signed_data"]

_SEQUENCE, _SET, _INTEGER, _OCTET_STRING, _OID, _NULL = 0x30, 0x31, 0x02, 0x04, 0x06, 0x05
_CONTEXT_0_CONSTRUCTED, _CONTEXT_0_PRIMITIVE = 0xA0, 0x80

# The algorithms whose identifiers asn1crypto reads with absent or NULL parameters (signagent.asn1 registers the
# GOST ones): anything else goes the asn1crypto way.
_DIGEST_OIDS = frozenset({oids.STREEBOG256, oids.STREEBOG512})
_SIGNATURE_OIDS = frozenset({oids.GOST2012_256, oids.GOST2012_512, oids.SIGNWITHDIGEST_2012_256,
                             oids.SIGNWITHDIGEST_2012_512})


class _Unusual(Exception):
    """Not the common shape (or not DER): leave the input to the asn1crypto reading."""


def _tlv(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag octet, start of contents, end) of the element at ``pos``, which must end by ``end``.

    Low tag numbers only, definite lengths in the fewest octets (X.690 clause 10.1), at most 4 length octets.
    """
    if end - pos < 2:
        raise _Unusual
    tag = data[pos]
    if tag & 0x1F == 0x1F or tag == 0:  # high tag number form, end-of-contents
        raise _Unusual
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or end - pos < count or data[pos] == 0:
            raise _Unusual
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
        if length < 0x80:
            raise _Unusual
    if length > end - pos:
        raise _Unusual
    return tag, pos, pos + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(tag, element start, contents start, end) of every element between ``start`` and ``end``, exactly."""
    out = []
    pos = start
    while pos < end:
        tag, cs, ce = _tlv(data, pos, end)
        out.append((tag, pos, cs, ce))
        pos = ce
    return out


def _oid(data: bytes, element: tuple[int, int, int, int]) -> str:
    tag, _, cs, ce = element
    if tag != _OID:
        raise _Unusual
    dotted = der.dotted_oid(bytes(data[cs:ce]))
    if dotted is None:
        raise _Unusual
    return dotted


def _algorithm(data: bytes, element: tuple[int, int, int, int], allowed: frozenset[str]) -> str:
    """The OID of an AlgorithmIdentifier whose parameters are absent or NULL, among ``allowed``."""
    tag, _, cs, ce = element
    if tag != _SEQUENCE:
        raise _Unusual
    parts = _children(data, cs, ce)
    if not 1 <= len(parts) <= 2 or (len(parts) == 2 and (parts[1][0] != _NULL or parts[1][2] != parts[1][3])):
        raise _Unusual
    oid = _oid(data, parts[0])
    if oid not in allowed:
        raise _Unusual
    return oid


def _small_integer(data: bytes, element: tuple[int, int, int, int]) -> int:
    tag, _, cs, ce = element
    if tag != _INTEGER or ce - cs != 1 or data[cs] > 0x7F:
        raise _Unusual
    return data[cs]


@dataclass
class ReceivedSigner:
    """What verification reads of one SignerInfo (RFC 5652 section 5.3), as the bytes received.

    ``issuer``/``serial`` (issuerAndSerialNumber) or ``key_identifier`` (subjectKeyIdentifier) identify the
    signer; ``signed_attrs`` are the contents of ``[0] IMPLICIT SignedAttributes`` (None when absent).
    ``asn1`` is the asn1crypto SignerInfo when it was read that way; otherwise :attr:`sid` parses the identifier
    on demand (only for messages about a signer that was not found).
    """

    digest_oid: str
    signature_oid: str
    signature: bytes
    signed_attrs: bytes | None
    sid_encoding: bytes
    issuer: bytes | None = None
    serial: int | None = None
    key_identifier: bytes | None = None
    asn1: cms.SignerInfo | None = field(default=None, repr=False)
    #: the signed attributes as :func:`read_attributes` gives them, when read from the bytes
    attributes: list[Attribute] | None = field(default=None, repr=False)

    @functools.cached_property
    def sid(self) -> cms.SignerIdentifier:
        """The SignerIdentifier as asn1crypto reads it."""
        if self.asn1 is not None:
            return self.asn1["sid"]
        return cms.SignerIdentifier.load(self.sid_encoding)


def _signer(data: bytes, element: tuple[int, int, int, int]) -> ReceivedSigner:
    tag, _, cs, ce = element
    if tag != _SEQUENCE:
        raise _Unusual
    parts = _children(data, cs, ce)
    # version, sid, digestAlgorithm, [signedAttrs], signatureAlgorithm, signature; no unsignedAttrs here
    if len(parts) == 6:
        attrs_tag, _, attrs_start, attrs_end = parts[3]
        if attrs_tag != _CONTEXT_0_CONSTRUCTED:
            raise _Unusual
        attrs_contents = bytes(data[attrs_start:attrs_end])
        attributes = read_attributes(attrs_contents)
        if attributes is None:
            raise _Unusual
        signed_attrs: bytes | None = attrs_contents
    elif len(parts) == 5:
        signed_attrs = attributes = None
    else:
        raise _Unusual
    version = _small_integer(data, parts[0])
    sid_tag, sid_start, sid_cs, sid_end = parts[1]
    issuer = serial = key_identifier = None
    if sid_tag == _SEQUENCE and version == 1:
        # IssuerAndSerialNumber ::= SEQUENCE { issuer Name, serialNumber INTEGER } (RFC 5652 section 10.2.4)
        sid_parts = _children(data, sid_cs, sid_end)
        if len(sid_parts) != 2:
            raise _Unusual
        name, number = sid_parts
        if name[0] != _SEQUENCE or number[0] != _INTEGER or number[3] == number[2]:
            raise _Unusual
        body = bytes(data[number[2]:number[3]])
        if len(body) > 1 and ((body[0] == 0 and body[1] < 0x80) or (body[0] == 0xFF and body[1] >= 0x80)):
            raise _Unusual  # a non-minimal INTEGER (X.690 8.3.2)
        issuer = bytes(data[name[1]:name[3]])
        serial = int.from_bytes(body, "big", signed=True)
    elif sid_tag == _CONTEXT_0_PRIMITIVE and version == 3:
        key_identifier = bytes(data[sid_cs:sid_end])
    else:
        raise _Unusual
    digest_oid = _algorithm(data, parts[2], _DIGEST_OIDS)
    signature_oid = _algorithm(data, parts[-2], _SIGNATURE_OIDS)
    sig_tag, _, sig_start, sig_end = parts[-1]
    if sig_tag != _OCTET_STRING:
        raise _Unusual
    return ReceivedSigner(digest_oid, signature_oid, bytes(data[sig_start:sig_end]), signed_attrs,
                          bytes(data[sid_start:sid_end]), issuer, serial, key_identifier, attributes=attributes)


#: (value tag, value encoding, value contents)
AttributeValue = tuple[int, bytes, bytes]
#: (attribute type OID, its values)
Attribute = tuple[str, list[AttributeValue]]


def read_attributes(contents: bytes) -> list[Attribute] | None:
    """The attributes of a SET OF Attribute's contents (RFC 5652 section 5.3): (type OID, [(value tag, value
    encoding, value contents)...]) each; None unless every one is SEQUENCE { OID, SET { ... } } in strict DER
    headers."""
    try:
        out = []
        for tag, _, cs, ce in _children(contents, 0, len(contents)):
            if tag != _SEQUENCE:
                return None
            parts = _children(contents, cs, ce)
            if len(parts) != 2 or parts[1][0] != _SET:
                return None
            values = [(t, bytes(contents[s:e]), bytes(contents[vs:e]))
                      for t, s, vs, e in _children(contents, parts[1][2], parts[1][3])]
            out.append((_oid(contents, parts[0]), values))
        return out
    except _Unusual:
        return None


@functools.lru_cache(maxsize=1024)
def _attribute_is_der(encoding: bytes) -> bool:
    try:
        check_der(encoding, max_depth=MAX_DEPTH - 1)
    except SignAgentError:
        return False
    return True


def check_attributes_der(signed: bytes) -> None:
    """:func:`~signagent.asn1.strict_der.check_der` of the signed attributes' SET OF (built by :func:`der.tlv`),
    with the verdict on each attribute remembered by its bytes.

    DER is a property of each element on its own (X.690 clause 10: header and contents rules; the order of a SET
    OF is not what this walk checks), so the SET is DER when its header is (the caller encoded it) and every
    attribute is, one level deeper. contentType and signingCertificateV2 repeat in every signature of a signer.
    Any doubt -- an attribute that fails, a header this reader does not take -- runs the whole check, which
    raises exactly as it would have.
    """
    try:
        _, cs, ce = _tlv(signed, 0, len(signed))
        if ce == len(signed) and all(_attribute_is_der(bytes(signed[s:e])) for _, s, _, e in
                                     _children(signed, cs, ce)):
            return
    except _Unusual:
        pass
    check_der(signed, what="the signed attributes")


@dataclass
class ReadSignedData:
    """The parts of a SignedData the verifier uses, read from the bytes received."""

    content_type: str
    content: bytes | None
    certificates: list[Certificate]
    signers: list[ReceivedSigner]


def read_signed_data(raw: bytes) -> ReadSignedData | None:
    """The SignedData of ``raw`` (a DER ContentInfo) when it has the common shape, else None (see the module)."""
    try:
        return _read(raw)
    except (_Unusual, SignAgentError, *PARSE_ERRORS):  # the asn1crypto reading reports it its own way
        return None


def _read(raw: bytes) -> ReadSignedData | None:
    tag, cs, ce = _tlv(raw, 0, len(raw))
    if tag != _SEQUENCE or ce != len(raw):
        raise _Unusual
    info = _children(raw, cs, ce)
    if len(info) != 2 or _oid(raw, info[0]) != SIGNED_DATA or info[1][0] != _CONTEXT_0_CONSTRUCTED:
        raise _Unusual
    inner = _children(raw, info[1][2], info[1][3])
    if len(inner) != 1 or inner[0][0] != _SEQUENCE:
        raise _Unusual
    fields = _children(raw, inner[0][2], inner[0][3])
    # version, digestAlgorithms, encapContentInfo, [certificates [0]], signerInfos -- no crls [1]
    if len(fields) == 5 and fields[3][0] == _CONTEXT_0_CONSTRUCTED:
        certificate_elements = _children(raw, fields[3][2], fields[3][3])
    elif len(fields) == 4:
        certificate_elements = []
    else:
        raise _Unusual
    _small_integer(raw, fields[0])
    if fields[1][0] != _SET or fields[-1][0] != _SET:
        raise _Unusual
    for algorithm in _children(raw, fields[1][2], fields[1][3]):
        _algorithm(raw, algorithm, _DIGEST_OIDS)
    encap = _children(raw, fields[2][2], fields[2][3]) if fields[2][0] == _SEQUENCE else []
    if not 1 <= len(encap) <= 2 or _oid(raw, encap[0]) != CONTENT_TYPE_DATA:
        raise _Unusual
    content = None
    if len(encap) == 2:  # eContent [0] EXPLICIT OCTET STRING, primitive (DER)
        wrapped = _children(raw, encap[1][2], encap[1][3]) if encap[1][0] == _CONTEXT_0_CONSTRUCTED else []
        if len(wrapped) != 1 or wrapped[0][0] != _OCTET_STRING:
            raise _Unusual
        content = bytes(raw[wrapped[0][2]:wrapped[0][3]])
    certificates = []
    for cert_tag, start, _, end in certificate_elements:
        if cert_tag != _SEQUENCE:  # another CertificateChoices alternative
            raise _Unusual
        certificates.append(Certificate.from_der_cached(raw[start:end]))
    signers = [_signer(raw, element) for element in _children(raw, fields[-1][2], fields[-1][3])]
    return ReadSignedData(CONTENT_TYPE_DATA, content, certificates, signers)

