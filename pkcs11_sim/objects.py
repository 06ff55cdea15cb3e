"""PKCS#11 objects the simulator holds: data objects, X.509 certificates and GOST R 34.10-2012 key pairs.

:func:`build` completes and checks a creation template (PKCS#11 v2.40 section 4: common, storage, certificate and
key attributes with their defaults) and splits off the values kept sealed (a private key's CKA_VALUE).
:func:`check_modifiable` says which attributes C_SetAttributeValue may change.

GOST keys (PKCS#11 v2.40 current mechanisms, GOST R 34.10 key objects, and the TC 26 extensions): CKA_VALUE of a
public key is X || Y, each coordinate little-endian (64 or 128 bytes -- the content of the SubjectPublicKeyInfo
OCTET STRING, what OpenSC's pkcs11-tool expects); of a private key d little-endian (32 or 64 bytes).
CKA_GOSTR3410_PARAMS is the DER OID of the curve, CKA_GOSTR3411_PARAMS the DER OID of the Streebog variant.
"""

from __future__ import annotations

from signagent.errors import SignAgentError
from signagent.gost import Curve, PrivateKey, PublicKey, curve

from . import constants as C
from .attributes import FALSE, TRUE, as_bool, as_int, oid_der, oid_dotted, ulong
from .errors import CkrError

STREEBOG256_OID = "1.2.643.7.1.1.2.2"
STREEBOG512_OID = "1.2.643.7.1.1.2.3"

KEY_TYPE_SIZE = {C.CKK_GOSTR3410: 32, C.CKK_GOSTR3410_512: 64}

# Set by the token, never by the caller (PKCS#11 v2.40 table 10 footnotes 2 and 4).
READ_ONLY_ON_CREATE = frozenset({
    C.CKA_LOCAL, C.CKA_ALWAYS_SENSITIVE, C.CKA_NEVER_EXTRACTABLE, C.CKA_KEY_GEN_MECHANISM,
})
# Attributes C_SetAttributeValue may change (within the rules of check_modifiable).
_CHANGEABLE = frozenset({
    C.CKA_LABEL, C.CKA_ID, C.CKA_SUBJECT, C.CKA_START_DATE, C.CKA_END_DATE, C.CKA_APPLICATION, C.CKA_OBJECT_ID,
    C.CKA_SIGN, C.CKA_VERIFY, C.CKA_DERIVE, C.CKA_ENCRYPT, C.CKA_DECRYPT, C.CKA_WRAP, C.CKA_UNWRAP,
    C.CKA_SIGN_RECOVER, C.CKA_VERIFY_RECOVER, C.CKA_SENSITIVE, C.CKA_EXTRACTABLE, C.CKA_ISSUER,
    C.CKA_SERIAL_NUMBER, C.CKA_URL, C.CKA_CERTIFICATE_CATEGORY,
})

_COMMON = {C.CKA_CLASS: None, C.CKA_TOKEN: FALSE, C.CKA_MODIFIABLE: TRUE, C.CKA_LABEL: b"",
           C.CKA_COPYABLE: TRUE, C.CKA_DESTROYABLE: TRUE}
_DATA = {C.CKA_PRIVATE: FALSE, C.CKA_APPLICATION: b"", C.CKA_OBJECT_ID: b"", C.CKA_VALUE: b""}
_CERT = {
    C.CKA_PRIVATE: FALSE, C.CKA_CERTIFICATE_TYPE: ulong(C.CKC_X_509), C.CKA_TRUSTED: FALSE,
    C.CKA_CERTIFICATE_CATEGORY: ulong(0), C.CKA_CHECK_VALUE: b"", C.CKA_START_DATE: b"", C.CKA_END_DATE: b"",
    C.CKA_SUBJECT: b"", C.CKA_ID: b"", C.CKA_ISSUER: b"", C.CKA_SERIAL_NUMBER: b"", C.CKA_VALUE: None,
    C.CKA_URL: b"", C.CKA_HASH_OF_SUBJECT_PUBLIC_KEY: b"", C.CKA_HASH_OF_ISSUER_PUBLIC_KEY: b"",
    C.CKA_JAVA_MIDP_SECURITY_DOMAIN: ulong(0),
}
_KEY = {
    C.CKA_KEY_TYPE: None, C.CKA_ID: b"", C.CKA_START_DATE: b"", C.CKA_END_DATE: b"", C.CKA_DERIVE: FALSE,
    C.CKA_LOCAL: FALSE, C.CKA_KEY_GEN_MECHANISM: ulong(C.CK_UNAVAILABLE_INFORMATION), C.CKA_SUBJECT: b"",
    C.CKA_GOSTR3410_PARAMS: None, C.CKA_GOSTR3411_PARAMS: b"", C.CKA_VALUE: None,
}
_PUBLIC = {
    C.CKA_PRIVATE: FALSE, C.CKA_ENCRYPT: FALSE, C.CKA_VERIFY: TRUE, C.CKA_VERIFY_RECOVER: FALSE, C.CKA_WRAP: FALSE,
    C.CKA_TRUSTED: FALSE,
}
_PRIVATE = {
    C.CKA_PRIVATE: TRUE, C.CKA_SENSITIVE: TRUE, C.CKA_DECRYPT: FALSE, C.CKA_SIGN: TRUE, C.CKA_SIGN_RECOVER: FALSE,
    C.CKA_UNWRAP: FALSE, C.CKA_EXTRACTABLE: FALSE, C.CKA_ALWAYS_SENSITIVE: FALSE, C.CKA_NEVER_EXTRACTABLE: FALSE,
    C.CKA_WRAP_WITH_TRUSTED: FALSE, C.CKA_ALWAYS_AUTHENTICATE: FALSE,
}

