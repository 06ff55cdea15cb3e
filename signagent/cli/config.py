"""``signagent config show``: the effective configuration and where each value came from."""

from __future__ import annotations

import click

from ._common import cli, emit_json, json_option, settings, tr


@cli.group("config")
def config_group() -> None:
    """The agent's configuration: a TOML file ($SIGNAGENT_CONFIG or config.toml in the user's configuration
    directory), then environment variables, then command options."""


@config_group.command("show")
@json_option("Print JSON: {file, settings: {name: {value, source, env}}}.")
def config_show(as_json: bool) -> None:
    """Print every setting, its value and its source (default, file, env or option)."""
    from signagent.service.config import default_config_path

    doc = settings().to_dict()
    if as_json:
        emit_json(doc)
        return
    read = doc["file"] or tr(f"none ({default_config_path()} does not exist)",
                             f"нет ({default_config_path()} не существует)")
    lines = [tr("configuration file: ", "файл конфигурации: ") + str(read)]
    rows = doc["settings"]
    assert isinstance(rows, dict)
    width = max(map(len, rows))
    for name, row in rows.items():
        value = row["value"]
        shown = ", ".join(value) if isinstance(value, list) else ("" if value is None else str(value).lower()
                                                                     if isinstance(value, bool) else str(value))
        lines.append(f"  {name:<{width}}  {shown or '-'}  [{row['source']}: {row['env']}]"
                     if row["source"] == "env" else f"  {name:<{width}}  {shown or '-'}  [{row['source']}]")
    click.echo("\n".join(lines))
