"""Choice between the native core (C extensions) and the pure-Python reference.

Both implement the same two interfaces, so the rest of ``signagent.gost`` never knows which one it uses:

Streebog (GOST R 34.11-2012) -- module ``_streebog_c`` / ``_streebog_ref``:
    ``Streebog(digest_size, data=b"")`` with ``digest_size`` 32 or 64; hashlib-style ``update(data)``,
    ``digest()``, ``hexdigest()``, ``copy()``, attributes ``name`` ("streebog256"/"streebog512"), ``digest_size``,
    ``block_size`` (64). ``data`` is any bytes-like object; anything else raises
    :class:`signagent.errors.InvalidTypeError`.

Curves (GOST R 34.10-2012) -- module ``_ec_c`` / ``_ec_ref``:
    ``CurveEngine(p, a, b, q, gx, gy)``: Weierstrass curve y^2 = x^3 + a*x + b over GF(p) with a base point of
    prime order q; every argument big-endian bytes of one common length ``size`` (32 or 64).
    ``.size``; ``.sign(d, e, k=None) -> s||r`` (big-endian halves, 2*size bytes; 0<d<q, 0<e<q; ``k=None`` draws
    the nonce from the OS CSPRNG by rejection sampling; a given k is only for known-answer tests);
    ``.verify(qx, qy, e, sig) -> bool`` (sig = s||r; every range check inside);
    ``.public_key(d) -> X||Y`` (big-endian, 2*size bytes); ``.check_point(x, y) -> bool`` (on the curve, not the
    point at infinity, q*P = O); ``.mul(k, x, y) -> X||Y or None`` (None for the point at infinity).
    Scalars (d, e, k) are big-endian ``size``-byte strings. Bad lengths or values raise errors of
    :mod:`signagent.errors`. In the native core every use of d and k is constant time.

``SIGNAGENT_PURE=1`` in the environment forces the reference. If the native core cannot be imported (not built),
the reference is used and a warning says so; ``backend_name()`` tells which one is in use.
"""

from __future__ import annotations

import os
import warnings
from types import ModuleType


def _load() -> tuple[str, ModuleType, ModuleType]:
    if os.environ.get("SIGNAGENT_PURE", "") not in ("", "0"):
        from . import _ec_ref, _streebog_ref

        return "pure", _streebog_ref, _ec_ref
    try:
        from . import _ec_c, _streebog_c
    except ImportError as exc:  # not built: stay usable, but say it loudly (it is ~1000x slower)
        warnings.warn(
            f"signagent: native GOST core not available ({exc}); using the slow pure-Python reference",
            RuntimeWarning,
            stacklevel=2,
        )
        from . import _ec_ref, _streebog_ref

        return "pure", _streebog_ref, _ec_ref
    return "native", _streebog_c, _ec_c


BACKEND_NAME, streebog_impl, ec_impl = _load()
