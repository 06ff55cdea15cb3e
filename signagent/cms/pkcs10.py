"""PKCS#10 certification requests (RFC 2986) with GOST R 34.10-2012 keys: building, loading, verifying.

A request is built the way OpenSSL's GOST engine and CryptoPro build one (RFC 9215 sections 3-4):

* subjectPKInfo in the engine's layout (:func:`signagent.x509.builder.public_key_info`);
* attributes [0]: an extensionRequest (PKCS#9, 1.2.840.113549.1.9.14) when extensions are asked for, otherwise
  the empty SET (the field itself is mandatory in RFC 2986 and OpenSSL requires it);
* signatureAlgorithm id-tc26-signwithdigest-gost3410-12-256 / -512 (1.2.643.7.1.1.3.2 / .3.3) by key size, without
  parameters; signature = ``sign_message(DER CertificationRequestInfo)`` (Streebog, then GOST R 34.10), s || r.

Signing goes through a :class:`RequestSigner` -- ``public_key()`` and the two operations of
:class:`signagent.cms.signer.Signer`: a token's key signer, or a :class:`signagent.gost.PrivateKey` (wrapped in
:class:`signagent.cms.signer.KeySigner`). Subject names use
:func:`signagent.x509.builder.build_name` (NumericString for ОГРН/ИНН/СНИЛС..., PrintableString C, IA5String e-mail,
UTF8String for the rest) and extensions the makers of :mod:`signagent.x509.builder`.

Loading is strict: a request that is not DER (indefinite or non-minimal lengths, junk inside a tagged value,
extra elements, trailing bytes) raises :class:`RequestNotDerError` (``not_der``), one nested deeper than any real
one :class:`RequestNestingError` (``nesting_too_deep``); both are RequestFormatError.

Exports: RequestSigner, RequestInfo, RequestFormatError, RequestNotDerError, RequestNestingError, build_request,
request_pem, load_request, parse_request, verify_request.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from asn1crypto import core, csr, x509

from signagent.asn1.failures import PARSE_ERRORS

from .. import asn1 as _asn1  # noqa: F401  (registers the GOST algorithms and Russian attributes)
from ..asn1 import oids
from ..asn1.integers import int_text
from ..asn1.opaque_request import OpaqueCertificationRequest
from ..asn1.strict_der import received_encoding, require_der
from ..errors import (
    InvalidInputError,
    InvalidSignatureFormatError,
    InvalidTypeError,
    NestingTooDeepError,
    NotDerError,
    too_large_error,
)
from ..gost import PrivateKey, PublicKey, streebog256, streebog512
from ..x509.builder import NameSpec, build_name, public_key_info, signature_algorithm_oid
from ..x509.extensions import ExtensionInfo, check_extension_framing, parse_extensions
from ..x509.names import DistinguishedName
from ..x509.signature import public_key_from_info, verify_signature
from .signer import KeySigner

__all__ = [
    "RequestFormatError",
    "RequestInfo",
    "RequestNestingError",
    "RequestNotDerError",
    "RequestSigner",
    "build_request",
    "load_request",
    "parse_request",
    "request_pem",
    "verify_request",
]

_EXTENSION_REQUEST = oids.EXTENSION_REQUEST  # PKCS#9 extensionRequest (RFC 2985 section 5.4.2)
_PEM_LABELS = (b"CERTIFICATE REQUEST", b"NEW CERTIFICATE REQUEST")  # the second is Netscape/Microsoft's
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)
_BASE64_ONLY = re.compile(rb"^[A-Za-z0-9+/=\s]+$")
_MAX_REQUEST = 1 << 20


class RequestFormatError(InvalidInputError):
    """Bytes that are not a PKCS#10 certification request."""

    code = "csr_malformed"


class RequestNotDerError(RequestFormatError, NotDerError):
    """A request that is not in DER (RFC 2986 section 4: the signature covers the DER of the request info)."""

    code = NotDerError.code


class RequestNestingError(RequestFormatError, NestingTooDeepError):
    """A request nested deeper than any genuine one."""

    code = NestingTooDeepError.code


@runtime_checkable
class RequestSigner(Protocol):
    """What signs a request: the key's public half and GOST R 34.10-2012 signatures (s || r), of a ready digest
    or of a message (hashed by the signer, maybe on a token), as in :class:`signagent.cms.signer.Signer`."""

    def public_key(self) -> PublicKey:
        """The public key that goes into the request."""
        ...

    def sign_digest(self, digest: bytes) -> bytes:
        """s || r over a Streebog digest (256 for 256-bit keys, 512 for 512-bit keys)."""
        ...

    def sign_message(self, message: bytes) -> bytes:
        """s || r over ``message``: Streebog of the key's size, then the signature."""
        ...


