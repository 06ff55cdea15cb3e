"""The ``signagent`` command line: parse arguments, call the service layer, print results.

Exit codes (DESIGN.md section 3): 0 success / valid, 1 invalid / rejected, 2 indeterminate or a usage / input
error, with a one-line reason on stderr. ``--json`` gives machine-readable output on stdout.
Messages are Russian when the locale is Russian (LANG/LC_ALL/LC_MESSAGES starting with "ru"), English otherwise.

:func:`main` is the one place where errors become exit codes, for the console script and for in-process callers
(tests) alike: project errors and click's usage errors print one line and exit 2, Ctrl-C exits 130, SIGTERM
exits 143 after the temporary files are removed, and anything else is an internal error (one line, exit 2,
traceback in a log file: :mod:`._crashlog`). No traceback reaches the user. When the command was given
``--json``, the error is also printed on stdout as ``{"error": {"code", "message", "message_ru", "retriable",
"details"?}}`` (the exit code is the same).
"""

from __future__ import annotations

import os
import sys

if len(sys.argv) > 2 and sys.argv[1] == "sign" and "--detached" in sys.argv:
    # First thing, before the imports below (~90 ms): hash the file in a thread meanwhile (service.prehash).
    from signagent.service.prehash import start_from_argv

    start_from_argv(sys.argv[2:])

import click

from signagent.errors import SignAgentError

# Each module adds its commands to the root group when imported.
from . import (  # noqa: F401
    audit,
    certs,
    config,
    diagnostics,
    extension,
    hashing,
    keys,
    pairings,
    registration,
    serve,
    signing,
    token_admin,
    tokens,
    trust,
)
from ._common import (
    EXIT_ERROR,
    EXIT_OK,
    cli,
    emit_json,
    error_document,
    error_json,
    json_errors,
    one_line,
    report_error,
    tr,
)
from ._crashlog import write_crash_log
from ._process import Terminated, safe_streams, terminate_raises

__all__ = ["cli", "main"]

EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143  # 128 + SIGINT / SIGTERM, the shell's convention


def _say(text: str) -> None:
    click.echo(f"signagent: {one_line(text)}", err=True)


def _usage_lines(exc: click.UsageError) -> tuple[str, str]:
    """click's three-line usage error as one line naming the help to read (English, Russian)."""
    where = exc.ctx.command_path if exc.ctx is not None else "signagent"
    return f"{exc.format_message()} (see {where} --help)", f"{exc.format_message()} (см. {where} --help)"


def _asked_for_json(exc: click.UsageError, argv: list[str] | None) -> bool:
    """Whether a command that has --json was given it, for an error click found while parsing (an unknown option,
    a missing argument), before the flag's own callback could run."""
    command = exc.ctx.command if exc.ctx is not None else None
    if command is None or not any(p.name == "as_json" for p in command.params):
        return False
    args = sys.argv[1:] if argv is None else argv
    options = args[:args.index("--")] if "--" in args else args  # after "--", "--json" would be a file name
    return "--json" in options


def _fail(code: str, en: str, ru: str, retriable: bool = False, details: dict[str, object] | None = None) -> None:
    """The one-line reason on stderr and, when the command asked for --json, the error as JSON on stdout."""
    _say(tr(en, ru))
    if json_errors().get():
        emit_json(error_document(code, en, ru, retriable, details))


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
    reset = json_errors().set(False)  # --json sets it while the arguments are parsed (_common.json_option)
    try:
        return _dispatch(argv)
    finally:
        json_errors().reset(reset)


def _dispatch(argv: list[str] | None) -> int:
    try:
        rc = cli.main(args=argv, prog_name="signagent", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:
        if _asked_for_json(exc, argv):
            json_errors().set(True)
        _fail("usage_error", *_usage_lines(exc))
        return EXIT_ERROR
    except click.ClickException as exc:
        _fail("usage_error", exc.format_message(), exc.format_message())
        return EXIT_ERROR
    except (click.exceptions.Abort, KeyboardInterrupt):
        _fail("interrupted", "interrupted", "прервано", retriable=True)
        return EXIT_INTERRUPTED
    except Terminated:
        _fail("terminated", "terminated", "прервано сигналом завершения", retriable=True)
        return EXIT_TERMINATED
    except SignAgentError as err:
        report_error(err)
        if json_errors().get():
            emit_json(error_json(err))
        return EXIT_ERROR
    except BrokenPipeError:
        # `signagent hash big | head`: the reader went away; not an error worth a traceback. Point stdout at
        # /dev/null so that the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # the safety net: a bug, reported in one line, logged in full
        path = write_crash_log(exc, argv)
        where, where_ru = (str(path), str(path)) if path is not None else (
            "no log could be written", "журнал записать не удалось")
        _fail("internal_error", f"internal error, please report (details in {where})",
              f"внутренняя ошибка, сообщите о ней (подробности в {where_ru})")
        return EXIT_ERROR
    return rc if isinstance(rc, int) else EXIT_OK
