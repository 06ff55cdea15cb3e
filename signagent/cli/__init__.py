"""The ``signagent`` command line: parse arguments, call the service layer, print results.

Exit codes (DESIGN.md section 3): 0 success / valid, 1 invalid / rejected, 2 indeterminate or a usage / input
error, with a one-line reason on stderr. ``--json`` gives machine-readable output on stdout.
Messages are Russian when the locale is Russian (LANG/LC_ALL/LC_MESSAGES starting with "ru"), English otherwise.
"""

from __future__ import annotations

import os
import sys

import click

from signagent.errors import SignAgentError

# Each module adds its commands to the root group when imported.
from . import certs, hashing, keys, signing, token_admin, tokens, trust  # noqa: F401
from ._common import EXIT_ERROR, EXIT_OK, cli, report_error

__all__ = ["cli", "main"]


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; turns errors into a one-line reason and exit code 2."""
    try:
        rc = cli.main(args=argv, prog_name="signagent", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return EXIT_ERROR
    except click.exceptions.Abort:
        click.echo("signagent: interrupted", err=True)
        return 130
    except SignAgentError as err:
        report_error(err)
        return EXIT_ERROR
    except BrokenPipeError:
        # `signagent hash big | head`: the reader went away; not an error worth a traceback. Point stdout at
        # /dev/null so that the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    return rc if isinstance(rc, int) else EXIT_OK