SCHEMAS = {
    C.CKO_DATA: {**_COMMON, **_DATA},
    C.CKO_CERTIFICATE: {**_COMMON, **_CERT},
    C.CKO_PUBLIC_KEY: {**_COMMON, **_KEY, **_PUBLIC},
    C.CKO_PRIVATE_KEY: {**_COMMON, **_KEY, **_PRIVATE},
}


def key_curve(attrs: dict[int, bytes]) -> Curve:
    """The curve named by CKA_GOSTR3410_PARAMS, consistent with CKA_KEY_TYPE (CKR_ATTRIBUTE_VALUE_INVALID /
    CKR_TEMPLATE_INCONSISTENT)."""
    params = attrs.get(C.CKA_GOSTR3410_PARAMS)
    if params is None:
        raise CkrError(C.CKR_TEMPLATE_INCOMPLETE, "CKA_GOSTR3410_PARAMS is required")
    try:
        found = curve(oid_dotted(params))
    except SignAgentError:
        raise CkrError(C.CKR_ATTRIBUTE_VALUE_INVALID, "unknown GOST R 34.10 parameter set") from None
    key_type = attrs.get(C.CKA_KEY_TYPE)
    if key_type is not None and KEY_TYPE_SIZE.get(as_int(key_type)) != found.size:
        raise CkrError(C.CKR_TEMPLATE_INCONSISTENT, "the key type does not match the curve size")
    return found


def default_hash_params(size: int) -> bytes:
    """CKA_GOSTR3411_PARAMS for a key of this size: Streebog-256 for 256-bit keys, Streebog-512 for 512-bit."""
    return oid_der(STREEBOG256_OID if size == 32 else STREEBOG512_OID)


def _check_hash_params(value: bytes, size: int) -> None:
    if value and oid_dotted(value) not in (STREEBOG256_OID, STREEBOG512_OID):
        raise CkrError(C.CKR_ATTRIBUTE_VALUE_INVALID, "CKA_GOSTR3411_PARAMS must name Streebog")


def _fill_certificate(attrs: dict[int, bytes]) -> None:
    """CKA_SUBJECT / CKA_ISSUER / CKA_SERIAL_NUMBER from the certificate itself when the caller left them out."""
    if as_int(attrs[C.CKA_CERTIFICATE_TYPE]) != C.CKC_X_509:
        raise CkrError(C.CKR_ATTRIBUTE_VALUE_INVALID, "only X.509 certificates are supported")
    if attrs[C.CKA_SUBJECT] and attrs[C.CKA_ISSUER] and attrs[C.CKA_SERIAL_NUMBER]:
        return
    try:
        from asn1crypto import x509

        cert = x509.Certificate.load(attrs[C.CKA_VALUE])
        tbs = cert["tbs_certificate"]
        subject, issuer, serial = tbs["subject"].dump(), tbs["issuer"].dump(), tbs["serial_number"].dump()
    except (ValueError, TypeError, KeyError):
        raise CkrError(C.CKR_ATTRIBUTE_VALUE_INVALID, "CKA_VALUE is not a DER X.509 certificate") from None
    for attr, value in ((C.CKA_SUBJECT, subject), (C.CKA_ISSUER, issuer), (C.CKA_SERIAL_NUMBER, serial)):
        if not attrs[attr]:
            attrs[attr] = value


