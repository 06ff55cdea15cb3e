"""OpenSSL 3 with the GOST engine as an independent oracle, in-process (ctypes) and through the ``openssl`` CLI.

In-process: libcrypto.so.3 is loaded with ctypes -- the very library that Python's ``hashlib``/``ssl`` already
initialised, which is fine: the engine is loaded explicitly through the "dynamic" engine (SO_PATH = the engine's
file in ENGINESDIR, then LOAD), or reused when an OPENSSL_CONF already loaded it (the engine binds only once per
process), then initialised and registered as the default implementation of the algorithms it provides (only
GOST ones, so nothing else in the process changes). No OPENSSL_CONF is needed.

Parameter sets: the engine loads, signs and verifies on all 14 sets of :data:`PARAMSETS` (TC 26 256-bit A-D,
512-bit A-C and the 512-bit test set; CryptoPro A/B/C, XchA/XchB and the 2001 test set) and generates keys on
all of them; each was checked here by keygen, sign and verify, and its curve constants are readable through
:meth:`Key.curve_params`.

What it offers:

* :func:`available` / :func:`reason` -- whether the oracle works here, and why not;
* :func:`digest` and :class:`Digest` (streaming) for ``md_gost12_256``, ``md_gost12_512`` and ``md_gost94``;
* :class:`Key` (owns an ``EVP_PKEY``): :func:`generate`, :func:`private_key`, :func:`public_key`; raw export
  (:meth:`Key.public_bytes` = X||Y little-endian, :meth:`Key.private_bytes` = d little-endian) and DER/PEM;
* :func:`sign_digest` / :func:`verify_digest` through ``EVP_PKEY_sign``/``EVP_PKEY_verify`` on a pre-computed
  hash: the engine reads the digest bytes as a little-endian number alpha (e = alpha mod q, GOST R 34.10-2012
  clause 6.1; checked on the standard's example A.1, see tests/vectors/README.md) and writes the signature as
  s||r, big-endian halves (RFC 4491 section 2.2.2), i.e. exactly the project's conventions; :class:`Signer` /
  :class:`Verifier` keep one context for many operations (benchmarks);
* :func:`pkcs8_der` / :func:`spki_der` / :func:`pem` -- the key encodings the engine reads and writes, assembled
  here from raw bytes (RFC 9215 section 4 / RFC 4491 section 2.3);
* :func:`run_cli` -- the ``openssl`` command with a generated configuration that loads the engine.

Every object allocated in libcrypto is freed (finalizers on the Python wrappers, ``try/finally`` elsewhere) so
that benchmark loops do not leak. The OpenSSL error queue is cleared after each failed call so that errors left
behind never surface later in ``hashlib``/``ssl``.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import re
import shutil
import subprocess
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from tests import der

__all__ = [
    "DIGESTS",
    "PARAMSETS",
    "Digest",
    "Key",
    "OracleError",
    "ParamSet",
    "Signer",
    "Verifier",
    "available",
    "digest",
    "engine_path",
    "generate",
    "openssl_binary",
    "paramset",
    "pem",
    "pkcs8_der",
    "private_key",
    "public_key",
    "reason",
    "run_cli",
    "sign_digest",
    "spki_der",
    "verify_digest",
]


class OracleError(RuntimeError):
    """The oracle itself failed (engine missing, OpenSSL refused a call): never a verdict on signagent."""


# --------------------------------------------------------------------------------------------------------------
# Parameter sets the engine knows (its gost_params.c tables; each was checked by keygen + sign + verify here).
# OIDs: RFC 7836 / R 1323565.1.024-2019 (TC 26), RFC 4357 section 11.4 (CryptoPro), RFC 7091 section 7 (test).
# --------------------------------------------------------------------------------------------------------------

KEY_OID_256 = "1.2.643.7.1.1.1.1"  # id-tc26-gost3410-12-256, RFC 9215 section 3.1
KEY_OID_512 = "1.2.643.7.1.1.1.2"  # id-tc26-gost3410-12-512
DIGEST_OID_256 = "1.2.643.7.1.1.2.2"  # id-tc26-gost3411-12-256
DIGEST_OID_512 = "1.2.643.7.1.1.2.3"  # id-tc26-gost3411-12-512


class ParamSet(NamedTuple):
    """One curve parameter set as the engine handles it.

    ``name``/``oid``: the set; ``size``: key length in bytes (32 or 64); ``digest_oid``: the digestParamSet the
    engine writes into the key's AlgorithmIdentifier parameters (None: omitted) -- the engine writes the Streebog
    OID for the curves that predate TC 26's 2012 sets (RFC 9215 section 4.1 allows both forms, and the engine
    reads both); ``code``: the engine's ``paramset`` control value for key generation (``-pkeyopt paramset:X``;
    its control resolves an OID only for the sets of its own older tables, so the short codes are used);
    ``test``: a test-only curve of the standards' examples.
    """

    name: str
    oid: str
    size: int
    digest_oid: str | None
    code: str
    test: bool = False

    @property
    def key_oid(self) -> str:
        """The public-key algorithm OID that goes with this curve size (GOST R 34.10-2012 256 or 512)."""
        return KEY_OID_256 if self.size == 32 else KEY_OID_512


_D256, _D512 = DIGEST_OID_256, DIGEST_OID_512

PARAMSETS: tuple[ParamSet, ...] = (
    ParamSet("id-GostR3410-2001-TestParamSet", "1.2.643.2.2.35.0", 32, _D256, "0", test=True),
    ParamSet("id-GostR3410-2001-CryptoPro-A-ParamSet", "1.2.643.2.2.35.1", 32, _D256, "A"),
    ParamSet("id-GostR3410-2001-CryptoPro-B-ParamSet", "1.2.643.2.2.35.2", 32, _D256, "B"),
    ParamSet("id-GostR3410-2001-CryptoPro-C-ParamSet", "1.2.643.2.2.35.3", 32, _D256, "C"),
    ParamSet("id-GostR3410-2001-CryptoPro-XchA-ParamSet", "1.2.643.2.2.36.0", 32, _D256, "XA"),
    ParamSet("id-GostR3410-2001-CryptoPro-XchB-ParamSet", "1.2.643.2.2.36.1", 32, _D256, "XB"),
    ParamSet("id-tc26-gost-3410-2012-256-paramSetA", "1.2.643.7.1.2.1.1.1", 32, None, "TCA"),
    ParamSet("id-tc26-gost-3410-2012-256-paramSetB", "1.2.643.7.1.2.1.1.2", 32, None, "TCB"),
    ParamSet("id-tc26-gost-3410-2012-256-paramSetC", "1.2.643.7.1.2.1.1.3", 32, None, "TCC"),
    ParamSet("id-tc26-gost-3410-2012-256-paramSetD", "1.2.643.7.1.2.1.1.4", 32, None, "TCD"),
    ParamSet("id-tc26-gost-3410-2012-512-paramSetTest", "1.2.643.7.1.2.1.2.0", 64, _D512, "1.2.643.7.1.2.1.2.0",
             test=True),
    ParamSet("id-tc26-gost-3410-2012-512-paramSetA", "1.2.643.7.1.2.1.2.1", 64, _D512, "A"),
    ParamSet("id-tc26-gost-3410-2012-512-paramSetB", "1.2.643.7.1.2.1.2.2", 64, _D512, "B"),
    ParamSet("id-tc26-gost-3410-2012-512-paramSetC", "1.2.643.7.1.2.1.2.3", 64, None, "C"),
)

_BY_KEY = {p.oid: p for p in PARAMSETS} | {p.name: p for p in PARAMSETS}

#: Digest names the engine registers, with their output size in bytes.
DIGESTS: dict[str, int] = {"md_gost12_256": 32, "md_gost12_512": 64, "md_gost94": 32}


def paramset(name_or_oid: str) -> ParamSet:
    """The :class:`ParamSet` for a name or dotted OID of :data:`PARAMSETS`."""
    try:
        return _BY_KEY[name_or_oid]
    except KeyError:
        raise OracleError(f"parameter set not known to the GOST engine: {name_or_oid}") from None


# --------------------------------------------------------------------------------------------------------------
# Minimal DER (X.690) for the two key structures; enough to assemble and take apart what the engine uses.
# --------------------------------------------------------------------------------------------------------------


def _algorithm(ps: ParamSet) -> bytes:
    params = der.oid(ps.oid) + (der.oid(ps.digest_oid) if ps.digest_oid else b"")
    return der.tlv(0x30, der.oid(ps.key_oid) + der.tlv(0x30, params))


def pkcs8_der(ps: ParamSet | str, d_le: bytes) -> bytes:
    """PKCS#8 PrivateKeyInfo (RFC 5208 section 5) in the engine's layout: privateKey = OCTET STRING(d little-endian)."""
    ps = paramset(ps) if isinstance(ps, str) else ps
    if len(d_le) != ps.size:
        raise OracleError(f"private key must be {ps.size} bytes")
    return der.tlv(0x30, der.tlv(0x02, b"\x00") + _algorithm(ps) + der.tlv(0x04, bytes(d_le)))


