"""Building and signing X.509 v3 certificates and v2 CRLs with GOST R 34.10-2012 keys (RFC 5280, RFC 9215).

Used by the test PKI and by anything that issues certificates (a future CSR/CA path). Everything is built as
asn1crypto objects and signed with :class:`signagent.gost.PrivateKey`:

* the signature algorithm follows the *issuer* key size: id-tc26-signwithdigest-gost3410-12-256 / -512
  (1.2.643.7.1.1.3.2 / .3.3, RFC 9215 section 3.1) without parameters, as real certificates carry it;
* the digest is Streebog-256/512 of the DER of the TBS structure; the signature value is ``sign_digest(digest)``
  (s || r, big-endian halves; RFC 4491 section 2.2.2);
* the subject key is written as OpenSSL's GOST engine writes it (RFC 9215 section 4): algorithm 1.2.643.7.1.1.1.1
  or .1.2 with ``GostR3410-2012-PublicKeyParameters``, the BIT STRING holding the DER OCTET STRING of X || Y, each
  little-endian.

Names are ordered lists of ``(attribute, value)``: the attribute is an asn1crypto name (``common_name``), a short
label (``CN``, ``SN``, ``G``, ``OGRN``, ``INNLE``...) or a dotted OID. Value types are those real qualified
certificates carry (``reference/qualified-profile.md`` 2.1): NumericString for the Russian numbers, PrintableString
for C, IA5String for e-mail, UTF8String for the rest. One attribute per RDN, in the given order.

Exports: build_name, public_key_info, key_identifier, build_certificate, build_crl, private_key_info,
signature_algorithm_oid, sign_der, random_serial, and the extension makers basic_constraints, key_usage,
extended_key_usage, subject_key_identifier, authority_key_identifier, certificate_policies,
crl_distribution_points, authority_info_access, private_key_usage_period, subject_sign_tool, issuer_sign_tool,
identification_kind, ocsp_no_check, subject_alt_email.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from asn1crypto import algos, core, crl, keys, x509

from .. import asn1 as _asn1  # noqa: F401  (registers the GOST algorithms and Russian attributes)
from ..asn1 import oids
from ..errors import InvalidInputError, InvalidTypeError
from ..gost import PrivateKey, PublicKey, streebog256, streebog512

__all__ = [
    "NameSpec",
    "authority_info_access",
    "authority_key_identifier",
    "basic_constraints",
    "build_certificate",
    "build_crl",
    "build_name",
    "certificate_policies",
    "crl_distribution_points",
    "extended_key_usage",
    "identification_kind",
    "issuer_sign_tool",
    "key_identifier",
    "key_usage",
    "ocsp_no_check",
    "private_key_info",
    "private_key_usage_period",
    "public_key_info",
    "random_serial",
    "sign_der",
    "signature_algorithm_oid",
    "subject_alt_email",
    "subject_key_identifier",
    "subject_sign_tool",
]

#: An ordered subject or issuer name: ``[(attribute, value), ...]``, or a ready asn1crypto Name.
NameSpec = Sequence[tuple[str, str]] | x509.Name

# Short labels as CryptoPro and OpenSSL print them -> asn1crypto attribute names.
_LABELS = {
    "CN": "common_name",
    "SN": "surname",
    "G": "given_name",
    "GN": "given_name",
    "T": "title",
    "O": "organization_name",
    "OU": "organizational_unit_name",
    "C": "country_name",
    "S": "state_or_province_name",
    "ST": "state_or_province_name",
    "L": "locality_name",
    "STREET": "street_address",
    "E": "email_address",
    "EMAIL": "email_address",
    "OGRN": "ogrn",
    "OGRNIP": "ogrnip",
    "SNILS": "snils",
    "INN": "inn",
    "INNLE": "innle",
}

# The tc26 256-bit sets and the 512-bit set C: OpenSSL's GOST engine omits digestParamSet for them and writes it
# for the older CryptoPro sets and 512-bit A/B (RFC 9215 section 4 allows both; readers accept both).
_NO_DIGEST_PARAM = {
    oids.TC26_256_PARAMSET_A,
    oids.TC26_256_PARAMSET_B,
    oids.TC26_256_PARAMSET_C,
    oids.TC26_256_PARAMSET_D,
    oids.TC26_512_PARAMSET_C,
}

_ANY_POLICY = oids.ANY_POLICY


# --------------------------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------------------------


def _attribute_value(type_name: str, value: str) -> core.Asn1Value:
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"the value of name attribute {type_name} must be a non-empty str")
    if type_name in oids.RUSSIAN_NAME_ATTRIBUTES.values():
        if not value.isascii() or not value.isdigit():
            raise InvalidInputError(f"{type_name} must be digits only (NumericString), not {value!r}")
        return core.NumericString(value)
    if type_name == "country_name":
        if len(value) != 2 or not value.isascii() or not value.isalpha():
            raise InvalidInputError(f"countryName must be a two-letter code, not {value!r}")
        return core.PrintableString(value)
    spec = x509.NameTypeAndValue._oid_specs.get(type_name)
    if type_name in ("email_address", "domain_component"):
        if not value.isascii():
            raise InvalidInputError(f"{type_name} must be ASCII (IA5String), not {value!r}")
        return spec(value)  # asn1crypto's IA5String subclasses for these two
    if spec is x509.DirectoryString:
        return x509.DirectoryString(name="utf8_string", value=value)
    # Attributes with a fixed non-directory type in asn1crypto's table, and unknown OIDs, get a UTF8String -- what
    # real certificates put in e.g. unstructuredName (1.2.840.113549.1.9.2).
    return core.UTF8String(value)


def _attribute_type(attribute: str) -> str:
    if not isinstance(attribute, str) or not attribute:
        raise InvalidTypeError("a name attribute must be a non-empty str (name, label or dotted OID)")
    name = _LABELS.get(attribute.upper(), attribute)
    # NameType maps a known dotted OID to its name and keeps an unknown dotted OID as is.
    try:
        return x509.NameType(name).native
    except ValueError:
        raise InvalidInputError(f"unknown name attribute {attribute!r}") from None


def build_name(attributes: NameSpec) -> x509.Name:
    """An X.501 Name with one attribute per RDN in the given order (an asn1crypto Name is returned unchanged)."""
    if isinstance(attributes, x509.Name):
        return attributes
    rdns = []
    for item in attributes:
        if not isinstance(item, tuple) or len(item) != 2:
            raise InvalidTypeError("a name is a sequence of (attribute, value) pairs")
        type_name = _attribute_type(item[0])
        atv = x509.NameTypeAndValue({"type": type_name, "value": _attribute_value(type_name, item[1])})
        rdns.append(x509.RelativeDistinguishedName([atv]))
    return x509.Name(name="", value=x509.RDNSequence(rdns))


# --------------------------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------------------------


def _key_algorithm(curve_oid: str, size: int) -> dict[str, object]:
    params: dict[str, str] = {"public_key_param_set": curve_oid}
    if curve_oid not in _NO_DIGEST_PARAM:
        params["digest_param_set"] = oids.STREEBOG256 if size == 32 else oids.STREEBOG512
    return {"algorithm": oids.GOST2012_256 if size == 32 else oids.GOST2012_512, "parameters": params}


def public_key_info(public_key: PublicKey) -> keys.PublicKeyInfo:
    """SubjectPublicKeyInfo of a GOST R 34.10-2012 key, in the layout OpenSSL's GOST engine writes."""
    if not isinstance(public_key, PublicKey):
        raise InvalidTypeError("public_key must be a signagent.gost.PublicKey")
    c = public_key.curve
    # signagent.asn1 makes the BIT STRING of a GOST key parse as the OCTET STRING it wraps.
    return keys.PublicKeyInfo({
        "algorithm": _key_algorithm(c.oid, c.size),
        "public_key": core.OctetString(public_key.to_bytes()),
    })


