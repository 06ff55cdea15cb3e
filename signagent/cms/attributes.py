"""The signed attributes of a CAdES-BES signature: building them, and reading them back for verification.

CAdES-BES (ETSI EN 319 122-1 section 5.2; DESIGN.md section 4) signs, besides the content digest, these
attributes of RFC 5652 section 11 and RFC 5035:

* contentType (1.2.840.113549.1.9.3) -- the eContentType, id-data;
* messageDigest (1.2.840.113549.1.9.4) -- the digest of the content with the SignerInfo's digest algorithm;
* signingTime (1.2.840.113549.1.9.5) -- the signer's *claimed* time: UTCTime for 1950-2049, GeneralizedTime
  otherwise (RFC 5652 section 11.3);
* signingCertificateV2 (1.2.840.113549.1.9.16.2.47) -- one ESSCertIDv2: the Streebog hash (of the signer key's
  size) of the signer certificate's DER, and its issuerSerial (issuer as a directoryName, serial);
* and, when the signature was asked for by a web page (or ``sign --origin``), signagent's origin attribute
  (:data:`signagent.asn1.oids.SIGNAGENT_ORIGIN`, a UTF8String): the origin the agent saw, so that a portal can
  check that a signature was made for it and not replayed from another site (docs/API.md).

The signature covers the DER encoding of the attributes as a SET OF (RFC 5652 section 5.4): the elements sorted,
the universal SET tag -- not the ``[0] IMPLICIT`` tag under which they are stored in the SignerInfo.

Exports: build_signed_attributes, signing_certificate_v2, signing_certificate_v2_attribute, signed_attributes_set,
digest_algorithm_identifier, ess_cert_id_matches, origin_attribute, AttributeView.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from asn1crypto import algos, core

import signagent.asn1  # noqa: F401  -- registers the GOST algorithms with asn1crypto
from signagent.asn1 import oids
from signagent.asn1.failures import PARSE_ERRORS
from signagent.errors import SignAgentError
from signagent.x509 import Certificate

from . import der
from .digests import CONTENT_TYPE_DATA, DigestSpec, digest_by_oid

if TYPE_CHECKING:  # asn1crypto's cms and tsp modules are imported by the reading side only: signing needs neither
    from asn1crypto import cms

    from signagent.asn1 import cades

__all__ = [
    "AttributeView",
    "build_signed_attributes",
    "digest_algorithm_identifier",
    "ess_cert_id_matches",
    "origin_attribute",
    "signed_attributes_set",
    "signing_certificate_v2",
    "signing_certificate_v2_attribute",
]


def digest_algorithm_identifier(spec: DigestSpec) -> algos.DigestAlgorithm:
    """AlgorithmIdentifier of a digest with NULL parameters, as OpenSSL and the TC 26 examples write it."""
    return algos.DigestAlgorithm({"algorithm": spec.oid, "parameters": core.Null()})


# The attributes are assembled from encoded parts: asn1crypto re-encodes a certificate's issuer Name on every
# dump of a structure built around it, which costs far more than the signature itself.
_OID_CONTENT_TYPE = core.ObjectIdentifier("1.2.840.113549.1.9.3").dump()
_OID_MESSAGE_DIGEST = core.ObjectIdentifier("1.2.840.113549.1.9.4").dump()
_OID_SIGNING_TIME = core.ObjectIdentifier("1.2.840.113549.1.9.5").dump()
_OID_ORIGIN = core.ObjectIdentifier(oids.SIGNAGENT_ORIGIN).dump()
_MAX_ORIGIN = 2048
_OID_SIGNING_CERTIFICATE_V2 = core.ObjectIdentifier(oids.SIGNING_CERTIFICATE_V2).dump()
_TAG_DIRECTORY_NAME = 0xA4  # GeneralName directoryName [4] (EXPLICIT: Name is a CHOICE)


def _attribute(oid_der: bytes, value_der: bytes) -> bytes:
    """Attribute ::= SEQUENCE { attrType OBJECT IDENTIFIER, attrValues SET OF AttributeValue } (one value)."""
    return der.tlv(der.TAG_SEQUENCE, oid_der + der.tlv(der.TAG_SET, value_der))


def signing_certificate_v2(certificate: Certificate, spec: DigestSpec) -> bytes:
    """DER SigningCertificateV2 with one ESSCertIDv2 for ``certificate`` (RFC 5035 section 3): the hash of the
    certificate's DER and issuerSerial (the issuer Name exactly as the certificate encodes it, the serial)."""
    issuer_der = certificate.asn1["tbs_certificate"]["issuer"].dump()
    general_names = der.tlv(der.TAG_SEQUENCE, der.tlv(_TAG_DIRECTORY_NAME, issuer_der))
    issuer_serial = der.tlv(der.TAG_SEQUENCE, general_names + core.Integer(certificate.serial_number).dump())
    ess_cert_id = der.tlv(der.TAG_SEQUENCE, digest_algorithm_identifier(spec).dump()
                          + core.OctetString(spec.factory(certificate.der).digest()).dump() + issuer_serial)
    return der.tlv(der.TAG_SEQUENCE, der.tlv(der.TAG_SEQUENCE, ess_cert_id))


