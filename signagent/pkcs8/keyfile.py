"""Software GOST R 34.10-2012 private keys in PKCS#8 files (RFC 5208 / RFC 5958, RFC 9215 section 4).

Reading (:func:`load_private_key`) accepts PEM ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY") or DER, and the three
encodings of the scalar d found inside the privateKey OCTET STRING:

1. d little-endian, exactly 32/64 bytes -- what OpenSSL's GOST engine writes (and the standards' examples);
2. a DER OCTET STRING holding d little-endian (older CryptoPro-style exports);
3. a DER INTEGER d.

The curve comes from the GostR3410-2012-PublicKeyParameters of the algorithm identifier. A d >= q (some producers
do not reduce: RFC 9215 appendix A's paramSetA key is one) is reduced mod q, as OpenSSL does. Encrypted files are
PBES2 (:mod:`signagent.pkcs8.pbes2` lists the schemes). Keys of other algorithms (RSA, ECDSA...) are refused with
:class:`NotGostKeyError`.

Writing: :func:`encode_private_key` is the engine's own DER (byte-identical to ``openssl genpkey`` for the same d);
:func:`save_private_key` writes a PEM file atomically with mode 0600 and, unless told otherwise, encrypted
(PBES2 with PBKDF2-HMAC-Streebog-512 and GOST 28147-89, which OpenSSL's GOST engine reads).

Exports: load_private_key, encode_private_key, encrypt_private_key, private_key_pem, save_private_key,
KeyFileFormatError, NotGostKeyError, PasswordRequiredError, InvalidPasswordError, UnsupportedKeyEncryptionError.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from pathlib import Path

from asn1crypto import core, keys

from .. import asn1 as _asn1  # noqa: F401  (registers the GOST key algorithms with asn1crypto)
from ..asn1 import oids
from ..asn1.gost import GostPublicKeyParameters
from ..asn1.integers import int_text
from ..errors import (
    FileAccessError,
    InvalidInputError,
    InvalidKeyError,
    InvalidTypeError,
    UnknownAlgorithmError,
    UsageError,
)
from ..fileio import check_output, read_capped
from ..gost import PrivateKey, curve
from ..x509.builder import private_key_info
from . import pbes2
from .pbes2 import InvalidPasswordError, UnsupportedKeyEncryptionError

__all__ = [
    "InvalidPasswordError",
    "KeyFileFormatError",
    "NotGostKeyError",
    "PasswordRequiredError",
    "UnsupportedKeyEncryptionError",
    "encode_private_key",
    "encrypt_private_key",
    "load_private_key",
    "private_key_pem",
    "save_private_key",
]

# A key file is a few hundred bytes; refuse to slurp something huge by mistake.
_MAX_FILE = 1 << 20
_KEY_SIZES = {oids.GOST2012_256: 32, oids.GOST2012_512: 64}
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)
# PEM labels of other algorithms' private keys (OpenSSL's traditional formats), to say what the file is.
_FOREIGN_LABELS = {
    b"RSA PRIVATE KEY": "RSA",
    b"EC PRIVATE KEY": "ECDSA",
    b"DSA PRIVATE KEY": "DSA",
    b"OPENSSH PRIVATE KEY": "OpenSSH",
}


class KeyFileFormatError(InvalidInputError):
    """Bytes that are not a PKCS#8 private key in any form this reader accepts."""

    code = "key_malformed"


class NotGostKeyError(InvalidKeyError):
    """A well-formed private key of another algorithm (RSA, ECDSA, Ed25519...)."""

    code = "key_not_gost"


class PasswordRequiredError(InvalidInputError):
    """The key file is encrypted and no password was given."""

    code = "password_required"


def _one_line(exc: BaseException) -> str:
    """asn1crypto's message on one line (it appends "while parsing ..." lines), capped in length."""
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def _malformed(detail: str) -> KeyFileFormatError:
    return KeyFileFormatError(detail=detail)


def _not_gost(algorithm: str) -> NotGostKeyError:
    return NotGostKeyError(algorithm=algorithm)


# --------------------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------------------


def _read_source(source: object) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if not isinstance(source, (str, os.PathLike)):
        raise InvalidTypeError("the key source must be bytes or a path")
    return read_capped(source, _MAX_FILE, "private key", KeyFileFormatError)