def private_key_info(private_key: PrivateKey) -> keys.PrivateKeyInfo:
    """PKCS#8 PrivateKeyInfo (RFC 5208) in OpenSSL's GOST layout: privateKey = OCTET STRING of d little-endian."""
    if not isinstance(private_key, PrivateKey):
        raise InvalidTypeError("private_key must be a signagent.gost.PrivateKey")
    c = private_key.curve
    # asn1crypto's GOST spec makes privateKey parse as a nested OCTET STRING; assemble the engine's flat layout
    # from encoded parts instead and let asn1crypto load it.
    body = (core.Integer(0).dump() + keys.PrivateKeyAlgorithm(_key_algorithm(c.oid, c.size)).dump()
            + core.OctetString(private_key.to_bytes()).dump())
    return keys.PrivateKeyInfo.load(b"\x30" + _der_length(len(body)) + body)


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


def key_identifier(public_key: PublicKey | keys.PublicKeyInfo) -> bytes:
    """RFC 5280 section 4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING value (no unused-bits byte).

    For a GOST key that value is the DER OCTET STRING ``04 40 X||Y`` -- OpenSSL and the FNS CA hash the same bytes.
    """
    info = public_key if isinstance(public_key, keys.PublicKeyInfo) else public_key_info(public_key)
    return hashlib.sha1(info["public_key"].contents[1:]).digest()  # noqa: S324  (SHA-1 is what RFC 5280 names)


