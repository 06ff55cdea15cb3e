"""GOST signatures on X.509 structures: certificates, CRLs, certification requests, CMS signer infos.

Supported algorithms (RFC 9215 section 3.1; RFC 4491 section 2.2):

* GOST R 34.10-2012 256-bit with Streebog-256: 1.2.643.7.1.1.3.2, or the key OID 1.2.643.7.1.1.1.1 that CMS
  SignerInfo often carries instead (``shared/vectors/README.md``);
* GOST R 34.10-2012 512-bit with Streebog-512: 1.2.643.7.1.1.3.3, or the key OID 1.2.643.7.1.1.1.2;
* GOST R 34.10-2001 with GOST R 34.11-94: 1.2.643.2.2.3, or the key OID 1.2.643.2.2.19 (legacy roots and CAs).

In every case the signature value is s || r as stored (big-endian halves) and the digest is the hash output as
the hash function returns it (RFC 4491 section 2.2.2; ``reference/qualified-profile.md`` section 7). The key's
curve comes from the publicKeyParamSet of its SubjectPublicKeyInfo.

Signed structures are verified over their TBS exactly as received (:func:`crl_signed_bytes`, and
``Certificate.tbs_der``), never over asn1crypto's re-encoding, and only when the outer signatureAlgorithm is the
same AlgorithmIdentifier as the one inside the TBS (RFC 5280 sections 4.1.1.2 and 5.1.1.2).

Exports: verify_signature, public_key_from_info, crl_is_signed_by, crl_signed_bytes, certificate_signed_bytes,
signature_scheme.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from asn1crypto import algos, crl, keys

import signagent.asn1  # noqa: F401  -- registers the GOST algorithms with asn1crypto
from signagent.asn1 import oids
from signagent.asn1.failures import PARSE_ERRORS
from signagent.asn1.strict_der import received_encoding, sequence_elements
from signagent.errors import InvalidKeyError, NotDerError, UnknownAlgorithmError
from signagent.gost import PublicKey, curve, gost341194, streebog256, streebog512

if TYPE_CHECKING:
    from .certificate import Certificate

__all__ = [
    "SignatureScheme",
    "certificate_signed_bytes",
    "crl_is_signed_by",
    "crl_signed_bytes",
    "public_key_from_info",
    "signature_scheme",
    "verify_signature",
]


@dataclass(frozen=True)
class SignatureScheme:
    """What a GOST signature algorithm needs: the key algorithm OID, the key size and the hash."""

    name: str
    key_oid: str
    size: int  # bytes of one half of the signature and of one key coordinate
    hash_name: str


_SCHEME_2012_256 = SignatureScheme("GOST R 34.10-2012 256 with Streebog-256", oids.GOST2012_256, 32, "streebog256")
_SCHEME_2012_512 = SignatureScheme("GOST R 34.10-2012 512 with Streebog-512", oids.GOST2012_512, 64, "streebog512")
_SCHEME_2001 = SignatureScheme("GOST R 34.10-2001 with GOST R 34.11-94", oids.GOST2001, 32, "gost341194")

_SCHEMES = {
    oids.SIGNWITHDIGEST_2012_256: _SCHEME_2012_256,
    oids.GOST2012_256: _SCHEME_2012_256,
    oids.SIGNWITHDIGEST_2012_512: _SCHEME_2012_512,
    oids.GOST2012_512: _SCHEME_2012_512,
    oids.SIGNWITHDIGEST_2001: _SCHEME_2001,
    oids.GOST2001: _SCHEME_2001,
}
_KEY_NAMES = {
    oids.GOST2012_256: "GOST R 34.10-2012 256-bit",
    oids.GOST2012_512: "GOST R 34.10-2012 512-bit",
    oids.GOST2001: "GOST R 34.10-2001",
}


def _algorithm_oid(signature_algorithm: algos.SignedDigestAlgorithm | str) -> str:
    if isinstance(signature_algorithm, str):
        if signature_algorithm in _SCHEMES:
            return signature_algorithm
        # An asn1crypto-style name ("gost3410_2012_256_streebog256") is accepted as well as a dotted OID.
        for table in (oids.GOST_SIGNATURE_ALGORITHMS, oids.GOST_PUBLIC_KEY_ALGORITHMS):
            for oid, name in table.items():
                if name == signature_algorithm:
                    return oid
        return signature_algorithm
    try:
        return signature_algorithm["algorithm"].dotted
    except PARSE_ERRORS as exc:
        raise UnknownAlgorithmError(situation="unreadable_signature_algorithm", error=exc) from None


def signature_scheme(signature_algorithm: algos.SignedDigestAlgorithm | str) -> SignatureScheme:
    """The GOST scheme of a signature algorithm (identifier or dotted OID); UnknownAlgorithmError otherwise."""
    oid = _algorithm_oid(signature_algorithm)
    scheme = _SCHEMES.get(oid)
    if scheme is None:
        raise UnknownAlgorithmError(situation="not_gost_signature", algorithm=oid)
    return scheme


def _key_oid(public_key_info: keys.PublicKeyInfo) -> str:
    try:
        return public_key_info["algorithm"]["algorithm"].dotted
    except PARSE_ERRORS as exc:
        raise InvalidKeyError(situation="unreadable_algorithm", error=exc) from None


def public_key_from_info(public_key_info: keys.PublicKeyInfo) -> PublicKey:
    """The GOST public key of a SubjectPublicKeyInfo (RFC 9215 section 3; RFC 4491 section 2.3.2).

    Raises UnknownAlgorithmError for a non-GOST key or an unknown parameter set, InvalidKeyError for a key
    whose parameters or value cannot be read, InvalidLengthError / InvalidPointError (both InvalidKeyError or
    InvalidInputError subclasses) for a value that is not a point of the curve.
    """
    key_oid = _key_oid(public_key_info)
    if key_oid not in _KEY_NAMES:
        raise UnknownAlgorithmError(situation="not_gost_key", algorithm=key_oid)
    try:
        params = public_key_info["algorithm"]["parameters"]
        param_set = params["public_key_param_set"].dotted if params.native is not None else None
    except PARSE_ERRORS as exc:
        raise InvalidKeyError(situation="unreadable_parameters", error=exc) from None
    if param_set is None:
        raise InvalidKeyError(situation="no_parameters")
    c = curve(param_set)
    expected = 64 if key_oid == oids.GOST2012_512 else 32
    if c.size != expected:
        raise InvalidKeyError(situation="parameter_size", key=_KEY_NAMES[key_oid], bits=c.bits, param_set=param_set)
    try:
        raw = public_key_info["public_key"].parsed.native
    except PARSE_ERRORS as exc:
        raise InvalidKeyError(situation="not_octet_string", error=exc) from None
    return PublicKey.from_bytes(c, raw)


def _hash(scheme: SignatureScheme, public_key_info: keys.PublicKeyInfo, data: bytes) -> bytes:
    if scheme.hash_name == "streebog256":
        return streebog256(data).digest()
    if scheme.hash_name == "streebog512":
        return streebog512(data).digest()
    # GOST R 34.11-94: S-boxes named by the key's digestParamSet (RFC 4491 section 2.3.2), CryptoPro by default.
    paramset = oids.GOST341194_CRYPTOPRO_PARAMSET
    try:
        digest_param = public_key_info["algorithm"]["parameters"]["digest_param_set"]
        if digest_param.native is not None:
            paramset = digest_param.dotted
    except PARSE_ERRORS:
        pass
    return gost341194(data, paramset).digest()


def verify_signature(data: bytes, signature_algorithm: algos.SignedDigestAlgorithm | str, signature: bytes,
                     public_key_info: keys.PublicKeyInfo) -> bool:
    """Is ``signature`` (s || r as stored) a valid GOST signature of ``data`` under ``public_key_info``?

    ``signature_algorithm`` is the AlgorithmIdentifier of the signed structure or a dotted OID. Returns False for
    a wrong signature, including one of the wrong length. Raises UnknownAlgorithmError for a non-GOST algorithm
    or key, or a signature algorithm that does not fit the key (a 512-bit signature with a 256-bit key, a
    GOST R 34.10-2001 signature with a 2012 key...); InvalidKeyError (or a subclass) for an unreadable key.
    """
    scheme = signature_scheme(signature_algorithm)
    key_oid = _key_oid(public_key_info)
    if key_oid != scheme.key_oid:
        key_name = _KEY_NAMES.get(key_oid, key_oid)
        raise UnknownAlgorithmError(situation="key_mismatch", algorithm=scheme.name, key=key_name)
    key = public_key_from_info(public_key_info)
    if len(signature) != 2 * scheme.size:
        return False
    return key.verify_digest(_hash(scheme, public_key_info, bytes(data)), bytes(signature))


def certificate_signed_bytes(certificate: object) -> bytes | None:
    """tbsCertificate as received (an asn1crypto certificate, or DER bytes), or None when the outer
    signatureAlgorithm is not the tbsCertificate.signature AlgorithmIdentifier byte for byte (RFC 5280 section
    4.1.1.2) or the certificate is not framed as one."""
    der = bytes(certificate) if isinstance(certificate, bytes | bytearray | memoryview) else received_encoding(
        certificate)
    try:
        parts = sequence_elements(der, what="the certificate")
        tbs = sequence_elements(parts[0], what="the certificate")
        inner = tbs[2] if tbs[0][:1] == b"\xa0" else tbs[1]  # [0] version (absent in v1), serial, signature
    except (NotDerError, IndexError):
        return None
    return parts[0] if len(parts) == 3 and inner == parts[1] else None


def crl_signed_bytes(certificate_list: crl.CertificateList) -> bytes | None:
    """tbsCertList as received (the bytes the issuer signed), or None when the outer signatureAlgorithm is not the
    tbsCertList.signature AlgorithmIdentifier byte for byte (RFC 5280 section 5.1.1.2) or the CRL is not framed
    as one."""
    try:
        parts = sequence_elements(received_encoding(certificate_list), what="the CRL")
        tbs = sequence_elements(parts[0], what="the CRL")
        inner = tbs[1] if tbs[0][:1] == b"\x02" else tbs[0]  # version INTEGER is optional (v1)
    except (NotDerError, IndexError):
        return None
    return parts[0] if len(parts) == 3 and inner == parts[1] else None


def crl_is_signed_by(certificate_list: crl.CertificateList, issuer: Certificate) -> bool:
    """Is the CRL's signature valid under ``issuer``'s public key? (Names and key usage are not checked here.)
    False when the outer and inner signature algorithms differ."""
    signed = crl_signed_bytes(certificate_list)
    if signed is None:
        return False
    return verify_signature(
        signed,
        certificate_list["signature_algorithm"],
        certificate_list["signature"].native,
        issuer.public_key_info,
    )

