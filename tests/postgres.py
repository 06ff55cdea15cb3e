"""A real PostgreSQL server for tests, started from Debian's binaries (``/usr/lib/postgresql/<version>/bin``).

:func:`start_postgres` makes a cluster with ``initdb`` in a fresh temporary directory, starts ``postgres`` on a
free port of 127.0.0.1 (its Unix socket in that directory too, never in /var/run), waits until it answers and
returns ``(url, stop)``: a SQLAlchemy URL (``postgresql+psycopg://postgres@127.0.0.1:PORT/postgres``, trust
authentication on loopback) and the function that stops the server and removes the directory.

PostgreSQL refuses to run as root. The tests run as root in CI containers, so then the server runs as the
``postgres`` user the Debian package creates (``subprocess``'s ``user=``/``group=``), in a directory made under
the system's temporary directory and given to that user: pytest's own ``tmp_path`` lies under a root-only
(0700) directory the server could not enter.

:func:`postgres_available` says whether it can be done here (binaries, and the ``postgres`` user when root);
a fixture calls ``tests.conftest.require(postgres_available(), ...)`` first, so that CI fails where a developer's
machine skips. Nothing is written to /dev/null: the server's output goes to a log file in its directory, shown
in the error when it does not start.

Two helpers for tests that share one server: the session fixture :func:`postgres_server` (import it into a test
module or a conftest), and :func:`fresh_database`, a new empty database on it for one module or test, so that
one test's tables (or migrations) never meet another's.

Exports: start_postgres, postgres_available, postgres_bin_dir, postgres_server, fresh_database,
PostgresStartError.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

__all__ = ["PostgresStartError", "fresh_database", "postgres_available", "postgres_bin_dir", "postgres_server",
           "start_postgres"]

_BIN_GLOB = "/usr/lib/postgresql/*/bin"
_START_TIMEOUT = 60.0


class PostgresStartError(RuntimeError):
    """The test server could not be made or started (the message holds the server's log)."""


def postgres_bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding ``initdb`` and ``postgres``, or None."""
    found = []
    for path in glob.glob(_BIN_GLOB):
        p = Path(path)
        if (p / "initdb").is_file() and (p / "postgres").is_file():
            version = p.parent.name
            found.append((int(version) if version.isdigit() else 0, p))
    return max(found)[1] if found else None


def _server_user() -> pwd.struct_passwd | None:
    """The account the server runs as: ``postgres`` when we are root, else ourselves (None: not possible)."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid())
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        return None


def postgres_available() -> bool:
    """Whether :func:`start_postgres` can run here: the binaries, psycopg, and a non-root account to run as."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return False
    return postgres_bin_dir() is not None and _server_user() is not None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _log_text(log: Path) -> str:
    try:
        return log.read_text(encoding="utf-8", errors="replace")[-4000:]
    except OSError:
        return "(no log)"


def _answers(port: int) -> bool:
    import psycopg

    try:
        with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres", connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def start_postgres(tmp_path: Path | None = None) -> tuple[str, Callable[[], None]]:
    """Start a throw-away PostgreSQL server; ``(url, stop)``.

    ``tmp_path``: where the server's log is copied when it fails to start (it may be a root-only directory).
    PostgresStartError when it cannot be made or does not answer within a minute.
    """
    bin_dir, user = postgres_bin_dir(), _server_user()
    if bin_dir is None or user is None:
        raise PostgresStartError("PostgreSQL binaries (Debian's postgresql) or the postgres user are missing")
    base = Path(tempfile.mkdtemp(prefix="signagent-pg-"))
    data, sockets, log = base / "data", base / "sock", base / "server.log"
    sockets.mkdir()
    as_other = os.geteuid() != user.pw_uid
    if as_other:
        for path in (base, sockets):
            os.chown(path, user.pw_uid, user.pw_gid)
    run_as: dict[str, object] = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if as_other else {}
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": str(base),
           "TZ": "UTC"}
    process: subprocess.Popen[bytes] | None = None

    def stop() -> None:
        if process is not None and process.poll() is None:
            process.send_signal(2)  # SIGINT: PostgreSQL's fast shutdown
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        shutil.rmtree(base, ignore_errors=True)

    try:
        with log.open("ab") as out:
            if as_other:
                os.chown(log, user.pw_uid, user.pw_gid)
            done = subprocess.run(
                [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-locale",
                 "-E", "UTF8", "--no-sync"],
                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=base, timeout=120, check=False,
                **run_as)  # type: ignore[arg-type]
            if done.returncode != 0:
                raise PostgresStartError(f"initdb failed ({done.returncode}):\n{_log_text(log)}")
            port = _free_port()
            process = subprocess.Popen(
                [str(bin_dir / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port),
                 "-k", str(sockets), "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off", "-c", "max_connections=50"],
                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=base, **run_as)  # type: ignore[arg-type]
        deadline = time.monotonic() + _START_TIMEOUT
        while not _answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise PostgresStartError(f"postgres did not start (exit {process.poll()}):\n{_log_text(log)}")
            time.sleep(0.1)
    except BaseException:
        if tmp_path is not None:
            with contextlib.suppress(OSError):
                shutil.copy(log, Path(tmp_path) / "postgres-server.log")
        stop()
        raise
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", stop


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a PostgreSQL server started once for the session (skipped on a developer's machine without
    Debian's postgresql binaries, a failure in CI). Give each test module its own :func:`fresh_database`."""
    from tests.conftest import require

    require(postgres_available(), "PostgreSQL server binaries (Debian postgresql) under /usr/lib/postgresql")
    url, stop = start_postgres(tmp_path_factory.mktemp("postgres"))
    try:
        yield url
    finally:
        stop()


def fresh_database(server_url: str, prefix: str = "test") -> str:
    """A new empty database on the server of ``server_url``; its URL (same user and driver)."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database,
                         autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # a name made here: letters, digits and _
    return url.set(database=name).render_as_string(hide_password=False)
