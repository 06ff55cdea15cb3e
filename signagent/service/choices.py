"""The names a caller chooses among (hash algorithms, key profiles, revocation modes, the default curve), in a
module that loads nothing else: the command line builds its option lists from them when it starts, before any
command has loaded the cryptography. The service modules that implement the choices accept exactly these
(tests/service/test_config.py checks that they agree).

Exports: HASH_ALGORITHMS, DEFAULT_CURVE, KEY_PROFILES, REVOCATION_MODES.
"""

from __future__ import annotations

__all__ = ["DEFAULT_CURVE", "HASH_ALGORITHMS", "KEY_PROFILES", "REVOCATION_MODES"]

#: Streebog digest sizes of ``signagent hash`` (:data:`signagent.service.hashing.ALGORITHMS`).
HASH_ALGORITHMS: tuple[str, ...] = ("streebog256", "streebog512")
#: The curve of a new key without --curve (:data:`signagent.service.keys.DEFAULT_CURVE`).
DEFAULT_CURVE = "id-tc26-gost-3410-2012-256-paramSetA"
#: Certificate request profiles (:data:`signagent.service.keys.PROFILES`).
KEY_PROFILES: tuple[str, ...] = ("employee", "head", "ip", "person")
#: Revocation checking: soft (unknown status -> valid with a warning), hard (-> indeterminate), off.
REVOCATION_MODES: tuple[str, ...] = ("soft", "hard", "off")
