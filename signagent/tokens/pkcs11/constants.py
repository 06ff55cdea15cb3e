"""PKCS#11 numbers signagent uses: PKCS#11 v2.40 (pkcs11t.h) and the TC 26 vendor extensions for GOST R 34.10-2012.

The TC 26 numbers (base 0xD4321000, "NSSCK_VENDOR_PKCS11_RU_TEAM") are those of OpenSC's pkcs11.h and the
Rutoken/JaCarta SDKs: 512-bit keys, their key-pair generation and the hash-and-sign mechanisms have no number in
PKCS#11 v2.40 itself (which names only CKK_GOSTR3410 and CKM_GOSTR3410*, section 2.50).

Exports: the CKO_/CKC_/CKK_/CKA_/CKM_/CKF_/CKU_/CKS_/CKR_ values below, CKR_GONE, padded_text.
"""

from __future__ import annotations

VENDOR_TC26 = 0xD4321000

# Object classes (CK_OBJECT_CLASS) and certificate types.
CKO_CERTIFICATE = 1
CKO_PUBLIC_KEY = 2
CKO_PRIVATE_KEY = 3
CKC_X_509 = 0

# Key types: 256-bit GOST R 34.10 keys share v2.40's CKK_GOSTR3410; 512-bit ones are a TC 26 extension.
CKK_GOSTR3410 = 0x30
CKK_GOSTR3410_512 = VENDOR_TC26 | 0x003

# Attributes.
CKA_CLASS = 0x000
CKA_TOKEN = 0x001
CKA_PRIVATE = 0x002
CKA_LABEL = 0x003
CKA_VALUE = 0x011
CKA_CERTIFICATE_TYPE = 0x080
CKA_ISSUER = 0x081
CKA_SERIAL_NUMBER = 0x082
CKA_KEY_TYPE = 0x100
CKA_SUBJECT = 0x101
CKA_ID = 0x102
CKA_SENSITIVE = 0x103
CKA_SIGN = 0x108
CKA_VERIFY = 0x10A
CKA_EXTRACTABLE = 0x162
CKA_GOSTR3410_PARAMS = 0x250
CKA_GOSTR3411_PARAMS = 0x251

# Mechanisms: CKM_GOSTR3410 signs a ready 32-byte digest (v2.40 section 2.50.4); the _WITH_GOSTR3411_12_* ones
# hash on the token first.
CKM_GOSTR3410_KEY_PAIR_GEN = 0x1200
CKM_GOSTR3410 = 0x1201
CKM_GOSTR3410_512_KEY_PAIR_GEN = VENDOR_TC26 | 0x005
CKM_GOSTR3410_512 = VENDOR_TC26 | 0x006
CKM_GOSTR3410_WITH_GOSTR3411_12_256 = VENDOR_TC26 | 0x008
CKM_GOSTR3410_WITH_GOSTR3411_12_512 = VENDOR_TC26 | 0x009

# Session and token flags, user types, session states.
CKF_RW_SESSION = 0x2
CKF_USER_PIN_COUNT_LOW = 0x10000
CKF_USER_PIN_FINAL_TRY = 0x20000
CKF_USER_PIN_LOCKED = 0x40000
CKU_USER = 1
CKS_RO_USER_FUNCTIONS = 1
CKS_RW_USER_FUNCTIONS = 3

# Return values the backend acts on itself (every other one goes through signagent.tokens.errors.error_for_ckr).
CKR_SLOT_ID_INVALID = 0x03
CKR_DEVICE_REMOVED = 0x32
CKR_SESSION_CLOSED = 0xB0
CKR_SESSION_HANDLE_INVALID = 0xB3
CKR_TOKEN_NOT_PRESENT = 0xE0
CKR_USER_ALREADY_LOGGED_IN = 0x100
CKR_USER_NOT_LOGGED_IN = 0x101

#: The return values saying the token (or the session on it) went away: they become ``token_removed``.
CKR_GONE = frozenset({CKR_TOKEN_NOT_PRESENT, CKR_SLOT_ID_INVALID, CKR_DEVICE_REMOVED, CKR_SESSION_CLOSED,
                      CKR_SESSION_HANDLE_INVALID})


def padded_text(raw: object) -> str:
    """A fixed-width CK_UTF8CHAR field of CK_INFO / CK_TOKEN_INFO as text: PKCS#11 v2.40 pads these with blanks
    (some modules with NULs), which are dropped; undecodable bytes are replaced, never fatal."""
    return bytes(raw).decode("utf-8", "replace").rstrip(" \x00")  # type: ignore[call-overload]
