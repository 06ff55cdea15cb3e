"""``signagent cert show | validate``."""

from __future__ import annotations

import click

from signagent.service.choices import REVOCATION_MODES

from ._common import TEXT, cli, emit_json, json_option, russian, settings


@cli.group("cert")
def cert_group() -> None:
    """Inspect and validate certificates."""


@cert_group.command("show")
@click.argument("file", type=click.Path(dir_okay=False))
@json_option("Print JSON: an object for one certificate, a list for a bundle of several.")
def cert_show(file: str, as_json: bool) -> None:
    """Show a certificate (DER, PEM, base64 or a PKCS#7 bundle): owner, ОГРН/ИНН/СНИЛС, validity, keys, extensions."""
    from signagent.service import certificates

    descriptions = certificates.describe_certificate_file(file)
    if as_json:
        emit_json(descriptions[0] if len(descriptions) == 1 else descriptions)
        return
    lang = "ru" if russian() else "en"
    click.echo("\n\n".join(certificates.render_certificate(d, lang) for d in descriptions))


_STATUS_WORDS = {
    "valid": ("VALID", "ДЕЙСТВИТЕЛЕН"),
    "invalid": ("INVALID", "НЕДЕЙСТВИТЕЛЕН"),
    "indeterminate": ("INDETERMINATE", "НЕ УДАЛОСЬ ПРОВЕРИТЬ"),
}


def _render_report(report: dict, ru: bool) -> str:
    lines = [_STATUS_WORDS[report["status"]][1 if ru else 0] + f"  ({report['validated_at']})"]
    for item in report["chain"]:
        lines.append(f"  {item['role']:<12} {item['sha1']}  {item.get('owner_name') or item['subject']}")
    for key, label in (("reasons", ("reason", "причина")), ("warnings", ("warning", "предупреждение"))):
        for r in report[key]:
            text = r["message_ru"] if ru else r["message"]
            who = f" [{r.get('owner_name') or r['subject']}]" if r.get("subject") else ""
            lines.append(f"  {label[1 if ru else 0]}: {r['code']}: {text}{who}")
    if len(report["paths"]) > 1:
        lines.append(f"  {'путей найдено' if ru else 'paths found'}: {len(report['paths'])}")
    return "\n".join(lines)


@cert_group.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--trust", "trust_paths", multiple=True, type=click.Path(),
              help="Trusted roots: a file (PEM/DER/base64, bundles too) or a directory. Default: the trust store.")
@click.option("--intermediate", "intermediate_paths", multiple=True, type=click.Path(),
              help="Intermediate CA certificates: a file or a directory.")
@click.option("--crl", "crl_paths", multiple=True, type=click.Path(), help="CRL files or directories.")
@click.option("--at", "at", type=TEXT, help="Validation time, ISO-8601, years 1950-9998 (default: now).")
@click.option("--offline", is_flag=True, help="No network: revocation data only from --crl files and the cache.")
@click.option("--revocation", type=click.Choice(REVOCATION_MODES),
              help="soft: unknown status gives valid with a warning; hard: indeterminate; off: not checked. "
                   "Default: the configuration's, else soft.")
@json_option("Print the validation report as JSON.")
def cert_validate(file: str, trust_paths: tuple[str, ...], intermediate_paths: tuple[str, ...],
                  crl_paths: tuple[str, ...], at: str | None, offline: bool, revocation: str | None,
                  as_json: bool) -> None:
    """Validate a certificate's chain to a trusted root, with revocation. Exit 0 valid, 1 invalid, 2 indeterminate.

    Without --trust, the roots, intermediates and CRLs of the user's trust store are used.
    """
    from signagent.service import validation

    report, doc = validation.certificate_report(
        file, config=settings(), trust_paths=trust_paths, intermediate_paths=intermediate_paths,
        crl_paths=crl_paths, at=at, offline=offline, revocation=revocation)
    if as_json:
        emit_json(doc)
    else:
        click.echo(_render_report(doc, russian()))
    raise click.exceptions.Exit(validation.exit_code(report))