def _malformed(detail: str) -> RequestFormatError:
    return RequestFormatError(detail=detail)


# --------------------------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------------------------


def _attributes(extensions: list[x509.Extension]) -> csr.CRIAttributes:
    if not extensions:
        return csr.CRIAttributes([])
    return csr.CRIAttributes([
        csr.CRIAttribute({"type": "extension_request", "values": [x509.Extensions(extensions)]}),
    ])


def build_request(subject: NameSpec, signer: RequestSigner | PrivateKey, *,
                  extensions: Iterable[x509.Extension] = ()) -> csr.CertificationRequest:
    """A signed PKCS#10 request for ``signer``'s public key; ``.dump()`` gives the DER.

    ``subject`` is a list of ``(attribute, value)`` pairs (labels such as CN, SN, G, T, O, C, S, L, STREET, E,
    OGRN, OGRNIP, INN, INNLE, SNILS, or dotted OIDs) in the order wanted, or an asn1crypto Name. ``extensions``
    (keyUsage, extKeyUsage, subjectSignTool, certificatePolicies...: the makers of :mod:`signagent.x509.builder`)
    go into an extensionRequest attribute. The signature is checked against the public key before the request is
    returned, so a faulty signer (a token returning garbage) is caught here.
    """
    if isinstance(signer, PrivateKey):
        signer = KeySigner(signer)
    if not isinstance(signer, RequestSigner):
        raise InvalidTypeError("the signer needs public_key(), sign_digest(digest) and sign_message(message)")
    public_key = signer.public_key()
    if not isinstance(public_key, PublicKey):
        raise InvalidTypeError("signer.public_key() must return a signagent.gost.PublicKey")
    ext_list = list(extensions)
    for ext in ext_list:
        if not isinstance(ext, x509.Extension):
            raise InvalidTypeError("extensions must be asn1crypto x509.Extension values (see x509.builder)")
    info = csr.CertificationRequestInfo({
        "version": "v1",
        "subject": build_name(subject),
        "subject_pk_info": public_key_info(public_key),
        "attributes": _attributes(ext_list),
    })
    info_der = info.dump()
    size = public_key.curve.size
    digest = (streebog256 if size == 32 else streebog512)(info_der).digest()
    signature = bytes(signer.sign_message(info_der))
    if len(signature) != 2 * size or not public_key.verify_digest(digest, signature):
        raise InvalidSignatureFormatError(situation="self_check")
    return csr.CertificationRequest({
        "certification_request_info": csr.CertificationRequestInfo.load(info_der),
        "signature_algorithm": {"algorithm": signature_algorithm_oid(public_key)},
        "signature": signature,
    })


def request_pem(request: csr.CertificationRequest | bytes) -> bytes:
    """PEM text ("CERTIFICATE REQUEST", 64-character lines, as OpenSSL writes it) of a request or its DER."""
    der = request.dump() if isinstance(request, csr.CertificationRequest) else bytes(request)
    b64 = base64.b64encode(der).decode("ascii")
    lines = "\n".join(b64[i : i + 64] for i in range(0, len(b64), 64))
    return f"-----BEGIN CERTIFICATE REQUEST-----\n{lines}\n-----END CERTIFICATE REQUEST-----\n".encode("ascii")


# --------------------------------------------------------------------------------------------------------------
# Loading and verifying
# --------------------------------------------------------------------------------------------------------------