# --------------------------------------------------------------------------------------------------------------
# Signing
# --------------------------------------------------------------------------------------------------------------


def signature_algorithm_oid(signing_key: PrivateKey | PublicKey) -> str:
    """id-tc26-signwithdigest-gost3410-12-256 or -512, by the size of the signing key."""
    return oids.SIGNWITHDIGEST_2012_256 if signing_key.curve.size == 32 else oids.SIGNWITHDIGEST_2012_512


def sign_der(signing_key: PrivateKey, der: bytes) -> bytes:
    """GOST R 34.10-2012 signature (s || r) over Streebog-256/512 (by key size) of ``der``."""
    if not isinstance(signing_key, PrivateKey):
        raise InvalidTypeError("the signing key must be a signagent.gost.PrivateKey")
    digest = streebog256(der) if signing_key.curve.size == 32 else streebog512(der)
    return signing_key.sign_digest(digest.digest())


def _signature_algorithm(signing_key: PrivateKey) -> dict[str, str]:
    # No parameters field at all: RFC 9215 section 3.1 says the parameters are absent.
    return {"algorithm": signature_algorithm_oid(signing_key)}


def _signed(tbs_der: bytes, signing_key: PrivateKey) -> bytes:
    """DER of SEQUENCE { tbs, signatureAlgorithm, signature BIT STRING } (certificates and CRLs alike).

    Assembled from encoded parts and then loaded: asn1crypto re-encodes a constructed object on every dump(), which
    costs more than the signature; a loaded object keeps its DER.
    """
    algorithm = algos.SignedDigestAlgorithm(_signature_algorithm(signing_key)).dump()
    signature = core.BitString.load(b"\x03" + _der_length(1 + 2 * signing_key.curve.size) + b"\x00"
                                    + sign_der(signing_key, tbs_der)).dump()
    body = tbs_der + algorithm + signature
    return b"\x30" + _der_length(len(body)) + body


def random_serial(length: int = 16) -> int:
    """A positive serial number of exactly ``length`` bytes in DER (16-20 observed in real certificates)."""
    if not 1 <= length <= 20:
        raise InvalidInputError("a certificate serial number is 1..20 bytes (RFC 5280 section 4.1.2.2)")
    # Top bit clear (positive without a 0x00 pad), next bit set (no leading zero byte): exactly `length` bytes.
    return secrets.randbits(8 * length - 2) | (1 << (8 * length - 2))