def build(template: dict[int, bytes], *, generated: bool = False) -> tuple[dict[int, bytes], dict[int, bytes]]:
    """Complete a parsed creation template: (clear attributes, attributes to seal).

    CKR_TEMPLATE_INCOMPLETE for a missing required attribute, CKR_TEMPLATE_INCONSISTENT for one that does not
    belong to the class, CKR_ATTRIBUTE_READ_ONLY for one only the token sets, CKR_ATTRIBUTE_VALUE_INVALID for a bad
    value (unsupported class or key type, a key that is not on its curve...). ``generated`` marks key-pair
    generation (CKA_LOCAL and the "always/never" attributes are then the token's).
    """
    cls_value = template.get(C.CKA_CLASS)
    if cls_value is None:
        raise CkrError(C.CKR_TEMPLATE_INCOMPLETE, "CKA_CLASS is required")
    cls = as_int(cls_value)
    schema = SCHEMAS.get(cls)
    if schema is None:
        raise CkrError(C.CKR_ATTRIBUTE_VALUE_INVALID, f"object class {cls} is not supported")
    if not generated:
        for attr in template:
            if attr in READ_ONLY_ON_CREATE:
                raise CkrError(C.CKR_ATTRIBUTE_READ_ONLY, f"attribute 0x{attr:X} is set by the token")
    for attr in template:
        if attr not in schema:
            raise CkrError(C.CKR_TEMPLATE_INCONSISTENT, f"attribute 0x{attr:X} does not belong to class {cls}")
    attrs: dict[int, bytes] = {}
    for attr, default in schema.items():
        value = template.get(attr, default)
        if value is None:
            raise CkrError(C.CKR_TEMPLATE_INCOMPLETE, f"attribute 0x{attr:X} is required")
        attrs[attr] = value
    secrets: dict[int, bytes] = {}
    if cls == C.CKO_CERTIFICATE:
        _fill_certificate(attrs)
    elif cls in (C.CKO_PUBLIC_KEY, C.CKO_PRIVATE_KEY):
        if as_int(attrs[C.CKA_KEY_TYPE]) not in KEY_TYPE_SIZE:
            raise CkrError(C.CKR_ATTRIBUTE_VALUE_INVALID, "only GOST R 34.10-2012 keys are supported")
        found = key_curve(attrs)
        if not attrs[C.CKA_GOSTR3411_PARAMS]:
            attrs[C.CKA_GOSTR3411_PARAMS] = default_hash_params(found.size)
        _check_hash_params(attrs[C.CKA_GOSTR3411_PARAMS], found.size)
        value = attrs[C.CKA_VALUE]
        try:
            if cls == C.CKO_PUBLIC_KEY:
                PublicKey.from_bytes(found, value)
            else:
                if len(value) < found.size:  # d little-endian: missing high-order zero bytes go at the end
                    value = value + bytes(found.size - len(value))
                PrivateKey.from_bytes(found, value)
        except SignAgentError:
            raise CkrError(C.CKR_ATTRIBUTE_VALUE_INVALID, "CKA_VALUE is not a valid key for this curve") from None
        if cls == C.CKO_PRIVATE_KEY:
            secrets[C.CKA_VALUE] = value
            del attrs[C.CKA_VALUE]
            if not generated:
                attrs[C.CKA_ALWAYS_SENSITIVE] = FALSE
                attrs[C.CKA_NEVER_EXTRACTABLE] = FALSE
    return attrs, secrets


def check_modifiable(attrs: dict[int, bytes], changes: dict[int, bytes], has_secret: set[int]) -> None:
    """C_SetAttributeValue rules: CKR_ACTION_PROHIBITED for an unmodifiable object, CKR_ATTRIBUTE_TYPE_INVALID for
    an attribute the object lacks, CKR_ATTRIBUTE_READ_ONLY for one that cannot change (CKA_SENSITIVE only to
    true, CKA_EXTRACTABLE only to false)."""
    if not as_bool(attrs.get(C.CKA_MODIFIABLE), True):
        raise CkrError(C.CKR_ACTION_PROHIBITED, "the object is not modifiable")
    for attr, value in changes.items():
        if attr not in attrs and attr not in has_secret:
            raise CkrError(C.CKR_ATTRIBUTE_TYPE_INVALID, f"the object has no attribute 0x{attr:X}")
        data_value = attr == C.CKA_VALUE and as_int(attrs[C.CKA_CLASS]) == C.CKO_DATA
        if attr not in _CHANGEABLE and not data_value:
            raise CkrError(C.CKR_ATTRIBUTE_READ_ONLY, f"attribute 0x{attr:X} cannot be changed")
        if attr == C.CKA_SENSITIVE and as_bool(attrs[attr]) and not as_bool(value):
            raise CkrError(C.CKR_ATTRIBUTE_READ_ONLY, "CKA_SENSITIVE cannot be turned off")
        if attr == C.CKA_EXTRACTABLE and not as_bool(attrs[attr]) and as_bool(value):
            raise CkrError(C.CKR_ATTRIBUTE_READ_ONLY, "CKA_EXTRACTABLE cannot be turned on")
