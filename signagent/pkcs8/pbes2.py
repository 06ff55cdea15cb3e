"""Password-based encryption of PKCS#8 private keys: PBES2 (RFC 8018 section 6.2) as OpenSSL writes it.

Schemes read (what ``openssl pkcs8 -topk8`` / ``openssl genpkey -pass`` with the GOST engine produce):

* key derivation PBKDF2 (RFC 8018 section 5.2) with the PRF hmacWithSHA1/224/256/384/512 (OpenSSL's default is
  hmacWithSHA256) or HMAC-Streebog-512 (id-tc26-hmac-gost-3411-12-512, 1.2.643.7.1.1.4.2; R 50.1.111-2016), which
  the engine picks itself for ``-v2 gost89``;
* cipher AES-128/192/256-CBC (RFC 8018 appendix B.2.5; OpenSSL's default is AES-256-CBC) through the
  ``cryptography`` package (a dependency of pyhanko-certvalidator; the standard library has no AES), or
  GOST 28147-89 in CFB mode with the TC 26 "Z" S-box (1.2.643.2.2.21 with Gost28147-89-Parameters
  {iv, 1.2.643.7.1.2.5.1.1}, RFC 4357 section 10.1 / R 1323565.1.012-2017) through :mod:`signagent.gost.magma`.

Every other scheme (PBES1, Kuznyechik/Magma CTR-ACPKM, 3DES, the CryptoPro S-boxes of GOST 28147-89...) raises
:class:`UnsupportedKeyEncryptionError` naming it. A wrong password is reported as :class:`InvalidPasswordError`:
CFB has no padding to check, so the caller decides by parsing the plaintext (see :func:`decrypt`).

Written form (:func:`encrypt`): PBKDF2 with HMAC-Streebog-512 and GOST 28147-89 CFB (Z), byte for byte the layout
of ``openssl pkcs8 -topk8 -v2 gost89``, so that OpenSSL's GOST engine reads it and no non-GOST algorithm protects
a GOST key.

Hostile files: every size the parameters declare is bounded before any work is done (RFC 8018 puts no upper limit
on them). The iteration count may be at most :data:`MAX_ITERATIONS` (KdfIterationsError, checked before any
derivation: a file declaring 10,000,000 rounds used to cost 95 s before "wrong password"), the salt at most
:data:`MAX_SALT_BYTES`, a declared key length must be the cipher's, and no declared integer is ever put into a
message with ``str()`` (it may have 20,000 digits).

Exports: decrypt, encrypt, describe, InvalidPasswordError, UnsupportedKeyEncryptionError, DEFAULT_ITERATIONS,
MAX_ITERATIONS, MAX_SALT_BYTES.
"""

from __future__ import annotations

import hashlib
import secrets

from asn1crypto import algos, core, keys

from ..asn1 import oids
from ..asn1.integers import int_text
from ..errors import InputTooLargeError, InvalidInputError, KdfIterationsError, UnknownAlgorithmError
from ..gost import pbkdf2_streebog512
from ..gost.magma import gost28147_cfb_decrypt, gost28147_cfb_encrypt

__all__ = [
    "DEFAULT_ITERATIONS",
    "MAX_ITERATIONS",
    "MAX_SALT_BYTES",
    "InvalidPasswordError",
    "UnsupportedKeyEncryptionError",
    "decrypt",
    "describe",
    "encrypt",
]

#: PBKDF2 rounds written by :func:`encrypt`: about 0.4 s here with the native Streebog (OpenSSL writes 2048).
DEFAULT_ITERATIONS = 50_000
#: The most PBKDF2 rounds a key file may ask for (read or written): 100 times OpenSSL's 2,048 and 4 times our own
#: default, yet a hostile file costs at most ~2 s of derivation before "wrong password" (10,000,000 cost 95 s).
MAX_ITERATIONS = 200_000
#: RFC 8018 section 4.1 asks for at least 8 salt bytes; OpenSSL writes 8 or 16. Anything above 1 KiB is not a salt.
MAX_SALT_BYTES = 1024

_PBES2 = oids.PBES2
_PBKDF2 = oids.PBKDF2
_HMAC_STREEBOG512 = oids.HMAC_STREEBOG512  # RFC 9215 / R 50.1.113-2016
_GOST28147 = oids.GOST28147  # id-Gost28147-89, RFC 4357 section 10.1
_GOST28147_PARAM_Z = oids.GOST28147_PARAM_Z  # id-tc26-gost-28147-param-Z

