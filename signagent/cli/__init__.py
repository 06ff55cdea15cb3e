"""The ``signagent`` command line: parse arguments, call the service layer, print results.

Exit codes (DESIGN.md section 3): 0 success / valid, 1 invalid / rejected, 2 indeterminate or a usage / input
error, with a one-line reason on stderr. ``--json`` gives machine-readable output on stdout.
Messages are Russian when the locale is Russian (LANG/LC_ALL/LC_MESSAGES starting with "ru"), English otherwise.

:func:`main` is the one place where errors become exit codes, for the console script and for in-process callers
(tests) alike: project errors and click's usage errors print one line and exit 2, Ctrl-C exits 130, SIGTERM
exits 143 after the temporary files are removed, and anything else is an internal error (one line, exit 2,
traceback in a log file: :mod:`._crashlog`). No traceback reaches the user.
"""

from __future__ import annotations

import os
import sys

import click

from signagent.errors import SignAgentError

# Each module adds its commands to the root group when imported.
from . import certs, hashing, keys, signing, token_admin, tokens, trust  # noqa: F401
from ._common import EXIT_ERROR, EXIT_OK, cli, one_line, report_error, tr
from ._crashlog import write_crash_log
from ._process import Terminated, safe_streams, terminate_raises

__all__ = ["cli", "main"]

EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143  # 128 + SIGINT / SIGTERM, the shell's convention


def _say(text: str) -> None:
    click.echo(f"signagent: {one_line(text)}", err=True)


def _usage_line(exc: click.UsageError) -> str:
    """click's three-line usage error as one line naming the help to read."""
    where = exc.ctx.command_path if exc.ctx is not None else "signagent"
    return tr(f"{exc.format_message()} (see {where} --help)", f"{exc.format_message()} (см. {where} --help)")


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; turns every error into a one-line reason and an exit code."""
    safe_streams()
    try:
        with terminate_raises():
            return _run(argv)
    except Terminated:  # arrived after _run's own handlers (while unwinding): still one line
        _say(tr("terminated", "прервано сигналом завершения"))
        return EXIT_TERMINATED


def _run(argv: list[str] | None) -> int:
    try:
        rc = cli.main(args=argv, prog_name="signagent", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:
        _say(_usage_line(exc))
        return EXIT_ERROR
    except click.ClickException as exc:
        _say(exc.format_message())
        return EXIT_ERROR
    except (click.exceptions.Abort, KeyboardInterrupt):
        _say(tr("interrupted", "прервано"))
        return EXIT_INTERRUPTED
    except Terminated:
        _say(tr("terminated", "прервано сигналом завершения"))
        return EXIT_TERMINATED
    except SignAgentError as err:
        report_error(err)
        return EXIT_ERROR
    except BrokenPipeError:
        # `signagent hash big | head`: the reader went away; not an error worth a traceback. Point stdout at
        # /dev/null so that the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # the safety net: a bug, reported in one line, logged in full
        path = write_crash_log(exc, argv)
        where = str(path) if path is not None else tr("no log could be written", "журнал записать не удалось")
        _say(tr(f"internal error, please report (details in {where})",
                f"внутренняя ошибка, сообщите о ней (подробности в {where})"))
        return EXIT_ERROR
    return rc if isinstance(rc, int) else EXIT_OK
