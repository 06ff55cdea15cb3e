"""Where PKCS#11 modules are: the usual install paths of the common Russian-market modules, then configuration.

Vendors: Rutoken (``librtpkcs11ecp``), JaCarta (``libjcPKCS11-2``), ESMART (``libisbc_pkcs11_main``), SafeNet eToken
(``libeToken``) and OpenSC (``opensc-pkcs11``), on Linux, Windows and macOS. Configured modules come from
``$SIGNAGENT_PKCS11_MODULES`` (``os.pathsep``-separated, DESIGN.md section 3) and from the caller.

Exports: MODULES_ENV, default_module_paths, discover_modules.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path

__all__ = ["MODULES_ENV", "default_module_paths", "discover_modules"]

MODULES_ENV = "SIGNAGENT_PKCS11_MODULES"

# Module file names per vendor, then the directories they are installed in on each system.
_LINUX_NAMES = ("librtpkcs11ecp.so", "libjcPKCS11-2.so", "libisbc_pkcs11_main.so", "libeToken.so",
                "opensc-pkcs11.so")
_LINUX_DIRS = ("/usr/lib", "/usr/lib64", "/usr/local/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
               "/usr/lib/x86_64-linux-gnu/pkcs11", "/usr/lib/pkcs11", "/opt/aktivco/rutokenecp/amd64",
               "/opt/aktivco/rutokenecp/x86_64", "/opt/aladdin/jcpkcs11/lib", "/opt/safenet/authentication/lib",
               "/opt/esmart/lib")
_WINDOWS_NAMES = ("rtPKCS11ECP.dll", "jcPKCS11-2.dll", "isbc_pkcs11_main.dll", "eTPKCS11.dll", "opensc-pkcs11.dll")
_WINDOWS_DIRS = (r"C:\Windows\System32", r"C:\Program Files\OpenSC Project\OpenSC\pkcs11")
_MAC_PATHS = ("/Library/Aktiv Co/Rutoken ECP/lib/librtpkcs11ecp.dylib", "/usr/local/lib/librtpkcs11ecp.dylib",
              "/Library/Frameworks/jcPKCS11-2.framework/jcPKCS11-2", "/usr/local/lib/libjcPKCS11-2.dylib",
              "/usr/local/lib/libisbc_pkcs11_main.dylib", "/usr/local/lib/libeTPkcs11.dylib",
              "/Library/OpenSC/lib/opensc-pkcs11.so", "/usr/local/lib/opensc-pkcs11.so",
              "/opt/homebrew/lib/opensc-pkcs11.so")


def default_module_paths(platform: str | None = None) -> list[str]:
    """Every place a common vendor module is usually installed on ``platform`` (``sys.platform`` by default)."""
    platform = platform or sys.platform
    if platform.startswith("win"):
        return [str(Path(d) / n) for n in _WINDOWS_NAMES for d in _WINDOWS_DIRS]
    if platform == "darwin":
        return list(_MAC_PATHS)
    return [f"{d}/{n}" for n in _LINUX_NAMES for d in _LINUX_DIRS]


def discover_modules(extra: Iterable[str] = (), *, environ: dict[str, str] | None = None,
                     platform: str | None = None) -> list[str]:
    """Module paths to load: the vendor modules found at their usual paths, then ``$SIGNAGENT_PKCS11_MODULES``,
    then ``extra`` (the configuration). Configured paths are kept even when missing, so loading them reports
    ``module_load_failed`` instead of hiding a typo; duplicates (same real file) appear once.
    """
    env = os.environ if environ is None else environ
    found = [p for p in default_module_paths(platform) if os.path.isfile(p)]
    configured = [p for p in env.get(MODULES_ENV, "").split(os.pathsep) if p.strip()]
    out: list[str] = []
    seen: set[str] = set()
    for path in [*found, *configured, *extra]:
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            out.append(path)
    return out
