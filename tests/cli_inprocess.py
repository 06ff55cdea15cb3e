"""The ``signagent`` command line run in-process (fast): stdout, stderr and the exit status as a subprocess would
give them, under a chosen locale and trust store."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from pathlib import Path

from signagent.cli import main


def run(*args: object, store: Path | None = None, lang: str = "C.UTF-8") -> subprocess.CompletedProcess[str]:
    """``signagent ARGS`` with ``LANG=lang`` (and ``SIGNAGENT_TRUST_DIR=store`` when given)."""
    env = {"LANG": lang, "LC_ALL": "", "LC_MESSAGES": ""}
    if store is not None:
        env["SIGNAGENT_TRUST_DIR"] = str(store)
    saved = {k: os.environ.get(k) for k in env}
    out, err = io.StringIO(), io.StringIO()
    os.environ.update(env)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main([str(a) for a in args])
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return subprocess.CompletedProcess(list(args), rc, out.getvalue(), err.getvalue())
