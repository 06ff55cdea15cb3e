"""``signagent hash``: Streebog digests of files, like sha256sum."""

from __future__ import annotations

import os
import sys

import click

from signagent.errors import SignAgentError
from signagent.service.choices import HASH_ALGORITHMS

from ._common import EXIT_ERROR, cli, emit_json, json_option, report_error


def _escape_name(name: str) -> tuple[str, str]:
    """sha256sum's convention: a name with a backslash or newline is escaped and the line starts with '\\'."""
    if "\\" in name or "\n" in name or "\r" in name:
        return "\\", name.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return "", name


def _hash_one(name: str, algorithm: str) -> bytes:
    from signagent.service import hashing

    if name == "-":
        return hashing.hash_stream(sys.stdin.buffer, algorithm)
    progress_wanted = sys.stderr.isatty() and os.path.isfile(name) and os.path.getsize(name) >= 256 << 20
    if not progress_wanted:
        return hashing.hash_path(name, algorithm)
    with click.progressbar(length=os.path.getsize(name), label=name, file=sys.stderr) as bar:
        return hashing.hash_path(name, algorithm, progress=bar.update)


@cli.command("hash")
@click.option("--alg", "algorithm", type=click.Choice(HASH_ALGORITHMS), default="streebog256",
              show_default=True, help="Streebog digest size (GOST R 34.11-2012).")
@json_option("Print a JSON list instead of sha256sum-style lines.")
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
            report_error(err)
            results.append({"file": name, "algorithm": algorithm, "error": err.to_dict()})
            continue
        if as_json:
            results.append({"file": name, "algorithm": algorithm, "digest": digest.hex()})
        else:
            prefix, shown = _escape_name(name)
            click.echo(f"{prefix}{digest.hex()}  {shown}")
    if as_json:
        emit_json(results)
    if failed:
        raise click.exceptions.Exit(EXIT_ERROR)


