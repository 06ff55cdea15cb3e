"""pkcs11_sim: a software GOST R 34.10-2012 token (PKCS#11 module, persistent store, virtual PC/SC card).

:func:`module_path` gives the loadable PKCS#11 module (a shared library built with the package, see
``pkcs11_sim/_module``) that any PKCS#11 consumer -- OpenSC's pkcs11-tool, PyKCS11, the agent itself -- loads
like a vendor module. Tokens live under ``$PKCS11_SIM_DIR`` (:mod:`pkcs11_sim.store`).
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

__all__ = ["ModuleNotBuiltError", "module_path"]

_PACKAGE_DIR = Path(__file__).resolve().parent
_MODULE_STEM = "libpkcs11sim"


class ModuleNotBuiltError(FileNotFoundError):
    """The shared library is missing: the package was installed without building its PKCS#11 module."""


def module_path() -> str:
    """The absolute path of the simulator's loadable PKCS#11 module (``libpkcs11sim<EXT_SUFFIX>``).

    Raises :class:`ModuleNotBuiltError` (a ``FileNotFoundError``) when it was not built -- run
    ``pip install -e .`` or ``python setup.py build_ext --inplace`` (needs p11-kit's pkcs11.h and a shared
    libpython).
    """
    exact = _PACKAGE_DIR / (_MODULE_STEM + sysconfig.get_config_var("EXT_SUFFIX"))
    if exact.is_file():
        return str(exact)
    raise ModuleNotBuiltError(
        f"the PKCS#11 module {exact.name} is not built in {_PACKAGE_DIR}; run `pip install -e .` or "
        "`python setup.py build_ext --inplace` (needs libp11-kit-dev and a shared libpython)"
    )
