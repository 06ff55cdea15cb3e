"""``signagent diagnostics [--json]``: what support asks a user for -- the agent's version, PKCS#11 modules, PC/SC
readers and pcscd, the trust store and the state directory (:func:`signagent.service.diagnostics.diagnostics`;
the same report as ``GET /v1/diagnostics`` gives a local program). Nothing secret is printed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ._common import cli, emit_json, error_text, json_option, settings, tr


def _error(part: dict[str, Any]) -> str | None:
    error = part.get("error")
    return error_text(error) if isinstance(error, dict) else None


def _lines(report: dict[str, Any]) -> list[str]:
    """The report as text, one fact per line."""
    out: list[str] = []
    agent = report["agent"]
    if _error(agent):
        out.append(tr(f"agent: {_error(agent)}", f"агент: {_error(agent)}"))
    else:
        out.append(f"signagent {agent['version']}, Python {agent['python']} ({agent['implementation']}), "
                   f"{agent['platform']}, GOST: {agent['gost_backend']}")
    pkcs11 = report["pkcs11"]
    if _error(pkcs11):
        out.append(f"PKCS#11: {_error(pkcs11)}")
    else:
        if not pkcs11["modules"]:
            out.append(tr("PKCS#11: no module found or configured", "PKCS#11: модули не найдены и не заданы"))
        for module in pkcs11["modules"]:
            if module["loaded"]:
                tokens = ", ".join(f"«{t['label']}» ({t['serial']})" for t in module["tokens"]) or tr(
                    "no token", "нет токенов")
                out.append(f"PKCS#11 {module['path']}: {module['description']}; {tokens}")
            else:
                out.append(f"PKCS#11 {module['path']}: {error_text(module['error'])}")
    pcsc = report["pcsc"]
    if not pcsc.get("pyscard") and not _error(pcsc):
        out.append(tr("PC/SC: pyscard is not installed", "PC/SC: pyscard не установлен"))
    elif not pcsc.get("service"):
        out.append(f"PC/SC: {_error(pcsc) or tr('no service', 'служба недоступна')}")
    else:
        out.append(tr(f"PC/SC: {len(pcsc['readers'])} reader(s), {pcsc['cards_present']} card(s)",
                      f"PC/SC: считывателей {len(pcsc['readers'])}, карт {pcsc['cards_present']}"))
        for reader in pcsc["readers"]:
            card = (reader["model"] or reader["atr"] or tr("a card", "карта")) if reader["present"] else tr(
                "empty", "пусто")
            busy = tr(" (in use by another program)", " (занят другой программой)") if reader["in_use"] else ""
            out.append(f"  {reader['name']}: {card}{busy}")
    trust = report["trust_store"]
    if _error(trust):
        out.append(tr(f"trust store: {_error(trust)}", f"хранилище доверия: {_error(trust)}"))
    else:
        crl = trust["latest_crl_next_update"] or "-"
        out.append(tr(f"trust store {trust['path']}: {trust['roots']} root(s), {trust['intermediates']} "
                      f"intermediate(s), {trust['crls']} CRL(s) (latest next update {crl}, "
                      f"{trust['crls_past_next_update']} past it)",
                      f"хранилище доверия {trust['path']}: корневых {trust['roots']}, промежуточных "
                      f"{trust['intermediates']}, СОС {trust['crls']} (последнее следующее обновление {crl}, "
                      f"просрочено {trust['crls_past_next_update']})"))
    state = report["state"]
    if _error(state):
        out.append(tr(f"state: {_error(state)}", f"состояние: {_error(state)}"))
    else:
        out.append(tr(f"state {state['directory']}: {state['paired_sites']} paired site(s)",
                      f"состояние {state['directory']}: подключённых сайтов {state['paired_sites']}"))
    return out


@cli.command("diagnostics")
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The agent's state directory (default: the user's configuration directory).")
@json_option("Print the whole report as JSON.")
def diagnostics_command(state_dir: Path | None, as_json: bool) -> None:
    """What support needs: modules, readers, pcscd, trust store, state (no secret is shown)."""
    from signagent.service.agent_state import default_state_dir
    from signagent.service.diagnostics import diagnostics

    report = diagnostics(settings(), state_dir or default_state_dir())
    if as_json:
        emit_json(report)
        return
    for line in _lines(report):
        click.echo(line)