def _utc(value: datetime, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidTypeError(f"{what} must be a datetime")
    if value.tzinfo is None:
        raise InvalidInputError(f"{what} must be timezone-aware")
    return value.astimezone(UTC).replace(microsecond=0)


def _time(value: datetime, what: str) -> x509.Time:
    """RFC 5280 section 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050."""
    value = _utc(value, what)
    return x509.Time(name="utc_time" if value.year < 2050 else "general_time", value=value)


# --------------------------------------------------------------------------------------------------------------
# Extensions (RFC 5280 section 4.2; Russian ones per RFC 9215 section 5.2 / Приказ ФСБ № 795)
# --------------------------------------------------------------------------------------------------------------


def _ext(extn_id: str, value: object, critical: bool = False) -> x509.Extension:
    return x509.Extension({"extn_id": extn_id, "critical": critical, "extn_value": value})


def _uri(url: str) -> x509.GeneralName:
    if not isinstance(url, str) or not url.isascii() or ":" not in url:
        raise InvalidInputError(f"not an absolute ASCII URI: {url!r}")
    return x509.GeneralName(name="uniform_resource_identifier", value=url)


def basic_constraints(ca: bool, path_len: int | None = None, *, critical: bool = True) -> x509.Extension:
    """basicConstraints; CA certificates carry it critical (RFC 5280 section 4.2.1.9)."""
    value: dict[str, object] = {"ca": bool(ca)}
    if path_len is not None:
        value["path_len_constraint"] = path_len
    return _ext("basic_constraints", value, critical)


def key_usage(*usages: str, critical: bool = True) -> x509.Extension:
    """keyUsage with asn1crypto bit names: digital_signature, non_repudiation, key_cert_sign, crl_sign..."""
    unknown = set(usages) - set(x509.KeyUsage._map.values())
    if unknown or not usages:
        raise InvalidInputError(f"unknown or no key usage bits: {sorted(unknown)}")
    return _ext("key_usage", set(usages), critical)


def extended_key_usage(*purposes: str, critical: bool = False) -> x509.Extension:
    """extKeyUsage with asn1crypto names (client_auth, email_protection, ocsp_signing) or dotted OIDs."""
    return _ext("extended_key_usage", list(purposes), critical)


def subject_key_identifier(public_key: PublicKey | keys.PublicKeyInfo) -> x509.Extension:
    """subjectKeyIdentifier = :func:`key_identifier` of the key."""
    return _ext("key_identifier", key_identifier(public_key))


def authority_key_identifier(key_id: bytes) -> x509.Extension:
    """authorityKeyIdentifier with the issuer's key identifier only."""
    return _ext("authority_key_identifier", {"key_identifier": key_id})


def certificate_policies(*policy_oids: str) -> x509.Extension:
    """certificatePolicies: plain policy OIDs (e.g. КС1 1.2.643.100.113.1; anyPolicy 2.5.29.32.0)."""
    return _ext("certificate_policies", [{"policy_identifier": oid} for oid in policy_oids])


def crl_distribution_points(*urls: str) -> x509.Extension:
    """cRLDistributionPoints: one distribution point per URL, each a fullName URI."""
    return _ext("crl_distribution_points", [
        {"distribution_point": {"full_name": [_uri(url)]}} for url in urls
    ])


def authority_info_access(*, ocsp: Iterable[str] = (), ca_issuers: Iterable[str] = ()) -> x509.Extension:
    """authorityInfoAccess with OCSP responder and caIssuers URLs (RFC 5280 section 4.2.2.1)."""
    entries = [{"access_method": "ocsp", "access_location": _uri(u)} for u in ocsp]
    entries += [{"access_method": "ca_issuers", "access_location": _uri(u)} for u in ca_issuers]
    return _ext("authority_information_access", entries)


def private_key_usage_period(not_before: datetime | None, not_after: datetime | None) -> x509.Extension:
    """privateKeyUsagePeriod (RFC 3280 section 4.2.1.4): GeneralizedTime bounds of the private key's use."""
    value: dict[str, datetime] = {}
    if not_before is not None:
        value["not_before"] = _utc(not_before, "not_before")
    if not_after is not None:
        value["not_after"] = _utc(not_after, "not_after")
    return _ext("private_key_usage_period", value)


def subject_sign_tool(text: str) -> x509.Extension:
    """subjectSignTool (1.2.643.100.111): the owner's signature tool, a UTF8String."""
    return _ext("subject_sign_tool", core.UTF8String(text))


def issuer_sign_tool(sign_tool: str, ca_tool: str, sign_tool_cert: str, ca_tool_cert: str) -> x509.Extension:
    """issuerSignTool (1.2.643.100.112): the CA's tools and their conformity certificates, four UTF8Strings."""
    return _ext("issuer_sign_tool", {
        "sign_tool": sign_tool, "ca_tool": ca_tool, "sign_tool_cert": sign_tool_cert, "ca_tool_cert": ca_tool_cert,
    })


def identification_kind(kind: int) -> x509.Extension:
    """identificationKind (1.2.643.100.114): 0 in person, 1 by qualified certificate, 2 passport, 3 ЕСИА+ЕБС."""
    if kind not in (0, 1, 2, 3):
        raise InvalidInputError("identificationKind is 0, 1, 2 or 3")
    return _ext("identification_kind", kind)


def ocsp_no_check() -> x509.Extension:
    """id-pkix-ocsp-nocheck (RFC 6960 section 4.2.2.2.1) for a delegated OCSP responder certificate."""
    return _ext("ocsp_no_check", core.Null())


def subject_alt_email(*emails: str) -> x509.Extension:
    """subjectAltName with rfc822Name entries."""
    return _ext("subject_alt_name", [x509.GeneralName(name="rfc822_name", value=e) for e in emails])


# --------------------------------------------------------------------------------------------------------------
# Certificates and CRLs
# --------------------------------------------------------------------------------------------------------------


def build_certificate(
    *,
    subject: NameSpec,
    public_key: PublicKey,
    signing_key: PrivateKey,
    not_before: datetime,
    not_after: datetime,
    issuer: NameSpec | x509.Certificate | None = None,
    serial: int | None = None,
    extensions: Iterable[x509.Extension] = (),
    add_key_identifiers: bool = True,
) -> x509.Certificate:
    """A signed X.509 v3 certificate.

    ``issuer`` is the issuing CA's certificate (its subject becomes the issuer name and its key identifier the
    AKI), a name, or None for a self-signed certificate (issuer = subject). With ``add_key_identifiers`` an SKI
    (and an AKI when the issuer's key identifier is known: issuer certificate, or self-signed) are added unless
    ``extensions`` already has them. ``serial`` defaults to :func:`random_serial`. Returns the asn1crypto
    Certificate; ``.dump()`` gives the DER.
    """
    subject_name = build_name(subject)
    if not isinstance(signing_key, PrivateKey):
        raise InvalidTypeError("signing_key must be a signagent.gost.PrivateKey")
    spki = public_key_info(public_key)
    issuer_key_id: bytes | None = None
    if issuer is None:
        issuer_name = subject_name
        issuer_key_id = key_identifier(signing_key.public_key())
    elif isinstance(issuer, x509.Certificate):
        issuer_name = issuer.subject
        issuer_key_id = issuer.key_identifier or key_identifier(issuer.public_key)
    else:
        issuer_name = build_name(issuer)
    start, end = _utc(not_before, "not_before"), _utc(not_after, "not_after")
    if end < start:
        raise InvalidInputError("not_after is before not_before")
    if serial is None:
        serial = random_serial()
    if not isinstance(serial, int) or serial <= 0 or serial.bit_length() > 159:
        raise InvalidInputError("the serial number must be a positive integer of at most 20 bytes")

    ext_list = list(extensions)
    present = {e["extn_id"].native for e in ext_list}
    if add_key_identifiers:
        if "key_identifier" not in present:
            ext_list.append(subject_key_identifier(spki))
        if issuer_key_id is not None and "authority_key_identifier" not in present:
            ext_list.append(authority_key_identifier(issuer_key_id))

    tbs = x509.TbsCertificate({
        "version": "v3",
        "serial_number": serial,
        "signature": _signature_algorithm(signing_key),
        "issuer": issuer_name,
        "validity": {"not_before": _time(start, "not_before"), "not_after": _time(end, "not_after")},
        "subject": subject_name,
        "subject_public_key_info": spki,
        "extensions": ext_list or None,
    })
    if not ext_list:
        del tbs["extensions"]
    return x509.Certificate.load(_signed(tbs.dump(), signing_key))


def _reason(reason: str | int | None) -> str | None:
    if reason is None:
        return None
    if isinstance(reason, int) and reason in crl.CRLReason._map:
        return crl.CRLReason._map[reason]
    if isinstance(reason, str) and reason in crl.CRLReason._map.values():
        return reason
    raise InvalidInputError(f"unknown revocation reason {reason!r} (RFC 5280 section 5.3.1)")


def build_crl(
    *,
    issuer: x509.Certificate,
    signing_key: PrivateKey,
    revoked: Iterable[tuple[int, datetime, str | int | None]] = (),
    this_update: datetime,
    next_update: datetime,
    crl_number: int,
) -> crl.CertificateList:
    """A signed v2 CRL (RFC 5280 section 5) of ``issuer`` with AKI and cRLNumber.

    ``revoked`` holds ``(serial, revocation date, reason)``; the reason is an asn1crypto CRLReason name
    (``key_compromise``, ``superseded``...), its number, or None for no reasonCode entry extension.
    """
    if not isinstance(issuer, x509.Certificate):
        raise InvalidTypeError("issuer must be an asn1crypto Certificate")
    if not isinstance(crl_number, int) or crl_number < 0:
        raise InvalidInputError("crl_number must be a non-negative integer")
    entries = []
    for serial, when, reason in revoked:
        entry: dict[str, object] = {"user_certificate": serial, "revocation_date": _time(when, "revocation date")}
        name = _reason(reason)
        if name is not None:
            entry["crl_entry_extensions"] = [{"extn_id": "crl_reason", "critical": False, "extn_value": name}]
        entries.append(entry)
    key_id = issuer.key_identifier or key_identifier(issuer.public_key)
    tbs = crl.TbsCertList({
        "version": "v2",
        "signature": _signature_algorithm(signing_key),
        "issuer": issuer.subject,
        "this_update": _time(this_update, "this_update"),
        "next_update": _time(next_update, "next_update"),
        "crl_extensions": [
            {"extn_id": "authority_key_identifier", "critical": False, "extn_value": {"key_identifier": key_id}},
            {"extn_id": "crl_number", "critical": False, "extn_value": crl_number},
        ],
    })
    if entries:  # an empty list must be absent, not an empty SEQUENCE (RFC 5280 section 5.1.2.6)
        tbs["revoked_certificates"] = entries
    return crl.CertificateList.load(_signed(tbs.dump(), signing_key))
