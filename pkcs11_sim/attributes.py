"""PKCS#11 attribute values as the simulator stores them: raw bytes in the C layout, typed by attribute.

The engine receives templates as ``(type, bytes)`` pairs exactly as the C caller laid them out: CK_BBOOL is one
byte, CK_ULONG is ``ULONG_SIZE`` bytes in the platform's byte order, everything else a byte array. Stored values
are normalised (booleans become 0/1) so that templates compare by bytes in C_FindObjects.
"""

from __future__ import annotations

import struct

from asn1crypto import core

from . import constants as C
from .errors import CkrError

TRUE = b"\x01"
FALSE = b"\x00"

BOOL_ATTRS = frozenset({
    C.CKA_TOKEN, C.CKA_PRIVATE, C.CKA_TRUSTED, C.CKA_SENSITIVE, C.CKA_ENCRYPT, C.CKA_DECRYPT, C.CKA_WRAP,
    C.CKA_UNWRAP, C.CKA_SIGN, C.CKA_SIGN_RECOVER, C.CKA_VERIFY, C.CKA_VERIFY_RECOVER, C.CKA_DERIVE,
    C.CKA_EXTRACTABLE, C.CKA_LOCAL, C.CKA_NEVER_EXTRACTABLE, C.CKA_ALWAYS_SENSITIVE, C.CKA_MODIFIABLE,
    C.CKA_COPYABLE, C.CKA_DESTROYABLE, C.CKA_ALWAYS_AUTHENTICATE, C.CKA_WRAP_WITH_TRUSTED,
})
ULONG_ATTRS = frozenset({
    C.CKA_CLASS, C.CKA_KEY_TYPE, C.CKA_CERTIFICATE_TYPE, C.CKA_CERTIFICATE_CATEGORY, C.CKA_KEY_GEN_MECHANISM,
    C.CKA_JAVA_MIDP_SECURITY_DOMAIN,
})
BYTES_ATTRS = frozenset({
    C.CKA_LABEL, C.CKA_APPLICATION, C.CKA_VALUE, C.CKA_OBJECT_ID, C.CKA_ISSUER, C.CKA_SERIAL_NUMBER, C.CKA_URL,
    C.CKA_HASH_OF_SUBJECT_PUBLIC_KEY, C.CKA_HASH_OF_ISSUER_PUBLIC_KEY, C.CKA_CHECK_VALUE, C.CKA_SUBJECT, C.CKA_ID,
    C.CKA_START_DATE, C.CKA_END_DATE, C.CKA_PUBLIC_KEY_INFO, C.CKA_GOSTR3410_PARAMS, C.CKA_GOSTR3411_PARAMS,
    C.CKA_GOST28147_PARAMS,
})
KNOWN_ATTRS = BOOL_ATTRS | ULONG_ATTRS | BYTES_ATTRS

_ULONG = struct.Struct("@L")  # native size and byte order, as the C caller lays a CK_ULONG out


def ulong(value: int) -> bytes:
    """A CK_ULONG in the platform's layout."""
    return _ULONG.pack(value & C.CK_UNAVAILABLE_INFORMATION)


def as_int(value: bytes) -> int:
    """The integer in a stored CK_ULONG value."""
    return _ULONG.unpack(value)[0]


def as_bool(value: bytes | None, default: bool = False) -> bool:
    """The truth of a stored CK_BBOOL (``default`` when absent)."""
    if value is None:
        return default
    return value != FALSE


def boolean(flag: bool) -> bytes:
    """A CK_BBOOL value."""
    return TRUE if flag else FALSE


def normalize(attr: int, value: bytes) -> bytes:
    """Check one template value against its type; CKR_ATTRIBUTE_TYPE_INVALID / CKR_ATTRIBUTE_VALUE_INVALID."""
    if not isinstance(value, bytes | bytearray | memoryview):
        raise CkrError(C.CKR_ATTRIBUTE_VALUE_INVALID, f"attribute 0x{attr:X} value is not bytes")
    value = bytes(value)
    if attr in BOOL_ATTRS:
        if len(value) != 1:
            raise CkrError(C.CKR_ATTRIBUTE_VALUE_INVALID, f"attribute 0x{attr:X} is a CK_BBOOL (1 byte)")
        return boolean(value != FALSE)
    if attr in ULONG_ATTRS:
        if len(value) != C.ULONG_SIZE:
            raise CkrError(C.CKR_ATTRIBUTE_VALUE_INVALID, f"attribute 0x{attr:X} is a CK_ULONG")
        return value
    if attr in BYTES_ATTRS:
        return value
    raise CkrError(C.CKR_ATTRIBUTE_TYPE_INVALID, f"attribute type 0x{attr:X} is not supported")


def parse_template(template: list[tuple[int, bytes]]) -> dict[int, bytes]:
    """A creation template as a dict; the same type twice with different values is CKR_TEMPLATE_INCONSISTENT."""
    out: dict[int, bytes] = {}
    for attr, value in template:
        attr = int(attr)
        norm = normalize(attr, value)
        if attr in out and out[attr] != norm:
            raise CkrError(C.CKR_TEMPLATE_INCONSISTENT, f"attribute 0x{attr:X} given twice")
        out[attr] = norm
    return out


def match_value(attr: int, value: bytes) -> bytes | None:
    """A search-template value in stored form, or None when it can never match (wrong size, unknown type)."""
    try:
        return normalize(attr, value)
    except CkrError:
        return None


def oid_der(dotted: str) -> bytes:
    """DER of an OBJECT IDENTIFIER (the form of CKA_GOSTR3410_PARAMS / CKA_GOSTR3411_PARAMS)."""
    return core.ObjectIdentifier(dotted).dump()


def oid_dotted(der: bytes) -> str:
    """The dotted OID in a DER OBJECT IDENTIFIER; CKR_ATTRIBUTE_VALUE_INVALID when it is not one."""
    try:
        parsed = core.ObjectIdentifier.load(bytes(der), strict=True)
        return parsed.dotted
    except (ValueError, TypeError, OverflowError):
        raise CkrError(C.CKR_ATTRIBUTE_VALUE_INVALID, "not a DER OBJECT IDENTIFIER") from None
