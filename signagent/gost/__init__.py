"""GOST cryptographic core: Streebog (GOST R 34.11-2012), GOST R 34.10-2012 signatures, legacy verification.

The public names of DESIGN.md section 3:

* :func:`streebog256`, :func:`streebog512` -- hashlib-style Streebog objects (``update``, ``digest``,
  ``hexdigest``, ``copy``, ``name``, ``digest_size``, ``block_size``); :func:`new` by name.
* :func:`curve` -- every TC26 and CryptoPro parameter set by name, alias or OID; :class:`Curve`, :func:`all_curves`.
* :class:`PrivateKey` (``generate``, ``from_bytes`` with d little-endian, ``public_key``, ``sign_digest`` giving
  s||r big-endian) and :class:`PublicKey` (``from_bytes`` with X||Y little-endian, ``verify_digest``).
* :func:`hmac_streebog256`, :func:`hmac_streebog512` (RFC 7836), :func:`pbkdf2_streebog512` (R 50.1.111-2016).
* :func:`gost341194` -- GOST R 34.11-94 (CryptoPro parameters), for verifying legacy GOST R 34.10-2001
  signatures with :meth:`PublicKey.verify_digest`.

The arithmetic runs in a C core; ``SIGNAGENT_PURE=1`` selects the pure-Python reference instead
(:func:`backend_name` tells which). This package imports only the standard library, its own C extensions and
:mod:`signagent.errors`.
"""

from __future__ import annotations

from ._backend import BACKEND_NAME
from .curves import Curve, all_curves, curve
from .gost341194 import gost341194
from .hmac_streebog import hmac_streebog256, hmac_streebog512
from .keys import PrivateKey, PublicKey
from .pbkdf2 import pbkdf2_streebog512
from .streebog import new, streebog256, streebog512

__all__ = [
    "Curve",
    "PrivateKey",
    "PublicKey",
    "all_curves",
    "backend_name",
    "curve",
    "gost341194",
    "hmac_streebog256",
    "hmac_streebog512",
    "new",
    "pbkdf2_streebog512",
    "streebog256",
    "streebog512",
]


def backend_name() -> str:
    """``"native"`` when the C core is in use, ``"pure"`` for the pure-Python reference."""
    return BACKEND_NAME
