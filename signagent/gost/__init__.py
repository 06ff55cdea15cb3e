"""GOST cryptographic core: Streebog (GOST R 34.11-2012), GOST R 34.10-2012 signatures, legacy verification.

Imports only the standard library, its own C extensions and :mod:`signagent.errors`.
"""

from __future__ import annotations


def backend_name() -> str:
    """``"native"`` when the C core is in use, ``"pure"`` for the pure-Python reference."""
    from ._backend import BACKEND_NAME

    return BACKEND_NAME
