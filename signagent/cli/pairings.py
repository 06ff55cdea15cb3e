"""``signagent pairings list | revoke ORIGIN``: the web sites paired with the localhost API (DESIGN.md section 5)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from ._common import cli, emit_json, json_option, settings, tr


@cli.group("pairings")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port of the running agent (default: the api_port setting, 36985).")
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The agent's state directory (default: the user's configuration directory).")
@click.pass_context
def pairings_group(ctx: click.Context, port: int | None, state_dir: Path | None) -> None:
    """Sites allowed to use the agent: list them, revoke one."""
    ctx.obj = (port, state_dir)


def _where(obj: tuple[int | None, Path | None]) -> tuple[Path, int]:
    from signagent.service.agent_state import default_state_dir

    port, state_dir = obj
    return (state_dir or default_state_dir()), settings(api_port=port).api_port


@pairings_group.command("list")
@json_option("Print JSON: [{origin, paired_at}].")
@click.pass_obj
def pairings_list(obj: tuple[int | None, Path | None], as_json: bool) -> None:
    """List the paired sites and when each was paired."""
    from signagent.service.pairing_admin import list_pairings

    entries = list_pairings(*_where(obj))
    if as_json:
        emit_json(entries)
        return
    if not entries:
        click.echo(tr("no paired sites", "нет подключённых сайтов"))
    for entry in entries:
        when = dt.datetime.fromtimestamp(float(entry["paired_at"]), dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        click.echo(f"{entry['origin']}  {when}")


@pairings_group.command("revoke")
@click.argument("origin")
@click.pass_obj
def pairings_revoke(obj: tuple[int | None, Path | None], origin: str) -> None:
    """Revoke the pairing of ORIGIN (https://portal.example): it must be paired again to use the agent."""
    from signagent.service.pairing_admin import revoke_pairing

    revoked = revoke_pairing(*_where(obj), origin)
    click.echo(tr(f"revoked: {revoked}", f"отключён: {revoked}"))
