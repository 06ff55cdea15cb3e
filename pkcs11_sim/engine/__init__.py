"""The simulator's PKCS#11 v2.40 semantics: the object the loadable module's C glue calls, one per process.

Every method takes and returns plain Python values (ints, bytes, str, lists, dicts, tuples) and raises
:class:`~pkcs11_sim.errors.CkrError` with the exact CK_RV for every failure; the glue turns any other exception into
CKR_GENERAL_ERROR. Strings in info dicts are unpadded; the glue blank-pads them to the PKCS#11 field widths
(32 for labels and manufacturer/description ids, 16 for model, serial and utc_time); versions are (major, minor).
A method call holds the engine's RLock, so the engine is safe to call from any number of threads.

The engine is one class composed of one part per concern of the standard: :mod:`.core` (process state,
general-purpose functions), :mod:`.sessions` (5.6), :mod:`.slots` (5.5), :mod:`.objects` (5.7),
:mod:`.operations`, :mod:`.digests` (5.10), :mod:`.signatures` (5.11, 5.12), :mod:`.keygen` (5.14, 5.15); the
mechanism table is :mod:`.mechanisms` and the per-process records :mod:`.records`.

What lives where:

* tokens, PINs, counters, token objects, presence and fault settings: the token store (:mod:`pkcs11_sim.store`),
  re-read at every call so other processes' changes are seen;
* sessions, login state, session objects, active operations and object handles: this process only, as on a real
  token (PKCS#11 v2.40 section 5.6: login state is per application).

Removal: a session remembers the token's presence epoch at C_OpenSession; when the token was removed (or removed
and inserted again) the session's next call fails with CKR_DEVICE_REMOVED and the session is gone afterwards
(CKR_SESSION_HANDLE_INVALID). Slot-level calls on an absent token answer CKR_TOKEN_NOT_PRESENT.

Fault injection (``pkcs11-sim fault``): the latency and "fail the next N operations with CKR x" apply to the calls
that do token work -- C_OpenSession, C_InitToken, C_InitPIN, C_SetPIN, C_Login, object management, C_FindObjectsInit,
the Init / single / Update / Final calls of digest, sign and verify, C_GenerateKeyPair, C_GenerateRandom -- and
not to info calls, slot lists, C_CloseSession or C_FindObjects, so a faulty token stays visible.

Mechanisms: GOST R 34.10-2012 key-pair generation (256 and 512), signing a digest (CKM_GOSTR3410 /
CKM_GOSTR3410_512: the input is the 32/64-byte Streebog output exactly as a hash function returns it), hash and
sign (CKM_GOSTR3410_WITH_GOSTR3411_12_256/512, single and multi-part) and Streebog digests. Signatures are
s || r, each half big-endian -- the PKCS#11 v2.40 form for GOST R 34.10 mechanisms, the same bytes as
:meth:`signagent.gost.PrivateKey.sign_digest` and what OpenSC's pkcs11-tool passes on unchanged.
"""

from __future__ import annotations

from .digests import Digesting
from .keygen import KeyGeneration
from .signatures import Signing
from .slots import Slots

__all__ = ["Engine"]


class Engine(Slots, Digesting, Signing, KeyGeneration):
    """PKCS#11 semantics over the simulator's token store. Construct once; the glue calls its methods."""
