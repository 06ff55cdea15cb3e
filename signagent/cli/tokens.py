"""``signagent tokens`` (modules, tokens, readers) and ``signagent certs`` (the certificate inventory)."""

from __future__ import annotations

import click

from ._common import EXIT_ERROR, EXIT_OK, cli, emit_json, error_text, json_option, one_line, settings, tr


def _error_line(error: dict) -> str:
    return f"  ! {error['code']}: {error_text(error)}"


def _card_line(card: dict) -> str:
    """The card's PKCS#15 label and serial, and the PKCS#11 token it also is (or why it could not be read)."""
    if card["error"]:
        err = card["error"]
        return f"PKCS#15: {tr('not read', 'не прочитана')} ({err['code']}: " \
               f"{error_text(err)})"
    line = f"PKCS#15: «{card['label']}»  {tr('serial', 'серийный номер')}: {card['serial']}"
    if card["same_as"]:
        same = card["same_as"][0]
        line += "  " + tr(f"= PKCS#11 token «{same['label']}» ({same['module']})",
                          f"= токен PKCS#11 «{same['label']}» ({same['module']})")
    else:
        line += "  " + tr("(read over PC/SC, no PKCS#11 module shows it)",
                          "(читается через PC/SC, ни один модуль PKCS#11 его не показывает)")
    return line


@cli.command("tokens")
@click.option("--module", "modules", multiple=True, type=click.Path(dir_okay=False),
              help="An extra PKCS#11 module to load (besides the usual paths and the configured pkcs11_modules: "
                   "$SIGNAGENT_PKCS11_MODULES or the configuration file).")
@json_option("Print JSON.")
def tokens_command(modules: tuple[str, ...], as_json: bool) -> int:
    """List PKCS#11 modules with their tokens (model, serial) and PC/SC readers with their cards.

    Exit status 2 when no source could be used at all (every PKCS#11 module failed to load and there is no PC/SC
    service), with the first failure as the reason; 0 when at least one works (failures are listed).
    """
    from signagent.service import policy, sources

    view = sources.list_tokens(policy.pkcs11_modules(settings(), modules))
    failure = _all_failed(view)
    if as_json:
        emit_json(view if failure is None else {**view, "error": failure})
        return EXIT_OK if failure is None else EXIT_ERROR
    lines = [tr("PKCS#11 modules:", "Модули PKCS#11:")]
    if not view["modules"]:
        lines.append("  " + tr("(none loaded)", "(не загружено ни одного)"))
    for module in view["modules"]:
        lines.append(f"  {module['path']}  {module['description']}")
        if not module["tokens"]:
            lines.append("    " + tr("(no token)", "(токенов нет)"))
        for tok in module["tokens"]:
            state = tr(" [PIN locked]", " [PIN заблокирован]") if tok["pin_locked"] else ""
            lines.append(f"    «{tok['label']}»  {tr('model', 'модель')}: {tok['model']}  "
                         f"{tr('serial', 'серийный номер')}: {tok['serial']}{state}")
    lines.append(tr("PC/SC readers:", "Считыватели PC/SC:"))
    if not view["pcsc"]["available"]:
        err = view["pcsc"]["error"]
        lines.append("  " + error_text(err))
    elif not view["readers"]:
        lines.append("  " + tr("(none)", "(нет)"))
    for reader in view["readers"]:
        if reader["present"]:
            card = tr("card", "карта") + f": {reader['model'] or tr('unknown model', 'модель неизвестна')}"
        else:
            card = tr("no card", "карты нет")
        lines.append(f"  {reader['name']}  {card}")
        if reader.get("card"):
            lines.append("    " + _card_line(reader["card"]))
    if view["errors"]:
        lines.append(tr("Errors:", "Ошибки:"))
        lines.extend(_error_line(e) for e in view["errors"])
    click.echo("\n".join(lines))
    if failure is not None:
        click.echo(f"signagent: {one_line(error_text(failure))}", err=True)
        return EXIT_ERROR
    return EXIT_OK


def _all_failed(view: dict) -> dict | None:
    """The error of ``signagent tokens`` when no source works: modules were tried and none loaded, and PC/SC is
    not available (``--json``'s ``error``: the first failure, its message saying how many failed); else None.
    A machine with no module configured or found and no PC/SC has nothing that failed: that is exit 0."""
    if view["modules"] or view["pcsc"]["available"] or not view["errors"]:
        return None
    first = view["errors"][0]
    count = len(view["errors"])
    more, more_ru = (f" (and {count - 1} more)", f" (и ещё {count - 1})") if count > 1 else ("", "")
    return {**first,
            "message": f"no token source could be used: {first['message']}{more}",
            "message_ru": f"не удалось использовать ни один источник токенов: {first['message_ru']}{more_ru}"}


