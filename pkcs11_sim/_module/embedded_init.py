"""Init code of the embedded interpreter (not imported: build.py passes its text to ffi.embedding_init_code).

cffi runs it once per process, at the first call into Python, with ``_pkcs11sim_cffi`` (this module's own cffi
module) already in ``sys.modules``. It makes ``pkcs11_sim`` importable -- normally it already is, from the host's
or the recorded virtualenv's sys.path; otherwise from the folder holding the package this shared object lives
in (a source checkout built with ``build_ext --inplace``, or a host Python from another environment, which then
also gets the building environment's site-packages) -- then binds the entry points to
:mod:`pkcs11_sim.glue` and only then tells the C side that calls may flow.
"""

import importlib.util
import os
import sys

from _pkcs11sim_cffi import ffi, lib  # type: ignore[import-not-found]

# The site-packages folders of the environment that built the module (build.py fills them in).
BUILD_SITE_PACKAGES: list[str] = []

if importlib.util.find_spec("pkcs11_sim") is None:
    # A host interpreter of the same Python version but another environment: reach the package beside this shared
    # object and, after the host's own folders, the dependencies installed in the building environment.
    import site

    _package_parent = os.path.dirname(os.path.dirname(os.path.abspath(ffi.string(lib.sim_module_file()).decode())))
    sys.path.append(_package_parent)
    for _folder in BUILD_SITE_PACKAGES:
        if os.path.isdir(_folder) and _folder not in sys.path:
            site.addsitedir(_folder)

from pkcs11_sim import glue  # noqa: E402 -- importable only after the path set-up above

glue.bind(ffi, lib)
lib.sim_mark_ready()
