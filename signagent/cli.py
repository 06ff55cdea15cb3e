"""The ``signagent`` command line: parse arguments, call the service layer, print results.

Exit codes (DESIGN.md section 3): 0 success / valid, 1 invalid / rejected, 2 indeterminate or a usage / input
error, with a one-line reason on stderr. ``--json`` gives machine-readable output on stdout.
Messages are Russian when the locale is Russian (LANG/LC_ALL/LC_MESSAGES starting with "ru"), English otherwise.
"""

from __future__ import annotations

import json
import os
import sys

import click

from signagent import __version__
from signagent.errors import SignAgentError
from signagent.service import hashing

EXIT_OK, EXIT_INVALID, EXIT_ERROR = 0, 1, 2


def _russian() -> bool:
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return value.lower().startswith("ru")
    return False


def _reason(err: SignAgentError) -> str:
    return err.message_ru if _russian() else err.message


def _report(err: SignAgentError) -> None:
    click.echo(f"signagent: {_reason(err)}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="signagent")
def cli() -> None:
    """Russian qualified electronic signatures (GOST R 34.10/34.11-2012): hash, sign, verify, tokens."""


def _escape_name(name: str) -> tuple[str, str]:
    """sha256sum's convention: a name with a backslash or newline is escaped and the line starts with '\\'."""
    if "\\" in name or "\n" in name or "\r" in name:
        return "\\", name.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return "", name


def _hash_one(name: str, algorithm: str) -> bytes:
    if name == "-":
        return hashing.hash_stream(sys.stdin.buffer, algorithm)
    progress_wanted = sys.stderr.isatty() and os.path.isfile(name) and os.path.getsize(name) >= 256 << 20
    if not progress_wanted:
        return hashing.hash_path(name, algorithm)
    with click.progressbar(length=os.path.getsize(name), label=name, file=sys.stderr) as bar:
        return hashing.hash_path(name, algorithm, progress=bar.update)


@cli.command("hash")
@click.option("--alg", "algorithm", type=click.Choice(sorted(hashing.ALGORITHMS)), default="streebog256",
              show_default=True, help="Streebog digest size (GOST R 34.11-2012).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of sha256sum-style lines.")
@click.argument("files", nargs=-1, required=True)
def hash_command(algorithm: str, as_json: bool, files: tuple[str, ...]) -> None:
    """Print the Streebog digest of each FILE ('-' reads standard input), like sha256sum.

    Files of any size are read in 1 MiB chunks, so memory stays small. A file that cannot be read is reported
    on stderr, the others are still hashed, and the exit status is 2.
    """
    failed = False
    results: list[dict[str, object]] = []
    for name in files:
        try:
            digest = _hash_one(name, algorithm)
        except SignAgentError as err:
            failed = True
            _report(err)
            results.append({"file": name, "algorithm": algorithm, "error": err.to_dict()})
            continue
        if as_json:
            results.append({"file": name, "algorithm": algorithm, "digest": digest.hex()})
        else:
            prefix, shown = _escape_name(name)
            click.echo(f"{prefix}{digest.hex()}  {shown}")
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False, indent=2))
    if failed:
        raise click.exceptions.Exit(EXIT_ERROR)


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
        _report(err)
        return EXIT_ERROR
    except BrokenPipeError:
        # `signagent hash big | head`: the reader went away; not an error worth a traceback. Point stdout at
        # /dev/null so that the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    return rc if isinstance(rc, int) else EXIT_OK