def signing_certificate_v2_attribute(certificate: Certificate, spec: DigestSpec) -> bytes:
    """The whole signingCertificateV2 attribute, DER (computed once per signer, reused for every signature)."""
    return _attribute(_OID_SIGNING_CERTIFICATE_V2, signing_certificate_v2(certificate, spec))


def _signing_time(when: datetime) -> bytes:
    when = when.astimezone(UTC)
    # RFC 5652 section 11.3: UTCTime for dates between 1950 and 2049, GeneralizedTime otherwise (X.690 11.7/11.8:
    # seconds present, no fraction, "Z").
    if 1950 <= when.year <= 2049:
        return der.tlv(0x17, when.strftime("%y%m%d%H%M%SZ").encode("ascii"))
    return der.tlv(0x18, f"{when.year:04d}{when.strftime('%m%d%H%M%S')}Z".encode("ascii"))


@functools.lru_cache(maxsize=16)
def _content_type_attribute(content_type: str) -> bytes:
    return _attribute(_OID_CONTENT_TYPE, core.ObjectIdentifier(content_type).dump())


def origin_attribute(origin: str) -> bytes:
    """signagent's origin attribute for ``origin`` (already normalized by the caller), DER."""
    if not isinstance(origin, str) or not origin or len(origin) > _MAX_ORIGIN:
        raise SignAgentError("the origin must be a non-empty string of at most 2048 characters")
    return _attribute(_OID_ORIGIN, der.tlv(0x0C, origin.encode("utf-8")))


def build_signed_attributes(*, message_digest: bytes, signing_certificate: bytes, signing_time: datetime | None,
                            content_type: str = CONTENT_TYPE_DATA, origin: str | None = None) -> list[bytes]:
    """The four CAdES-BES signed attributes (five with ``origin``), each DER-encoded (order is fixed later by the
    SET OF sorting).

    ``signing_certificate`` is the encoded attribute of :func:`signing_certificate_v2_attribute`;
    ``signing_time`` None leaves signingTime out (then the signature is not CAdES-BES; tests use it).
    """
    attributes = [
        _content_type_attribute(content_type),
        _attribute(_OID_MESSAGE_DIGEST, der.tlv(der.TAG_OCTET_STRING, bytes(message_digest))),
        signing_certificate,
    ]
    if signing_time is not None:
        attributes.append(_attribute(_OID_SIGNING_TIME, _signing_time(signing_time)))
    if origin is not None:
        attributes.append(origin_attribute(origin))
    return attributes


def signed_attributes_set(encoded: Sequence[bytes]) -> bytes:
    """The DER SET OF the attributes: the exact bytes the signature covers (RFC 5652 section 5.4)."""
    return der.set_of(encoded)


# attribute OID -> (asn1crypto's name for it, the tags its one value may have)
_RECEIVED_TAGS = {
    "1.2.840.113549.1.9.3": ("content_type", (0x06,)),
    "1.2.840.113549.1.9.4": ("message_digest", (0x04,)),
    "1.2.840.113549.1.9.5": ("signing_time", (0x17, 0x18)),
    oids.SIGNING_CERTIFICATE_V2: ("signing_certificate_v2", (0x30,)),
    oids.SIGNAGENT_ORIGIN: ("origin", (0x0C,)),
}


