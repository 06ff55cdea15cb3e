"""PKCS#11 backend over PyKCS11: vendor modules, their tokens, certificates, GOST R 34.10-2012 keys and signing.

One module per noun of the standard:

* :mod:`.discovery` -- where modules are installed (per system) and ``$SIGNAGENT_PKCS11_MODULES``;
* :mod:`.module` -- :class:`Pkcs11Module`, one loaded module and the tokens in its slots;
* :mod:`.token` -- :class:`Pkcs11Token`, one token: certificates, key pairs, key generation, import, deletion;
* :mod:`.session` -- the token's session: presence check, one cached read-write session, login per operation;
* :mod:`.signer` -- signing with GOST R 34.10-2012 mechanisms, straight to the key a listing found;
* :mod:`.guards` -- locale, garbage collector and slot locks around module code in this process;
* :mod:`.constants` -- the PKCS#11 v2.40 and TC 26 numbers; :mod:`.binding` -- PyKCS11 itself (optional).

Exports: Pkcs11Module, Pkcs11Token, discover_modules, default_module_paths, load_modules, MODULES_ENV, and the
CKM_/CKK_/CKA_ numbers of the GOST mechanisms used here.
"""

from __future__ import annotations

from .constants import (
    CKA_GOSTR3410_PARAMS,
    CKA_GOSTR3411_PARAMS,
    CKK_GOSTR3410,
    CKK_GOSTR3410_512,
    CKM_GOSTR3410,
    CKM_GOSTR3410_512,
    CKM_GOSTR3410_512_KEY_PAIR_GEN,
    CKM_GOSTR3410_KEY_PAIR_GEN,
    CKM_GOSTR3410_WITH_GOSTR3411_12_256,
    CKM_GOSTR3410_WITH_GOSTR3411_12_512,
)
from .discovery import MODULES_ENV, default_module_paths, discover_modules
from .module import Pkcs11Module, load_modules
from .token import Pkcs11Token

__all__ = [
    "CKA_GOSTR3410_PARAMS",
    "CKA_GOSTR3411_PARAMS",
    "CKK_GOSTR3410",
    "CKK_GOSTR3410_512",
    "CKM_GOSTR3410",
    "CKM_GOSTR3410_512",
    "CKM_GOSTR3410_512_KEY_PAIR_GEN",
    "CKM_GOSTR3410_KEY_PAIR_GEN",
    "CKM_GOSTR3410_WITH_GOSTR3411_12_256",
    "CKM_GOSTR3410_WITH_GOSTR3411_12_512",
    "MODULES_ENV",
    "Pkcs11Module",
    "Pkcs11Token",
    "default_module_paths",
    "discover_modules",
    "load_modules",
]