def spki_der(ps: ParamSet | str, xy_le: bytes) -> bytes:
    """SubjectPublicKeyInfo: BIT STRING holding OCTET STRING(X||Y, each little-endian) -- RFC 4491 section 2.3.2."""
    ps = paramset(ps) if isinstance(ps, str) else ps
    if len(xy_le) != 2 * ps.size:
        raise OracleError(f"public key must be {2 * ps.size} bytes")
    return der.tlv(0x30, _algorithm(ps) + der.tlv(0x03, b"\x00" + der.tlv(0x04, bytes(xy_le))))


def pem(der: bytes, label: str) -> bytes:
    """PEM armour (RFC 7468) with ``label`` such as "PRIVATE KEY" or "PUBLIC KEY"."""
    import base64

    b64 = base64.b64encode(der).decode("ascii")
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return (f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n").encode("ascii")


def _raw_private_from_pkcs8(encoded: bytes) -> bytes:
    """d little-endian from a PKCS#8 the engine wrote (plain, inner OCTET STRING or INTEGER forms)."""
    _, body, _ = der.read(encoded, 0)
    items = der.children(body)
    value = items[2][1]
    if value and value[0] in (0x04, 0x02):  # wrapped forms: OCTET STRING(d LE) or INTEGER(d BE)
        tag, inner, end = der.read(value, 0)
        if end == len(value):
            return inner if tag == 0x04 else int.from_bytes(inner, "big").to_bytes(len(inner), "little")
    return value


def _raw_public_from_spki(encoded: bytes) -> bytes:
    _, body, _ = der.read(encoded, 0)
    bits = der.children(body)[1][1]
    _, xy, _ = der.read(bits, 1)  # skip the unused-bits octet of the BIT STRING
    return xy


# --------------------------------------------------------------------------------------------------------------
# libcrypto + engine loading
# --------------------------------------------------------------------------------------------------------------

_VP = ctypes.c_void_p
_INT = ctypes.c_int
_SZ = ctypes.c_size_t
_CP = ctypes.c_char_p
_OPENSSL_ENGINES_DIR = 5  # OpenSSL_version() selector, <openssl/crypto.h>
_ENGINE_METHOD_ALL = 0xFFFF  # <openssl/engine.h>

_SIGNATURES: dict[str, tuple[object, list[object]]] = {
    "OpenSSL_version": (_CP, [_INT]),
    "ERR_clear_error": (None, []),
    "ERR_peek_last_error": (ctypes.c_ulong, []),
    "ERR_error_string_n": (None, [ctypes.c_ulong, _CP, _SZ]),
    "ENGINE_by_id": (_VP, [_CP]),
    "ENGINE_ctrl_cmd_string": (_INT, [_VP, _CP, _CP, _INT]),
    "ENGINE_init": (_INT, [_VP]),
    "ENGINE_set_default": (_INT, [_VP, ctypes.c_uint]),
    "ENGINE_free": (_INT, [_VP]),
    "ENGINE_get_first": (_VP, []),
    "ENGINE_get_next": (_VP, [_VP]),
    "ENGINE_get_id": (_CP, [_VP]),
    "OBJ_txt2nid": (_INT, [_CP]),
    "EVP_get_digestbyname": (_VP, [_CP]),
    "EVP_MD_CTX_new": (_VP, []),
    "EVP_MD_CTX_free": (None, [_VP]),
    "EVP_MD_CTX_copy_ex": (_INT, [_VP, _VP]),
    "EVP_DigestInit_ex": (_INT, [_VP, _VP, _VP]),
    "EVP_DigestUpdate": (_INT, [_VP, _VP, _SZ]),
    "EVP_DigestFinal_ex": (_INT, [_VP, _CP, ctypes.POINTER(ctypes.c_uint)]),
    "EVP_PKEY_free": (None, [_VP]),
    "EVP_PKEY_CTX_new": (_VP, [_VP, _VP]),
    "EVP_PKEY_CTX_new_id": (_VP, [_INT, _VP]),
    "EVP_PKEY_CTX_free": (None, [_VP]),
    "EVP_PKEY_CTX_ctrl_str": (_INT, [_VP, _CP, _CP]),
    "EVP_PKEY_keygen_init": (_INT, [_VP]),
    "EVP_PKEY_keygen": (_INT, [_VP, ctypes.POINTER(_VP)]),
    "EVP_PKEY_sign_init": (_INT, [_VP]),
    "EVP_PKEY_sign": (_INT, [_VP, _CP, ctypes.POINTER(_SZ), _CP, _SZ]),
    "EVP_PKEY_verify_init": (_INT, [_VP]),
    "EVP_PKEY_verify": (_INT, [_VP, _CP, _SZ, _CP, _SZ]),
    "EVP_PKEY_get0": (_VP, [_VP]),
    "EC_KEY_get0_group": (_VP, [_VP]),
    "EC_GROUP_get_curve": (_INT, [_VP, _VP, _VP, _VP, _VP]),
    "EC_GROUP_get0_order": (_VP, [_VP]),
    "EC_GROUP_get0_generator": (_VP, [_VP]),
    "EC_POINT_get_affine_coordinates": (_INT, [_VP, _VP, _VP, _VP, _VP]),
    "BN_new": (_VP, []),
    "BN_free": (None, [_VP]),
    "BN_bn2binpad": (_INT, [_VP, _CP, _INT]),
    "d2i_AutoPrivateKey": (_VP, [_VP, ctypes.POINTER(_VP), ctypes.c_long]),
    "d2i_PUBKEY": (_VP, [_VP, ctypes.POINTER(_VP), ctypes.c_long]),
    "i2d_PUBKEY": (_INT, [_VP, ctypes.POINTER(_VP)]),
    "i2d_PrivateKey": (_INT, [_VP, ctypes.POINTER(_VP)]),
}


@dataclass
class _State:
    lib: ctypes.CDLL | None = None
    engine: int | None = None
    error: str = ""
    engine_file: str = ""


_state: _State | None = None


def _engines_dir(lib: ctypes.CDLL) -> str:
    # $OPENSSL_ENGINES overrides the built-in directory, as in OpenSSL's own ENGINE_by_id fallback.
    env = os.environ.get("OPENSSL_ENGINES")
    if env:
        return env
    text = (lib.OpenSSL_version(_OPENSSL_ENGINES_DIR) or b"").decode()
    match = re.search(r'"([^"]*)"', text)
    if not match:
        raise OracleError(f"cannot tell OpenSSL's ENGINESDIR from {text!r}")
    return match.group(1)


def _last_error(lib: ctypes.CDLL) -> str:
    # The last error is the engine's own; earlier ones are often left by provider decoders tried first.
    code = lib.ERR_peek_last_error()
    lib.ERR_clear_error()
    if not code:
        return "no OpenSSL error recorded"
    buf = ctypes.create_string_buffer(256)
    lib.ERR_error_string_n(code, buf, len(buf))
    return buf.value.decode(errors="replace")


def _find_loaded(lib: ctypes.CDLL) -> int | None:
    """The engine when something (an OPENSSL_CONF with an engines section) already loaded it in this process.

    A second dynamic load of gost.so would fail: the engine binds its methods only once per process.
    """
    engine = lib.ENGINE_get_first()
    while engine:
        if lib.ENGINE_get_id(engine) == b"gost":
            return engine  # keeps the structural reference ENGINE_get_first/next handed over
        engine = lib.ENGINE_get_next(engine)  # releases the reference to the previous one
    return None


def _load_dynamic(lib: ctypes.CDLL, so_path: str, state: _State) -> int | None:
    """Load ``so_path`` through OpenSSL's "dynamic" engine; on failure record why in ``state``."""
    engine = lib.ENGINE_by_id(b"dynamic")
    if not engine:
        state.error = f"ENGINE_by_id(dynamic) failed: {_last_error(lib)}"
        return None
    # LIST_ADD=1: add to the engine list (so lookups by NID find its methods); LOAD binds the shared object.
    commands = ((b"SO_PATH", so_path.encode()), (b"ID", b"gost"), (b"LIST_ADD", b"1"), (b"LOAD", None))
    for cmd, arg in commands:
        if lib.ENGINE_ctrl_cmd_string(engine, cmd, arg, 0) != 1:
            state.error = f"loading {so_path}: {cmd.decode()} failed: {_last_error(lib)}"
            lib.ENGINE_free(engine)
            return None
    return engine


def _load() -> _State:
    state = _State()
    try:
        # The soname of OpenSSL 3: the same library object hashlib/ssl use when they link OpenSSL 3.
        lib = ctypes.CDLL("libcrypto.so.3")
    except OSError as exc:
        state.error = f"libcrypto.so.3 not loadable: {exc}"
        return state
    try:
        for fname, (restype, argtypes) in _SIGNATURES.items():
            fn = getattr(lib, fname)
            fn.restype = restype
            fn.argtypes = argtypes
    except AttributeError as exc:
        state.error = f"libcrypto lacks a needed function (OpenSSL built without engines?): {exc}"
        return state
    try:
        so_path = str(Path(_engines_dir(lib)) / "gost.so")
    except OracleError as exc:
        state.error = str(exc)
        return state
    state.engine_file = so_path
    engine = _find_loaded(lib)
    if not engine:
        if not os.path.exists(so_path):
            state.error = f"GOST engine not installed ({so_path} missing; Debian: libengine-gost-openssl)"
            return state
        engine = _load_dynamic(lib, so_path, state)
        if not engine:
            return state
    if lib.ENGINE_init(engine) != 1:
        state.error = f"ENGINE_init(gost) failed: {_last_error(lib)}"
        lib.ENGINE_free(engine)
        return state
    # Default for everything it implements (only GOST algorithms): EVP_get_digestbyname, d2i of GOST keys and
    # EVP_PKEY_CTX_new then find the engine's methods without passing the ENGINE around. The functional
    # reference from ENGINE_init is kept for the life of the process on purpose.
    if lib.ENGINE_set_default(engine, _ENGINE_METHOD_ALL) != 1:
        state.error = f"ENGINE_set_default(gost) failed: {_last_error(lib)}"
        return state
    for md in DIGESTS:
        if not lib.EVP_get_digestbyname(md.encode()):
            state.error = f"engine loaded but digest {md} is not registered"
            return state
    state.lib = lib
    state.engine = engine
    return state


def _get() -> _State:
    global _state
    if _state is None:
        _state = _load()
    return _state


def _lib() -> ctypes.CDLL:
    state = _get()
    if state.lib is None:
        raise OracleError(state.error)
    return state.lib


def available() -> bool:
    """True when libcrypto and the GOST engine loaded and registered their GOST algorithms in this process."""
    return _get().lib is not None


def reason() -> str:
    """Why the oracle is not available ("" when it is)."""
    return _get().error


def engine_path() -> str:
    """Path of the engine's shared object (``<ENGINESDIR>/gost.so``), whether or not it exists."""
    return _get().engine_file


def _fail(what: str) -> OracleError:
    return OracleError(f"{what}: {_last_error(_lib())}")


# --------------------------------------------------------------------------------------------------------------
# Digests
# --------------------------------------------------------------------------------------------------------------


class Digest:
    """Streaming digest of the engine (hashlib-like: update, digest, hexdigest, copy)."""

    def __init__(self, name: str, data: bytes = b"", *, _init: bool = True) -> None:
        if name not in DIGESTS:
            raise OracleError(f"unknown digest {name}; known: {', '.join(DIGESTS)}")
        lib = _lib()
        self.name = name
        self.digest_size = DIGESTS[name]
        ctx = lib.EVP_MD_CTX_new()
        if not ctx:
            raise _fail("EVP_MD_CTX_new")
        self._ctx = ctx
        self._finalizer = weakref.finalize(self, lib.EVP_MD_CTX_free, ctx)
        if _init:  # a copy() target gets its state from EVP_MD_CTX_copy_ex instead
            md = lib.EVP_get_digestbyname(name.encode())
            if lib.EVP_DigestInit_ex(ctx, md, None) != 1:
                raise _fail(f"EVP_DigestInit_ex({name})")
        if data:
            self.update(data)

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """Feed bytes (bytes and writable buffers are passed without a copy, other views are copied)."""
        if isinstance(data, bytes):
            self.update_range(data, 0, len(data))
            return
        view = memoryview(data)
        if view.readonly or not view.c_contiguous:
            self.update_range(view.tobytes(), 0, view.nbytes)
            return
        n = view.nbytes
        if n:
            self._update_ptr(ctypes.addressof((ctypes.c_char * n).from_buffer(view)), n)

    def update_range(self, buf: bytes, start: int, length: int) -> None:
        """Feed ``buf[start:start+length]`` without copying it (for benchmarks over one big buffer)."""
        if start < 0 or length < 0 or start + length > len(buf):
            raise OracleError("range outside the buffer")
        base = ctypes.cast(ctypes.c_char_p(buf), _VP).value or 0
        self._update_ptr(base + start, length)

    def _update_ptr(self, ptr: int | None, n: int) -> None:
        if n and _lib().EVP_DigestUpdate(self._ctx, ptr, n) != 1:
            raise _fail("EVP_DigestUpdate")

    def copy(self) -> Digest:
        """An independent copy of the current state."""
        other = Digest(self.name, _init=False)
        if _lib().EVP_MD_CTX_copy_ex(other._ctx, self._ctx) != 1:
            raise _fail("EVP_MD_CTX_copy_ex")
        return other

    def digest(self) -> bytes:
        """The digest of everything fed so far (the object stays usable)."""
        tmp = self.copy()
        out = ctypes.create_string_buffer(64)
        n = ctypes.c_uint(0)
        if _lib().EVP_DigestFinal_ex(tmp._ctx, out, ctypes.byref(n)) != 1:
            raise _fail("EVP_DigestFinal_ex")
        return out.raw[: n.value]

    def hexdigest(self) -> str:
        """:meth:`digest` in lower-case hex."""
        return self.digest().hex()


def digest(name: str, data: bytes) -> bytes:
    """One-shot digest: ``md_gost12_256``, ``md_gost12_512`` (Streebog, output as the engine writes it) or
    ``md_gost94`` (GOST R 34.11-94 with the CryptoPro S-boxes of RFC 4357 section 11.2)."""
    return Digest(name, data).digest()


# --------------------------------------------------------------------------------------------------------------
# Keys, signatures
# --------------------------------------------------------------------------------------------------------------


class Key:
    """An ``EVP_PKEY`` of the engine (private or public-only), freed when the wrapper goes away."""

    def __init__(self, ptr: int, ps: ParamSet, has_private: bool) -> None:
        self._ptr = ptr
        self.paramset = ps
        self.has_private = has_private
        self._finalizer = weakref.finalize(self, _lib().EVP_PKEY_free, ptr)

    @property
    def size(self) -> int:
        """Half the signature length / the private key length in bytes (32 or 64)."""
        return self.paramset.size

    def _i2d(self, fn_name: str) -> bytes:
        lib = _lib()
        fn = getattr(lib, fn_name)
        n = fn(self._ptr, None)
        if n <= 0:
            raise _fail(fn_name)
        buf = ctypes.create_string_buffer(n)
        cursor = _VP(ctypes.addressof(buf))  # i2d_* advance the pointer it is given, writing into our buffer
        if fn(self._ptr, ctypes.byref(cursor)) != n:
            raise _fail(fn_name)
        return buf.raw

    def public_der(self) -> bytes:
        """SubjectPublicKeyInfo DER written by the engine."""
        return self._i2d("i2d_PUBKEY")

    def private_der(self) -> bytes:
        """PKCS#8 PrivateKeyInfo DER written by the engine."""
        if not self.has_private:
            raise OracleError("public-only key")
        return self._i2d("i2d_PrivateKey")

    def public_bytes(self) -> bytes:
        """X||Y, each little-endian (the SPKI OCTET STRING content)."""
        return _raw_public_from_spki(self.public_der())

    def private_bytes(self) -> bytes:
        """d little-endian (the PKCS#8 privateKey content)."""
        return _raw_private_from_pkcs8(self.private_der())

    def public_key(self) -> Key:
        """A public-only copy (through the engine's own SPKI)."""
        return public_key(self.paramset, self.public_bytes())

    def curve_params(self) -> dict[str, int]:
        """The engine's own constants of this key's curve: p, a, b, q and the base point x, y (Weierstrass form).

        The engine keeps GOST keys as EC_KEYs, so EVP_PKEY_get0 + EC_GROUP accessors reach its tables.
        """
        lib = _lib()
        ec_key = lib.EVP_PKEY_get0(self._ptr)
        group = lib.EC_KEY_get0_group(ec_key) if ec_key else None
        if not group:
            raise _fail("EC group of the key")
        bns = [lib.BN_new() for _ in range(5)]  # p, a, b, x, y
        try:
            if not all(bns):
                raise _fail("BN_new")
            p, a, b, x, y = bns
            if lib.EC_GROUP_get_curve(group, p, a, b, None) != 1:
                raise _fail("EC_GROUP_get_curve")
            if lib.EC_POINT_get_affine_coordinates(group, lib.EC_GROUP_get0_generator(group), x, y, None) != 1:
                raise _fail("EC_POINT_get_affine_coordinates")
            values = [*bns[:3], lib.EC_GROUP_get0_order(group), x, y]
            out = {}
            for name, bn in zip(("p", "a", "b", "q", "x", "y"), values, strict=True):
                buf = ctypes.create_string_buffer(self.size)
                if lib.BN_bn2binpad(bn, buf, self.size) != self.size:
                    raise _fail("BN_bn2binpad")
                out[name] = int.from_bytes(buf.raw, "big")
            return out
        finally:
            for bn in bns:
                if bn:
                    lib.BN_free(bn)


def d2i(fn_name: str, der: bytes) -> int:
    """The object pointer OpenSSL's ``fn_name`` (a ``d2i_*`` function whose prototype is declared) decodes from
    ``der``; OracleError when it cannot."""
    lib = _lib()
    buf = ctypes.create_string_buffer(der, len(der))
    cursor = _VP(ctypes.addressof(buf))
    ptr = getattr(lib, fn_name)(None, ctypes.byref(cursor), len(der))
    if not ptr:
        raise _fail(fn_name)
    lib.ERR_clear_error()  # OpenSSL 3 tries its provider decoders first and leaves their errors behind
    return ptr


def private_key(ps: ParamSet | str, d_le: bytes) -> Key:
    """The engine's key for private scalar ``d`` (little-endian bytes) on parameter set ``ps``."""
    ps = paramset(ps) if isinstance(ps, str) else ps
    return Key(d2i("d2i_AutoPrivateKey", pkcs8_der(ps, d_le)), ps, True)


def public_key(ps: ParamSet | str, xy_le: bytes) -> Key:
    """The engine's public key for point X||Y (each little-endian)."""
    ps = paramset(ps) if isinstance(ps, str) else ps
    return Key(d2i("d2i_PUBKEY", spki_der(ps, xy_le)), ps, False)


def generate(ps: ParamSet | str) -> Key:
    """A fresh key pair made by the engine's key generation."""
    ps = paramset(ps) if isinstance(ps, str) else ps
    lib = _lib()
    nid = lib.OBJ_txt2nid(ps.key_oid.encode())
    ctx = lib.EVP_PKEY_CTX_new_id(nid, None)
    if not ctx:
        raise _fail("EVP_PKEY_CTX_new_id")
    try:
        if lib.EVP_PKEY_keygen_init(ctx) != 1:
            raise _fail("EVP_PKEY_keygen_init")
        if lib.EVP_PKEY_CTX_ctrl_str(ctx, b"paramset", ps.code.encode()) <= 0:
            raise _fail(f"paramset {ps.oid}")
        out = _VP(None)
        if lib.EVP_PKEY_keygen(ctx, ctypes.byref(out)) != 1 or not out.value:
            raise _fail("EVP_PKEY_keygen")
        lib.ERR_clear_error()
        return Key(out.value, ps, True)
    finally:
        lib.EVP_PKEY_CTX_free(ctx)


class Signer:
    """A reusable ``EVP_PKEY_CTX`` initialised for signing with ``key`` (one context, many signatures)."""

    def __init__(self, key: Key) -> None:
        lib = _lib()
        self._key = key  # the context refers to the EVP_PKEY: keep it alive as long as the context
        ctx = lib.EVP_PKEY_CTX_new(key._ptr, None)
        if not ctx:
            raise _fail("EVP_PKEY_CTX_new")
        self._ctx = ctx
        self._finalizer = weakref.finalize(self, lib.EVP_PKEY_CTX_free, ctx)
        if lib.EVP_PKEY_sign_init(ctx) != 1:
            raise _fail("EVP_PKEY_sign_init")
        self._out = ctypes.create_string_buffer(2 * key.size)

    def sign(self, digest_bytes: bytes) -> bytes:
        """Signature s||r (big-endian halves) of a Streebog output, with a fresh random k."""
        n = _SZ(len(self._out))
        if _lib().EVP_PKEY_sign(self._ctx, self._out, ctypes.byref(n), digest_bytes, len(digest_bytes)) != 1:
            raise _fail("EVP_PKEY_sign")
        return self._out.raw[: n.value]


class Verifier:
    """A reusable ``EVP_PKEY_CTX`` initialised for verification with ``key``."""

    def __init__(self, key: Key) -> None:
        lib = _lib()
        self._key = key
        ctx = lib.EVP_PKEY_CTX_new(key._ptr, None)
        if not ctx:
            raise _fail("EVP_PKEY_CTX_new")
        self._ctx = ctx
        self._finalizer = weakref.finalize(self, lib.EVP_PKEY_CTX_free, ctx)
        if lib.EVP_PKEY_verify_init(ctx) != 1:
            raise _fail("EVP_PKEY_verify_init")

    def verify(self, digest_bytes: bytes, signature: bytes) -> bool:
        """The engine's verdict on signature s||r (False for any malformed signature)."""
        lib = _lib()
        rc = lib.EVP_PKEY_verify(self._ctx, signature, len(signature), digest_bytes, len(digest_bytes))
        if rc != 1:
            lib.ERR_clear_error()  # a rejected signature leaves an error on the queue; drop it
        return rc == 1


def sign_digest(key: Key, digest_bytes: bytes) -> bytes:
    """Signature s||r (big-endian halves) of a Streebog output, by the engine with a fresh random k."""
    return Signer(key).sign(digest_bytes)


def verify_digest(key: Key, digest_bytes: bytes, signature: bytes) -> bool:
    """The engine's verdict on signature s||r over a Streebog output (False for any malformed signature)."""
    return Verifier(key).verify(digest_bytes, signature)


# --------------------------------------------------------------------------------------------------------------
# The openssl command line
# --------------------------------------------------------------------------------------------------------------

_cli_dir: str | None = None


def _cli_config() -> str:
    """A configuration file (in a private temp dir, removed at exit) that loads the engine for the CLI."""
    global _cli_dir
    if _cli_dir is None:
        _cli_dir = tempfile.mkdtemp(prefix="signagent-ossl-")
        atexit.register(shutil.rmtree, _cli_dir, True)
        so = engine_path() or "gost.so"
        Path(_cli_dir, "gost.cnf").write_text(
            "openssl_conf = openssl_def\n"
            "[openssl_def]\nengines = engine_section\n"
            "[engine_section]\ngost = gost_section\n"
            f"[gost_section]\nengine_id = gost\ndynamic_path = {so}\ndefault_algorithms = ALL\n"
        )
    return str(Path(_cli_dir, "gost.cnf"))


def openssl_binary() -> str | None:
    """Path of the ``openssl`` command, or None."""
    return shutil.which("openssl")


def run_cli(args: list[str], *, input: bytes | None = None, check: bool = False,
            cwd: str | os.PathLike[str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run ``openssl <args>`` with OPENSSL_CONF pointing at a generated config that loads the GOST engine."""
    binary = openssl_binary()
    if binary is None:
        raise OracleError("openssl command not found")
    env = dict(os.environ, OPENSSL_CONF=_cli_config())
    return subprocess.run([binary, *args], input=input, capture_output=True, env=env, check=check, cwd=cwd,
                          timeout=120)