@dataclass
class AttributeView:
    """The signed attributes of a SignerInfo as a verifier reads them.

    ``counts`` says how many times each attribute type appears (RFC 5652 section 11 allows each of these once,
    with exactly one value); the values are those of the first occurrence, None when absent or unreadable.
    """

    counts: dict[str, int]
    content_type: str | None = None
    message_digest: bytes | None = None
    signing_time: datetime | None = None
    signing_certificate_v2: cades.SigningCertificateV2 | None = None
    signing_certificate: cades.SigningCertificate | None = None
    unreadable: tuple[str, ...] = ()
    #: the signingCertificateV2 value as received, when read by :meth:`from_received`
    signing_certificate_v2_der: bytes | None = None
    #: signagent's origin attribute: the web origin the signature was requested from
    origin: str | None = None

    @classmethod
    def from_received(cls, attributes: list[tuple[str, list[tuple[int, bytes, bytes]]]]) -> AttributeView | None:
        """The view of attributes read from the bytes received (:func:`signagent.cms.received.read_attributes`)
        when they are the four CAdES-BES ones, each once with one value of its type; None otherwise (then
        :meth:`read` over asn1crypto gives the view, with its counts and unreadable values).

        The values are converted as asn1crypto converts them (the time by asn1crypto itself), so both views agree.
        """
        from asn1crypto import cms

        from signagent.asn1 import cades

        if len(attributes) > len(_RECEIVED_TAGS):
            return None
        view = cls({})
        for oid, values in attributes:
            expected = _RECEIVED_TAGS.get(oid)
            if expected is None or len(values) != 1 or values[0][0] not in expected[1] or expected[0] in view.counts:
                return None
            name, _ = expected
            view.counts[name] = 1
            _, encoding, contents = values[0]
            try:
                if name == "content_type":  # the OID decoded as asn1crypto decodes it; a malformed one goes there
                    view.content_type = der.dotted_oid(contents)
                    if view.content_type is None:
                        return None
                elif name == "message_digest":  # a primitive OCTET STRING (the tag says): its contents
                    view.message_digest = contents
                elif name == "signing_time":
                    view.signing_time = cms.Time.load(encoding).native
                elif name == "origin":
                    view.origin = contents.decode("utf-8")  # UnicodeDecodeError: the slow path reads it
                else:  # its fields are read (and checked) on matching, unless it is the expected encoding
                    view.signing_certificate_v2 = cades.SigningCertificateV2.load(encoding)
                    view.signing_certificate_v2_der = encoding
            except (*PARSE_ERRORS, UnicodeDecodeError):
                return None
        return view

    @classmethod
    def read(cls, attributes: cms.CMSAttributes) -> AttributeView:
        """Read the attributes one by one; an unreadable value is listed in ``unreadable``, never raised."""
        counts: dict[str, int] = {}
        view = cls(counts)
        unreadable: list[str] = []
        for attribute in attributes:
            try:
                name = attribute["type"].native
                if name == oids.SIGNAGENT_ORIGIN:  # not registered with asn1crypto: its dotted OID
                    name = "origin"
                values = attribute["values"]
            except PARSE_ERRORS:
                unreadable.append("?")
                continue
            counts[name] = counts.get(name, 0) + 1
            if counts[name] > 1:
                continue
            try:
                if len(values) != 1:
                    unreadable.append(name)
                    continue
                value = values[0]
                if name == "content_type":
                    view.content_type = value.dotted
                elif name == "message_digest":
                    view.message_digest = value.native
                elif name == "signing_time":
                    view.signing_time = value.native
                elif name == "signing_certificate_v2":  # its fields are read (and checked) on matching
                    view.signing_certificate_v2 = value
                elif name == "signing_certificate":
                    view.signing_certificate = value
                elif name == "origin":
                    view.origin = value.parse(core.UTF8String).native
            except (*PARSE_ERRORS, UnicodeDecodeError):
                unreadable.append(name)
        view.unreadable = tuple(unreadable)
        return view


def ess_cert_id_matches(ess_cert_id: object, certificate: Certificate, *, v2: bool) -> bool | None:
    """Does an ESSCertID(v2) identify ``certificate``? None when its hash algorithm is not supported.

    The hash must equal the hash of the certificate's DER; when issuerSerial is present its serial and its
    directoryName must equal the certificate's (RFC 5035 section 4; RFC 2634 section 5.4.1).
    """
    try:
        if v2:
            oid = ess_cert_id["hash_algorithm"]["algorithm"].dotted  # type: ignore[index]
        else:
            oid = "1.3.14.3.2.26"  # ESSCertID (v1) is SHA-1 only
        cert_hash = ess_cert_id["cert_hash"].native  # type: ignore[index]
        issuer_serial = ess_cert_id["issuer_serial"]  # type: ignore[index]
    except PARSE_ERRORS:
        return False
    try:
        spec = digest_by_oid(oid)
    except SignAgentError:  # an unknown hash leaves the match undecided
        return None
    if spec.factory(certificate.der).digest() != cert_hash:
        return False
    if isinstance(issuer_serial, core.Void):  # issuerSerial is OPTIONAL
        return True
    try:
        if issuer_serial["serial_number"].native != certificate.serial_number:
            return False
        cert_issuer = certificate.asn1["tbs_certificate"]["issuer"]
        names = [g.chosen for g in issuer_serial["issuer"] if g.name == "directory_name"]
    except PARSE_ERRORS:
        return False
    # byte equality first (the usual case, and cheap); asn1crypto's Name equality (RFC 5280 section 7.1
    # comparison with string preparation) only when the encodings differ
    wanted = cert_issuer.chosen.dump()
    return any(n.chosen.dump() == wanted or n == cert_issuer for n in names)