def _owner(identity: dict) -> str:
    return str(identity.get("full_name") or identity.get("common_name") or "")


def _render_inventory(data: dict) -> str:
    head = ("ID", tr("Owner", "Владелец"), tr("Organisation", "Организация"), tr("Valid until", "Действует до"),
            tr("Days", "Дней"), tr("Key", "Ключ"), tr("Chain", "Цепочка"), tr("Source", "Источник"))
    rows = [head]
    notes: list[str] = []
    for cert in data["certificates"]:
        identity = cert["identity"]
        key = tr("yes", "есть") if cert["has_private_key"] else tr("no", "нет")
        rows.append((cert["id"][:16], _owner(identity), str(identity.get("organization") or ""),
                     cert["not_after"][:10], str(cert["days_left"]), key, cert["chain"]["status"],
                     f"{cert['source']['kind']}:{cert['source']['label']}"))
        for warning in cert["warnings"]:
            notes.append(f"  {cert['id'][:16]}: {error_text(warning)}")
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    if len(rows) == 1:
        lines.append(tr("(no certificates)", "(сертификатов нет)"))
    if notes:
        lines.append(tr("Warnings:", "Предупреждения:"))
        lines.extend(notes)
    if data["errors"]:
        lines.append(tr("Sources not listed:", "Не прочитаны:"))
        for item in data["errors"]:
            src = item["source"]
            where = ""
            if src:
                where = f"{src['kind']}:{src['label']}" + (f" ({src['serial']})" if src["serial"] else "")
            err = item["error"]
            lines.append(f"  ! {where + ' ' if where else ''}{err['code']}: {error_text(err)}")
    pcsc = data.get("pcsc")
    if pcsc and not pcsc["available"] and pcsc["error"]:  # quiet: a machine without pcscd is normal
        lines.append(f"(PC/SC: {error_text(pcsc['error'])})")
    return "\n".join(lines)


@cli.command("certs")
@click.option("--module", "modules", multiple=True, type=click.Path(dir_okay=False),
              help="An extra PKCS#11 module to load.")
@click.option("--keys-dir", type=click.Path(file_okay=False), help="The software key directory (default: the user's).")
@click.option("--trust", "trust_paths", multiple=True, type=click.Path(),
              help="Trusted roots (file or directory) in addition to the trust store.")
@click.option("--intermediate", "intermediate_paths", multiple=True, type=click.Path(),
              help="Intermediate CA certificates (file or directory) in addition to the trust store's.")
@click.option("--no-trust-store", is_flag=True, help="Do not use the user's trust store.")
@click.option("--online", is_flag=True, help="Allow network access for revocation data.")
@click.option("--revocation", type=click.Choice(["soft", "hard", "off"]), default="off", show_default=True,
              help="Revocation checking for the chain status.")
@json_option("Print JSON.")
def certs_command(modules: tuple[str, ...], keys_dir: str | None, trust_paths: tuple[str, ...],
                  intermediate_paths: tuple[str, ...], no_trust_store: bool, online: bool, revocation: str,
                  as_json: bool) -> int:
    """The certificate inventory: every certificate on tokens, cards and in the key directory, with its chain
    status. The ID column is the start of the id `signagent sign --token ... --cert ID` takes."""
    from signagent.service import inventory, policy, validation

    config = settings(keys_dir=keys_dir)
    store = {} if no_trust_store else policy.store_material(config)
    result = inventory.collect_inventory(
        use_trust_store=False,  # the configured store, added here: the inventory's own default ignores the config
        trust_roots=validation.load_certificate_paths(trust_paths) + store.get("trust_roots", []),
        intermediates=validation.load_certificate_paths(intermediate_paths) + store.get("intermediates", []),
        crls=store.get("crls", []), extra_modules=policy.pkcs11_modules(config, modules),
        keys_dir=str(config.keys_dir), offline=not online, revocation=revocation)
    data = result.to_dict()
    if as_json:
        emit_json(data)
    else:
        click.echo(_render_inventory(data))
    return EXIT_OK