# asn1crypto's names for the PRFs hashlib can do (HmacAlgorithmId) -> hashlib names.
_HASHLIB_PRFS = {"sha1": "sha1", "sha224": "sha224", "sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}
_AES_CBC = {"aes128_cbc": 16, "aes192_cbc": 24, "aes256_cbc": 32}

# Names for the refusal messages (OIDs OpenSSL's engine can write but this module does not read).
_KNOWN_UNSUPPORTED = {
    oids.MAGMA_CTR_ACPKM: "Magma CTR-ACPKM",
    oids.MAGMA_CTR_ACPKM_OMAC: "Magma CTR-ACPKM-OMAC",
    oids.KUZNYECHIK_CTR_ACPKM: "Kuznyechik CTR-ACPKM",
    oids.KUZNYECHIK_CTR_ACPKM_OMAC: "Kuznyechik CTR-ACPKM-OMAC",
    oids.HMAC_STREEBOG256: "HMAC-Streebog-256",
}


class InvalidPasswordError(InvalidInputError):
    """The password does not decrypt the key file (or the file is damaged: PBES2 cannot tell the two apart)."""

    code = "invalid_password"


class UnsupportedKeyEncryptionError(UnknownAlgorithmError):
    """The key file is encrypted with a scheme this reader does not implement."""

    code = "unsupported_key_encryption"


class _Gost28147Parameters(core.Sequence):
    """Gost28147-89-Parameters ::= SEQUENCE { iv OCTET STRING (SIZE (8)), encryptionParamSet OBJECT IDENTIFIER }
    (RFC 4357 section 10.1)."""

    _fields = [("iv", core.OctetString), ("encryption_param_set", core.ObjectIdentifier)]


def _unsupported(what: str, oid: str) -> UnsupportedKeyEncryptionError:
    label = _KNOWN_UNSUPPORTED.get(oid, oid)
    return UnsupportedKeyEncryptionError(what=what, scheme=label)


def _malformed(detail: str) -> InvalidInputError:
    return InvalidInputError(situation="encrypted_key", detail=detail)


def describe(info: keys.EncryptedPrivateKeyInfo) -> str:
    """A short name of the protection scheme, e.g. ``PBES2/PBKDF2-HMAC-Streebog-512/GOST 28147-89-CFB``."""
    try:
        alg = info["encryption_algorithm"]
        if alg["algorithm"].dotted != _PBES2:
            return alg["algorithm"].native
        params = alg["parameters"]
        prf = params["key_derivation_func"]["parameters"]["prf"]["algorithm"].dotted
        cipher = params["encryption_scheme"]["algorithm"].dotted
    except (ValueError, KeyError, TypeError):
        return "unknown"
    prf_name = "HMAC-Streebog-512" if prf == _HMAC_STREEBOG512 else algos.HmacAlgorithmId.map(prf)
    cipher_name = "GOST 28147-89-CFB" if cipher == _GOST28147 else algos.EncryptionAlgorithmId.map(cipher)
    return f"PBES2/PBKDF2-{prf_name}/{_KNOWN_UNSUPPORTED.get(cipher, cipher_name)}"


def _derive(kdf: algos.KdfAlgorithm, password: bytes, key_length: int) -> bytes:
    if kdf["algorithm"].dotted != _PBKDF2:
        raise _unsupported("key derivation", kdf["algorithm"].dotted)
    params = kdf["parameters"]
    salt = params["salt"]
    if salt.name != "specified":
        raise _unsupported("PBKDF2 salt source", "otherSource")
    # Every declared size is checked before any derivation (the work must not start for a hostile file).
    iterations = params["iteration_count"].native
    if iterations < 1:
        raise _malformed(f"PBKDF2 iteration count {int_text(iterations)} is not positive")
    if iterations > MAX_ITERATIONS:
        raise KdfIterationsError(iterations=int_text(iterations), limit=f"{MAX_ITERATIONS:,}",
                                 limit_ru=MAX_ITERATIONS)
    salt_bytes = salt.chosen.native
    if len(salt_bytes) > MAX_SALT_BYTES:
        raise InputTooLargeError(situation="salt", size=len(salt_bytes), limit=MAX_SALT_BYTES)
    declared = params["key_length"].native
    if declared is not None and declared != key_length:
        raise _malformed(f"PBKDF2 key length {int_text(declared)} does not fit the cipher ({key_length} bytes)")
    prf = params["prf"]["algorithm"]
    if prf.dotted == _HMAC_STREEBOG512:
        return pbkdf2_streebog512(password, salt_bytes, iterations, key_length)
    hash_name = _HASHLIB_PRFS.get(prf.native)
    if hash_name is None:
        raise _unsupported("PBKDF2 PRF", prf.dotted)
    return hashlib.pbkdf2_hmac(hash_name, password, salt_bytes, iterations, key_length)


def _aes_cbc_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    try:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    except ImportError:  # pragma: no cover - cryptography comes with pyhanko-certvalidator
        raise _unsupported("cipher (the 'cryptography' package for AES is not installed)", "AES-CBC") from None
    if len(iv) != 16 or not data or len(data) % 16:
        raise _malformed("AES-CBC needs a 16-byte IV and whole 16-byte blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    # RFC 8018 section 6.1.1 step 4 / RFC 5652 padding: 1..16 bytes each equal to the pad length. A bad pad is
    # the usual sign of a wrong password.
    pad = padded[-1]
    if not 1 <= pad <= 16 or padded[-pad:] != bytes([pad]) * pad:
        raise InvalidPasswordError()
    return padded[:-pad]


def decrypt(info: keys.EncryptedPrivateKeyInfo, password: bytes) -> bytes:
    """The plaintext (a DER PrivateKeyInfo, unchecked) of an EncryptedPrivateKeyInfo.

    Raises :class:`UnsupportedKeyEncryptionError` for a scheme outside the list above, :class:`InvalidPasswordError`
    when the padding shows a wrong password (AES-CBC), and InvalidInputError for malformed parameters. With GOST
    28147-89 CFB a wrong password yields garbage: the caller parses it and reports :class:`InvalidPasswordError`.
    """
    try:
        alg = info["encryption_algorithm"]
        if alg["algorithm"].dotted != _PBES2:
            raise _unsupported("scheme", alg["algorithm"].native)
        params = alg["parameters"]
        scheme = params["encryption_scheme"]
        cipher = scheme["algorithm"].dotted
        data = info["encrypted_data"].native
        if cipher == _GOST28147:
            gost_params = _Gost28147Parameters.load(scheme["parameters"].dump())
            param_set = gost_params["encryption_param_set"].dotted
            if param_set != _GOST28147_PARAM_Z:
                raise _unsupported("GOST 28147-89 parameter set", param_set)
            iv = gost_params["iv"].native
            if len(iv) != 8:
                raise _malformed("the GOST 28147-89 IV is not 8 bytes")
            key = _derive(params["key_derivation_func"], password, 32)
            return gost28147_cfb_decrypt(key, iv, data)
        key_length = _AES_CBC.get(scheme["algorithm"].native)
        if key_length is None:
            raise _unsupported("cipher", cipher)
        iv = scheme["parameters"].native
        if not isinstance(iv, bytes):
            raise _malformed("the AES-CBC IV is missing")
        key = _derive(params["key_derivation_func"], password, key_length)
        return _aes_cbc_decrypt(key, iv, data)
    except (ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, InvalidInputError):
            raise
        raise _malformed(" ".join(str(exc).split()) or type(exc).__name__) from None


def encrypt(plaintext: bytes, password: bytes, *, iterations: int | None = None) -> bytes:
    """DER EncryptedPrivateKeyInfo: PBES2, PBKDF2-HMAC-Streebog-512 (8-byte random salt, 32-byte key), GOST
    28147-89 CFB with the Z S-box and a random 8-byte IV -- the layout of ``openssl pkcs8 -topk8 -v2 gost89``.

    ``iterations`` defaults to :data:`DEFAULT_ITERATIONS` (read at call time).
    """
    if iterations is None:
        iterations = DEFAULT_ITERATIONS
    # Never write what decrypt() would refuse to read.
    if not isinstance(iterations, int) or isinstance(iterations, bool) or not 1 <= iterations <= MAX_ITERATIONS:
        raise InvalidInputError(situation="iterations", limit=MAX_ITERATIONS)
    if not password:
        raise InvalidInputError(situation="empty_password")
    salt = secrets.token_bytes(8)
    iv = secrets.token_bytes(8)
    key = pbkdf2_streebog512(password, salt, iterations, 32)
    algorithm = algos.EncryptionAlgorithm({
        "algorithm": "pbes2",
        "parameters": algos.Pbes2Params({
            "key_derivation_func": {
                "algorithm": "pbkdf2",
                "parameters": {
                    "salt": algos.Pbkdf2Salt(name="specified", value=salt),
                    "iteration_count": iterations,
                    "prf": {"algorithm": _HMAC_STREEBOG512, "parameters": core.Null()},
                },
            },
            "encryption_scheme": {
                "algorithm": _GOST28147,
                "parameters": _Gost28147Parameters({"iv": iv, "encryption_param_set": _GOST28147_PARAM_Z}),
            },
        }),
    })
    return keys.EncryptedPrivateKeyInfo({
        "encryption_algorithm": algorithm,
        "encrypted_data": gost28147_cfb_encrypt(key, iv, plaintext),
    }).dump()
