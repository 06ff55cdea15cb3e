"""``signagent audit show | verify``: the agent's audit log of localhost API operations (DESIGN.md section 5).

``show`` prints the entries as a table (or JSON); ``verify`` checks the hash chain and the head file. Exit status
of ``verify``: 0 intact (or no log yet), 1 damaged (each problem printed), 2 the log cannot be read.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

import click

from ._common import EXIT_INVALID, cli, emit_json, json_option, tr

_STATE_DIR_HELP = "The agent's state directory (default: the user's configuration directory)."


def _log_path(state_dir: Path | None) -> Path:
    from signagent.service.agent_state import default_state_dir
    from signagent.service.audit import AUDIT_FILE

    return (state_dir or default_state_dir()) / AUDIT_FILE


def _printable(value: object) -> str:
    """A field as shown in the table: "-" when absent, control characters escaped (an edited log may hold any)."""
    if value is None or value == "":
        return "-"
    text = str(value)
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


@cli.group("audit")
def audit_group() -> None:
    """The audit log of the agent's operations: show it, verify that it was not changed."""


@audit_group.command("show")
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help=_STATE_DIR_HELP)
@click.option("--last", "last", type=click.IntRange(min=1), default=None, help="Only the last N entries.")
@click.option("--origin", default=None, help="Only the entries of this site (https://portal.example).")
@json_option("Print JSON: the entries as logged, oldest first.")
def audit_show(state_dir: Path | None, last: int | None, origin: str | None, as_json: bool) -> None:
    """Show the audit log: time, site, operation, result, certificate, error code."""
    from signagent.service.audit import iter_entries

    path = _log_path(state_dir)
    if not path.exists():
        if as_json:
            emit_json([])
        else:
            click.echo(tr(f"no audit log yet ({path})", f"журнала аудита ещё нет ({path})"))
        return
    wanted = _origins(origin)
    damaged: list[int] = []
    selected = (e for e in iter_entries(path, on_damage=damaged.append) if wanted is None or e.get("origin") in wanted)
    entries = deque(selected, maxlen=last)
    if as_json:
        emit_json(list(entries))
    else:
        _table(entries)
    if damaged:
        click.echo(tr(f"signagent: {len(damaged)} damaged line(s) skipped (first: line {damaged[0]}); "
                      "run 'signagent audit verify'",
                      f"signagent: пропущены повреждённые строки ({len(damaged)}, первая: {damaged[0]}); "
                      "проверьте журнал: 'signagent audit verify'"), err=True)


def _origins(origin: str | None) -> set[str] | None:
    """The forms of ``origin`` to match: as given and normalized (the log keeps origins normalized)."""
    if origin is None:
        return None
    from signagent.errors import SignAgentError
    from signagent.service.origins import normalize_client_origin

    forms = {origin}
    try:
        forms.add(normalize_client_origin(origin))
    except SignAgentError:
        pass  # not a web origin: a refused request may have logged such a value as it came
    return forms


def _table(entries: deque[dict[str, object]]) -> None:
    if not entries:
        click.echo(tr("the audit log has no entries", "в журнале аудита нет записей"))
        return
    header = (tr("TIME", "ВРЕМЯ"), tr("SITE", "САЙТ"), tr("OPERATION", "ОПЕРАЦИЯ"), tr("RESULT", "РЕЗУЛЬТАТ"),
              tr("CERTIFICATE", "СЕРТИФИКАТ"), tr("CODE", "КОД"))
    rows = [(_printable(e.get("time")), _printable(e.get("origin")), _printable(e.get("operation")),
             _printable(e.get("result")), _printable(e.get("certificate_id"))[:16], _printable(e.get("code")))
            for e in entries]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@audit_group.command("verify")
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help=_STATE_DIR_HELP)
@json_option("Print JSON: {path, ok, exists, entries, lines, problems: [{line, problem, message, message_ru}]}.")
def audit_verify(state_dir: Path | None, as_json: bool) -> None:
    """Check that no line of the audit log was changed, removed, reordered or cut off.

    Exit status: 0 the log is intact (or there is none yet), 1 it is damaged (each problem is printed with its
    line), 2 it cannot be read.
    """
    from signagent.service.audit import verify_log

    path = _log_path(state_dir)
    report = verify_log(path)
    if as_json:
        emit_json({"path": str(path), **report.to_dict()})
    elif report.ok and not report.exists:
        click.echo(tr(f"no audit log yet ({path})", f"журнала аудита ещё нет ({path})"))
    elif report.ok:
        click.echo(tr(f"the audit log is intact: {report.entries} entries ({path})",
                      f"журнал аудита цел: записей -- {report.entries} ({path})"))
    else:
        for problem in report.problems:
            click.echo(f"{problem['problem']}: {tr(str(problem['message']), str(problem['message_ru']))}")
        click.echo(tr(f"the audit log is DAMAGED: {len(report.problems)} problem(s) ({path})",
                      f"журнал аудита ПОВРЕЖДЁН: проблем -- {len(report.problems)} ({path})"))
    if not report.ok:
        raise click.exceptions.Exit(EXIT_INVALID)
