"""Build of the native GOST core (C, compiled with the system compiler; nothing is downloaded).

Two extension modules, each built from its own source folder under signagent/gost/_native/:
``signagent.gost._streebog_c`` (GOST R 34.11-2012) and ``signagent.gost._ec_c`` (prime-field and curve
arithmetic for GOST R 34.10-2012). Everything else is in pyproject.toml.
"""

import os
import sys
from pathlib import Path

from setuptools import Extension, setup

NATIVE = Path("signagent/gost/_native")

if sys.platform == "win32":
    CFLAGS = ["/O2"]
else:
    # -O3: the hot loops are table look-ups and 64x64->128 multiplications; no -march=native so that a built
    # wheel runs on any x86-64 / aarch64 machine.
    CFLAGS = ["-O3", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fno-strict-aliasing"]


def native_extension(name: str) -> Extension:
    folder = NATIVE / name
    return Extension(
        f"signagent.gost._{name}_c",
        sources=sorted(str(p) for p in folder.glob("*.c")),
        depends=sorted(str(p) for p in folder.glob("*.h")),
        include_dirs=[str(folder)],
        extra_compile_args=CFLAGS,
    )


# SIGNAGENT_NATIVE_ONLY=ec (or streebog) builds one module alone: a developer's shortcut, not used by CI.
ONLY = os.environ.get("SIGNAGENT_NATIVE_ONLY")
setup(ext_modules=[native_extension(n) for n in ("streebog", "ec") if ONLY in (None, "", n)])