def _unpem(data: bytes) -> tuple[str, bytes]:
    """("PRIVATE KEY" | "ENCRYPTED PRIVATE KEY", DER) from PEM, or ("", data) for DER input."""
    if b"-----BEGIN" not in data:
        if not data.startswith(b"\x30"):
            raise _malformed("neither PEM nor DER")
        return "", data
    blocks = [(m.group(1), m.group(2)) for m in _PEM_BLOCK.finditer(data)]
    if not blocks:
        raise _malformed("truncated PEM (no matching END line)")
    # A bundle (certificate + key, as `openssl pkcs12 -nodes` writes) is fine: take its key block.
    keyish = [b for b in blocks if b[0] in (b"PRIVATE KEY", b"ENCRYPTED PRIVATE KEY") or b[0] in _FOREIGN_LABELS]
    label, body = keyish[0] if keyish else blocks[0]
    if label in _FOREIGN_LABELS:
        raise _not_gost(_FOREIGN_LABELS[label])
    if label not in (b"PRIVATE KEY", b"ENCRYPTED PRIVATE KEY"):
        raise _malformed(f"a PEM '{label.decode('ascii', 'replace')}' block, not a private key")
    if b":" in body:  # RFC 1421 headers (Proc-Type/DEK-Info) belong to the traditional formats only
        raise _malformed("PEM headers are not allowed in PKCS#8")
    try:
        der = base64.b64decode(b"".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        raise _malformed("bad base64 in the PEM body") from None
    return label.decode(), der


def _scalar_le(content: bytes, size: int) -> bytes:
    """d little-endian (``size`` bytes) from the privateKey OCTET STRING content, in any of the three layouts."""
    if len(content) == size:
        return content  # OpenSSL's GOST engine: the raw little-endian d
    try:
        inner = core.load(content, strict=True)
    except ValueError:
        raise _malformed(f"the private key value is {len(content)} bytes, neither {size} raw bytes nor DER") from None
    if isinstance(inner, core.OctetString):
        value = inner.native
        if len(value) != size:
            raise _malformed(f"the inner OCTET STRING holds {len(value)} bytes, not {size}")
        return value
    if isinstance(inner, core.Integer):
        d = inner.native
        if not 0 < d < 1 << (8 * size):
            raise InvalidKeyError(f"the private key INTEGER does not fit {size} bytes")
        return d.to_bytes(size, "little")
    raise _malformed("the private key value is neither raw bytes, an OCTET STRING nor an INTEGER")


def _key_from_info(der: bytes) -> PrivateKey:
    """A PrivateKey from the DER of a PrivateKeyInfo (raises KeyFileFormatError / NotGostKeyError / ...)."""
    try:
        info = keys.PrivateKeyInfo.load(der, strict=True)
        version = info["version"].native
        algorithm = info["private_key_algorithm"]
        algorithm_oid = algorithm["algorithm"].dotted
        algorithm_name = algorithm["algorithm"].native
        content = info["private_key"].contents
    except (ValueError, TypeError, KeyError) as exc:
        raise _malformed(f"bad PKCS#8 structure ({_one_line(exc)})") from None
    if version not in (0, 1):  # RFC 5958: v1 = 0, v2 = 1 (OneAsymmetricKey with an optional public key)
        # int_text: the INTEGER may have 20,000 digits, and str() of it raises.
        raise _malformed(f"unknown PKCS#8 version {int_text(version)}")
    size = _KEY_SIZES.get(algorithm_oid)
    if size is None:
        if algorithm_oid == oids.GOST2001:
            raise UnknownAlgorithmError(situation="gost2001_key")
        raise _not_gost({"rsa": "RSA", "ec": "ECDSA", "dsa": "DSA"}.get(algorithm_name, algorithm_name))
    try:
        params = GostPublicKeyParameters.load(algorithm["parameters"].dump(), strict=True)
        curve_oid = params["public_key_param_set"].dotted
    except (ValueError, TypeError, KeyError):
        raise _malformed("missing or bad GostR3410-2012-PublicKeyParameters") from None
    c = curve(curve_oid)  # UnknownAlgorithmError for a parameter set we do not know
    if c.size != size:
        raise _malformed(f"the parameter set {c.name} does not fit a {8 * size}-bit key")
    # reduce_mod_q: producers that do not reduce d exist (see PrivateKey.from_bytes); OpenSSL accepts them too.
    return PrivateKey.from_bytes(c, _scalar_le(content, size), reduce_mod_q=True)


def _as_password(password: object) -> bytes | None:
    if password is None or isinstance(password, bytes):
        return password
    if isinstance(password, str):
        return password.encode("utf-8")  # what OpenSSL gets from a UTF-8 terminal or file
    if isinstance(password, (bytearray, memoryview)):
        return bytes(password)
    raise InvalidTypeError("the password must be bytes or str")


def load_private_key(source: bytes | str | os.PathLike[str], password: bytes | str | None = None) -> PrivateKey:
    """The GOST R 34.10-2012 private key in a PKCS#8 file (path) or its bytes (PEM or DER, plain or encrypted).

    Raises FileAccessError (unreadable path), KeyFileFormatError (not PKCS#8, truncated, bad layout),
    NotGostKeyError (RSA/ECDSA/... key), UnknownAlgorithmError (unknown parameter set, GOST R 34.10-2001 key),
    PasswordRequiredError (encrypted, no password), InvalidPasswordError (wrong password),
    UnsupportedKeyEncryptionError (an encryption scheme outside :mod:`signagent.pkcs8.pbes2`), InvalidKeyError
    (d = 0 mod q). A password given for an unencrypted key is ignored, as OpenSSL does.
    """
    password_bytes = _as_password(password)
    label, der = _unpem(_read_source(source))
    encrypted = label == "ENCRYPTED PRIVATE KEY" or (not label and _looks_encrypted(der))
    if not encrypted:
        return _key_from_info(der)
    try:
        info = keys.EncryptedPrivateKeyInfo.load(der, strict=True)
        info["encrypted_data"].native  # noqa: B018  (forces the lazy parse so errors surface here)
    except (ValueError, TypeError, KeyError) as exc:
        raise _malformed(f"bad EncryptedPrivateKeyInfo ({_one_line(exc)})") from None
    if password_bytes is None:
        raise PasswordRequiredError(scheme=pbes2.describe(info))
    plaintext = pbes2.decrypt(info, password_bytes)
    try:
        return _key_from_info(plaintext)
    except KeyFileFormatError:
        # CFB has no padding: a wrong password shows only as a plaintext that is not a PrivateKeyInfo.
        raise InvalidPasswordError() from None


def _looks_encrypted(der: bytes) -> bool:
    """DER input: an EncryptedPrivateKeyInfo starts with a SEQUENCE (the algorithm), a PrivateKeyInfo with an
    INTEGER (the version)."""
    try:
        outer = core.Sequence.load(der)
        first = outer.contents[:1]
    except ValueError:
        return False
    return first == b"\x30"


# --------------------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------------------


def _require_key(key: object) -> PrivateKey:
    if not isinstance(key, PrivateKey):
        raise InvalidTypeError("the key must be a signagent.gost.PrivateKey")
    return key


def encode_private_key(key: PrivateKey) -> bytes:
    """DER PrivateKeyInfo in OpenSSL's GOST layout (privateKey = OCTET STRING of d little-endian; the parameters
    as the engine writes them), byte-identical to ``openssl genpkey`` output for the same d and curve."""
    return private_key_info(_require_key(key)).dump()


def encrypt_private_key(key: PrivateKey, password: bytes | str, *,
                        iterations: int | None = None) -> bytes:
    """DER EncryptedPrivateKeyInfo of the key (PBES2, PBKDF2-HMAC-Streebog-512, GOST 28147-89 CFB, param set Z)."""
    password_bytes = _as_password(password)
    if password_bytes is None:
        raise InvalidTypeError("a password is needed to encrypt the key")
    return pbes2.encrypt(encode_private_key(key), password_bytes, iterations=iterations)


def _armor(label: str, der: bytes) -> bytes:
    """RFC 7468 text: base64 in 64-character lines, as OpenSSL writes it."""
    b64 = base64.b64encode(der).decode("ascii")
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return (f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n").encode("ascii")


def private_key_pem(key: PrivateKey, password: bytes | str | None = None, *, allow_unencrypted: bool = False,
                    iterations: int | None = None) -> bytes:
    """PEM text of the key: "ENCRYPTED PRIVATE KEY" with a password, "PRIVATE KEY" only with allow_unencrypted."""
    if password is None:
        if not allow_unencrypted:
            raise UsageError(situation="unencrypted_key")
        return _armor("PRIVATE KEY", encode_private_key(key))
    return _armor("ENCRYPTED PRIVATE KEY", encrypt_private_key(key, password, iterations=iterations))


def save_private_key(key: PrivateKey, path: str | os.PathLike[str], password: bytes | str | None = None, *,
                     allow_unencrypted: bool = False, overwrite: bool = False,
                     iterations: int | None = None) -> Path:
    """Write the key as PEM to ``path`` atomically, mode 0600; returns the path.

    Without a password the key is written only with ``allow_unencrypted=True`` (UsageError otherwise). An existing
    file is replaced only with ``overwrite=True`` (FileAccessError otherwise). The file is first written in full
    under a temporary name in the same directory, then linked/renamed into place, so a crash never leaves half a
    key behind and no other user can read it at any moment.
    """
    text = private_key_pem(key, password, allow_unencrypted=allow_unencrypted, iterations=iterations)
    target = Path(os.fspath(path))
    name = str(target)
    if target.exists() and not overwrite:
        raise FileAccessError(situation="exists", path=name)
    check_output(target)  # never rename over a device, FIFO or socket (``-o /dev/null`` as root)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(fd, 0o600)  # whatever the umask says
            os.write(fd, text)
            os.fsync(fd)
        finally:
            os.close(fd)
        if overwrite:
            os.replace(tmp, target)
        else:
            _link_new(tmp, target)
    except FileExistsError:
        tmp.unlink(missing_ok=True)
        raise FileAccessError(situation="exists", path=name) from None
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise FileAccessError(situation="cannot_write", path=name, error=exc.strerror or exc) from None
    except BaseException:  # Ctrl-C or SIGTERM turned into an exception: leave no temporary key file behind
        tmp.unlink(missing_ok=True)
        raise
    return target


def _link_new(tmp: Path, target: Path) -> None:
    """Give ``tmp`` the name ``target`` only if that name is free (FileExistsError otherwise)."""
    try:
        os.link(tmp, target)  # atomic and never clobbers: fails if the name appeared meanwhile
    except FileExistsError:
        raise
    except OSError:
        # A file system without hard links: a plain rename after the check above (a tiny race, no worse).
        if target.exists():
            raise FileExistsError(str(target)) from None
        os.replace(tmp, target)
        return
    os.unlink(tmp)
