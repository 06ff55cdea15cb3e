"""Build of the simulator's loadable PKCS#11 module with cffi's embedding API.

The module is one shared library, ``pkcs11_sim/libpkcs11sim<EXT_SUFFIX>``: C_GetFunctionList, the 68 C_*
functions of PKCS#11 v2.40 and an embedded Python whose entry points are :mod:`pkcs11_sim.glue`. setup.py calls
:func:`write_c_source` to generate its C file and compiles that as an ordinary setuptools extension with
:func:`link_settings`, so that ``pip install -e .`` and ``python setup.py build_ext --inplace`` both produce it.

Recorded at build time (module.c explains why): the path of the Python executable that builds the module -- the
embedded interpreter of a non-Python host starts as that executable, i.e. inside its virtualenv --, the soname of
its shared libpython, and its site-packages folders (for a Python host of another environment, see
embedded_init.py).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import cffi

from .functions import FUNCTIONS, parameter_names, python_routed

MODULE_NAME = "_pkcs11sim_cffi"  # the embedded cffi module (sys.modules key); not importable from the package
EXTENSION_NAME = "pkcs11_sim.libpkcs11sim"
HERE = Path(__file__).resolve().parent
PY_PREFIX = "pkcs11sim_py_"


def _c_string(text: str) -> str:
    """A C string literal for a define_macros value."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def python_libname() -> str:
    """The soname of the shared libpython this interpreter runs on (``libpython3.11.so.1.0``)."""
    if not sysconfig.get_config_var("Py_ENABLE_SHARED"):
        raise RuntimeError("the PKCS#11 module embeds Python and needs a shared libpython (Py_ENABLE_SHARED)")
    return sysconfig.get_config_var("INSTSONAME")


def p11kit_include_dirs() -> list[str]:
    """Where p11-kit's pkcs11.h lives: pkg-config first, then Debian's path."""
    pkg_config = shutil.which("pkg-config")
    if pkg_config:
        out = subprocess.run([pkg_config, "--cflags-only-I", "p11-kit-1"], capture_output=True, text=True)
        dirs = [flag[2:] for flag in out.stdout.split() if flag.startswith("-I")]
        if out.returncode == 0 and dirs:
            return dirs
    return ["/usr/include/p11-kit-1"]


def _generated_c() -> tuple[str, str]:
    """(prototypes of the Python entry points, shims + exported C_* + function-list filler)."""
    prototypes = [
        f"CFFI_DLLEXPORT CK_RV {PY_PREFIX}{name}({params});" for name, params in python_routed()
    ]
    body: list[str] = []
    for name, params, route in FUNCTIONS:
        args = ", ".join(parameter_names(params))
        if route == "python":
            body.append(
                f"static CK_RV sim_{name}({params})\n{{\n    if (!sim_start())\n        return CKR_GENERAL_ERROR;\n"
                f"    return {PY_PREFIX}{name}({args});\n}}"
            )
        elif route in ("unsupported", "not_parallel"):
            helper = "sim_not_supported" if route == "unsupported" else "sim_not_parallel"
            body.append(f"static CK_RV sim_{name}({params})\n{{\n    return {helper}();\n}}")
        elif route != "c":
            raise ValueError(f"unknown route {route!r} for {name}")
        # the exported symbol forwards to the static shim, so that the function list never resolves through
        # the dynamic linker (a host symbol of the same name cannot interpose)
        body.append(f"CFFI_DLLEXPORT CK_RV {name}({params})\n{{\n    return sim_{name}({args});\n}}")
    fills = "\n".join(f"    list->{name} = sim_{name};" for name, _, _ in FUNCTIONS)
    body.append(
        "static void sim_fill_function_list(CK_FUNCTION_LIST *list)\n{\n"
        "    list->version.major = 2;\n    list->version.minor = 40;\n" + fills + "\n}"
    )
    body.append(
        f"_Static_assert(sizeof(CK_FUNCTION_LIST) == offsetof(CK_FUNCTION_LIST, C_Initialize) + "
        f"{len(FUNCTIONS)} * sizeof(void (*)(void)), \"every CK_FUNCTION_LIST member is filled\");"
    )
    return "\n".join(prototypes), "\n\n".join(body)


def _init_code() -> str:
    """embedded_init.py with the building environment's site-packages filled in."""
    text = (HERE / "embedded_init.py").read_text()
    placeholder = "BUILD_SITE_PACKAGES: list[str] = []"
    if placeholder not in text:
        raise AssertionError("embedded_init.py lost its BUILD_SITE_PACKAGES line")
    paths = sysconfig.get_paths()
    folders = list(dict.fromkeys([paths["purelib"], paths["platlib"]]))
    return text.replace(placeholder, f"BUILD_SITE_PACKAGES: list[str] = {folders!r}")


def make_ffi() -> cffi.FFI:
    """The cffi builder of the module: declarations, Python entry points, C source and init code."""
    if len(FUNCTIONS) != 68:
        raise AssertionError("PKCS#11 v2.40 CK_FUNCTION_LIST has 68 functions")
    ffi = cffi.FFI()
    ffi.cdef((HERE / "cdef.h").read_text())
    ffi.embedding_api("\n".join(f"CK_RV {PY_PREFIX}{name}({params});" for name, params in python_routed()))
    prototypes, generated = _generated_c()
    module_c = (HERE / "module.c").read_text()
    marker = "/* @PYTHON_PROTOTYPES@"
    if marker not in module_c:
        raise AssertionError("module.c lost its prototype marker")
    module_c = module_c.replace(marker, prototypes + "\n" + marker, 1)
    ffi.set_source(MODULE_NAME, module_c + "\n" + generated + "\n")
    ffi.embedding_init_code(_init_code())
    return ffi


def write_c_source(path: str | Path) -> Path:
    """Generate the module's C file at ``path`` (rewritten only when its content changes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    make_ffi().emit_c_code(str(path))
    return path


def link_settings() -> dict[str, list]:
    """Extension keyword arguments: p11-kit's header, libpython linked with a RUNPATH, -z nodelete."""
    libdir = sysconfig.get_config_var("LIBDIR")
    pythonlib = f"python{sysconfig.get_config_var('LDVERSION')}"
    return {
        "include_dirs": p11kit_include_dirs(),
        "libraries": [pythonlib, "dl", "pthread"],
        "library_dirs": [libdir],
        "runtime_library_dirs": [libdir],
        "extra_link_args": ["-Wl,-z,nodelete"],
        "define_macros": [
            ("SIM_PYTHON_LIBNAME", _c_string(python_libname())),
            ("SIM_PYTHON_EXECUTABLE", _c_string(sys.executable)),
        ],
    }


if __name__ == "__main__":  # developer's aid: print the generated C file's path
    print(write_c_source(Path(sys.argv[1] if len(sys.argv) > 1 else "build/pkcs11sim_module.c")))