def _der_of(data: bytes) -> bytes:
    if b"-----BEGIN" in data:
        match = _PEM_BLOCK.search(data)
        if match is None:
            raise _malformed("truncated PEM (no matching END line)")
        if match.group(1) not in _PEM_LABELS:
            raise _malformed(f"a PEM '{match.group(1).decode()}' block, not CERTIFICATE REQUEST")
        body = match.group(2)
    elif data.startswith(b"\x30"):
        return data
    elif _BASE64_ONLY.match(data):
        body = data  # bare base64, as CryptoPro and web forms hand requests around
    else:
        raise _malformed("neither PEM, DER nor base64")
    try:
        return base64.b64decode(b"".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        raise _malformed("bad base64") from None


def load_request(data: bytes | csr.CertificationRequest) -> csr.CertificationRequest:
    """A request from PEM, DER or bare base64, fully parsed (RequestFormatError if anything does not fit)."""
    if isinstance(data, csr.CertificationRequest):
        return data
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InvalidTypeError("a certification request is given as bytes")
    data = bytes(data)
    if len(data) > _MAX_REQUEST:
        raise too_large_error(RequestFormatError)(what="certification request", what_ru="запрос на сертификат",
                                                  limit=_MAX_REQUEST)
    der = _der_of(data)
    # RFC 2986 section 4 / X.690 clause 10: DER only, checked on the bytes received before asn1crypto (a BER
    # reader whose dump() re-encodes) sees them; the signature is then verified over the request info as read.
    require_der(der, OpaqueCertificationRequest, what="the certification request", error=RequestNotDerError,
                too_deep=RequestNestingError)
    try:
        request = csr.CertificationRequest.load(der, strict=True)
        info = request["certification_request_info"]
        version = info["version"].native
        DistinguishedName(info["subject"])  # force the lazy parse of every part here, each name attribute too
        info["subject_pk_info"]["algorithm"]["algorithm"].dotted  # noqa: B018
        for attribute in info["attributes"] or ():
            attribute["type"].dotted  # noqa: B018
        request["signature_algorithm"]["algorithm"].dotted  # noqa: B018
        request["signature"].native  # noqa: B018
    except PARSE_ERRORS as exc:
        raise _malformed(" ".join(str(exc).split()) or type(exc).__name__) from None
    if version != "v1":
        # int_text: the INTEGER may have 20,000 digits, and str() of it raises.
        raise _malformed(f"unknown version {int_text(version) if isinstance(version, int) else version}")
    return request


def _requested_extensions(info: csr.CertificationRequestInfo) -> tuple[list[x509.Extension], list[str]]:
    """The extensions of every extensionRequest attribute, and the OIDs of the other attributes."""
    extensions: list[x509.Extension] = []
    others: list[str] = []
    for attribute in info["attributes"] or ():
        oid = attribute["type"].dotted
        if oid != _EXTENSION_REQUEST:
            others.append(oid)
            continue
        try:
            for value in attribute["values"]:
                found = list(value)
                check_extension_framing(found)
                extensions.extend(found)
        except PARSE_ERRORS as exc:
            raise _malformed(f"unreadable extensionRequest ({' '.join(str(exc).split())})") from None
    return extensions, others


@dataclass(frozen=True)
class RequestInfo:
    """What a request asks for, and whether its self-signature holds.

    ``extensions`` are parsed one by one (a broken one carries its error); ``other_attributes`` lists the OIDs of
    attributes other than extensionRequest (challengePassword, Microsoft's client info...).
    """

    subject: DistinguishedName
    public_key: PublicKey
    signature_algorithm: str
    extensions: tuple[ExtensionInfo, ...]
    other_attributes: tuple[str, ...]
    signature_valid: bool
    der: bytes

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready view (the public key as X||Y little-endian hex)."""
        return {
            "subject": self.subject.display,
            "subject_attributes": [{"oid": a.oid, "name": a.name, "value": a.value} for a in self.subject.attributes],
            "public_key": {"curve": self.public_key.curve.name, "oid": self.public_key.curve.oid,
                           "value": self.public_key.to_bytes().hex()},
            "signature_algorithm": self.signature_algorithm,
            "signature_valid": self.signature_valid,
            "extensions": [{"oid": e.oid, "name": e.name, "critical": e.critical, "value": e.value,
                            **({"error": e.error} if e.error else {})} for e in self.extensions],
            "other_attributes": list(self.other_attributes),
        }


def parse_request(data: bytes | csr.CertificationRequest) -> RequestInfo:
    """Parse a request (PEM, DER or base64) and check its signature.

    Raises RequestFormatError for malformed input, UnknownAlgorithmError for a non-GOST key or signature
    algorithm (an RSA request), InvalidKeyError / InvalidPointError for a key that is not a valid curve point.
    A wrong signature is ``signature_valid=False``, not an exception.
    """
    request = load_request(data)
    info = request["certification_request_info"]
    spki = info["subject_pk_info"]
    public_key = public_key_from_info(spki)
    extensions, others = _requested_extensions(info)
    # GOST signature algorithm identifiers carry no parameters (RFC 9215 section 3.1, RFC 4491 section 2.2.2);
    # OpenSSL writes NULL. The outer AlgorithmIdentifier is outside the signed bytes, so anything else appended there
    # would go unnoticed: refuse it.
    parameters = request["signature_algorithm"]["parameters"]
    if not isinstance(parameters, core.Void) and parameters.dump() != b"\x05\x00":
        raise RequestFormatError(situation="signature_parameters")
    # The bytes received (DER, checked by load_request), never a re-encoding; a request built in memory has none.
    valid = verify_signature(received_encoding(info), request["signature_algorithm"], request["signature"].native,
                             spki)
    return RequestInfo(
        subject=DistinguishedName(info["subject"]),
        public_key=public_key,
        signature_algorithm=request["signature_algorithm"]["algorithm"].dotted,
        extensions=parse_extensions(extensions),
        other_attributes=tuple(others),
        signature_valid=valid,
        der=request.dump(),
    )


def verify_request(data: bytes | csr.CertificationRequest) -> bool:
    """Does the request's self-signature verify with the key it carries? (Errors as :func:`parse_request`.)"""
    return parse_request(data).signature_valid
