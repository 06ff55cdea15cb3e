"""PyKCS11, the binding through which signagent drives PKCS#11 modules (its SWIG wrapper of the C API).

An optional dependency at import time: without it this package still imports, and loading any module fails with
``module_load_failed`` saying PyKCS11 is missing (:class:`~.module.Pkcs11Module`). ``PyKCS11`` is None then.

Exports: PyKCS11.
"""

from __future__ import annotations

__all__ = ["PyKCS11"]

try:
    import PyKCS11
except ImportError:  # pragma: no cover - exercised only on installs without it
    PyKCS11 = None
