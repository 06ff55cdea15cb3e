"""Fixtures shared by the whole suite.

* ``vectors_dir`` / ``real_pki_dir``: the standards' known-answer vectors (``tests/vectors``) and the real state-PKI
  CA certificates (``certs/real``), kept in the repository with their provenance (a README beside each).
* ``require(condition, what)``: a missing oracle or real component skips the test on a developer's machine but is
  a failure in CI (``CI=true``), so that CI can never go green by skipping.
* The internal-error guard: the command line logs an unexpected exception to ``$SIGNAGENT_LOG_DIR`` (issue 10:
  no traceback reaches a user, and the suite fails if any test input takes that path). The variable is set here,
  at import, so that in-process calls and every subprocess the tests start write there; the session fails at
  its end if a log appeared. A test that provokes an internal error on purpose points the variable elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

CRASH_LOG_DIR = Path(tempfile.mkdtemp(prefix="signagent-test-logs-"))
os.environ["SIGNAGENT_LOG_DIR"] = str(CRASH_LOG_DIR)
# The developer's own configuration file (signagent/config.toml) must not change what the tests see: an empty one
# (kept beside the logs, so it goes when they go).
(CRASH_LOG_DIR / "config.toml").write_text("")
os.environ["SIGNAGENT_CONFIG"] = str(CRASH_LOG_DIR / "config.toml")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session when any command-line call of the suite hit the internal-error safety net."""
    logs = sorted(CRASH_LOG_DIR.glob("internal-error-*.log"))
    if not logs:
        shutil.rmtree(CRASH_LOG_DIR, ignore_errors=True)
        return
    report = [f"\n{len(logs)} internal error(s) of the command line during the tests (issue 10: none allowed):"]
    for log in logs:
        report.append(f"--- {log}\n{log.read_text(encoding='utf-8', errors='replace')}")
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("\n".join(report), red=True)
    else:
        print("\n".join(report))
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def require(condition: object, what: str) -> None:
    """Skip (developer machine) or fail (CI) when a needed oracle or component is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI but missing: {what}")
    pytest.skip(f"missing: {what}")


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    """The standards' known-answer vectors (``tests/vectors/README.md`` names the source of each file)."""
    return ROOT / "tests" / "vectors"


@pytest.fixture(scope="session")
def real_pki_dir() -> Path:
    """Real CA certificates of the Russian state PKI (``certs/real/README.md``: source and what each one is)."""
    return ROOT / "certs" / "real"


@contextlib.contextmanager
def simulator_env(factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The environment of an agent whose configured PKCS#11 module is the simulator's, for one ``with`` block:
    a fresh token directory (yielded), an empty key directory, English messages. Needs PyKCS11."""
    import pkcs11_sim

    try:
        import PyKCS11  # noqa: F401
    except ImportError:
        require(False, "PyKCS11")
    mp = pytest.MonkeyPatch()
    sim_dir = factory.mktemp("sim")
    mp.setenv("PKCS11_SIM_DIR", str(sim_dir))
    mp.setenv("SIGNAGENT_PKCS11_MODULES", pkcs11_sim.module_path())
    mp.setenv("SIGNAGENT_KEYS_DIR", str(factory.mktemp("keys")))
    mp.setenv("LANG", "C")
    try:
        yield sim_dir
    finally:
        mp.undo()


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """umask 000 for one test: every mode the code wants must be set explicitly, not left to the umask."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def file_mode(path: Path) -> int:
    """The permission bits of ``path`` itself (a symlink is not followed)."""
    return stat.S_IMODE(path.lstat().st_mode)


def modules_loaded_by(imports: str, modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` a fresh interpreter has loaded after ``import {imports}`` (start-up checks: what a
    command or the agent pays for before it needs it)."""
    import subprocess
    import sys

    probe = f"import sys\nimport {imports}\nprint(','.join(m for m in {modules!r} if m in sys.modules))\n"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [m for m in done.stdout.strip().split(",") if m]
