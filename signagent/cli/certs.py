"""``signagent cert show | validate``."""

from __future__ import annotations

import click

from ._common import TEXT, cli, emit_json, lazy_module, russian

certificates = lazy_module("signagent.service.certificates")
validation = lazy_module("signagent.service.validation")
trust_store = lazy_module("signagent.trust.store")
x509 = lazy_module("signagent.x509")


@cli.group("cert")
def cert_group() -> None:
    """Inspect and validate certificates."""


@cert_group.command("show")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON: an object for one certificate, a list for a bundle of several.")
def cert_show(file: str, as_json: bool) -> None:
    """Show a certificate (DER, PEM, base64 or a PKCS#7 bundle): owner, ОГРН/ИНН/СНИЛС, validity, keys, extensions."""
    descriptions = [certificates.describe_certificate(c) for c in x509.load_certificates_file(file)]
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


def _short_name(subject: str) -> str:
    """The CN of a subject as the report prints it ("Common Name: X; ..."), else the whole subject."""
    for part in subject.split("; "):
        if part.startswith("Common Name: "):
            return part[len("Common Name: "):]
    return subject


def _render_report(report: dict, ru: bool) -> str:
    lines = [_STATUS_WORDS[report["status"]][1 if ru else 0] + f"  ({report['validated_at']})"]
    for item in report["chain"]:
        lines.append(f"  {item['role']:<12} {item['sha1']}  {_short_name(item['subject'])}")
    for key, label in (("reasons", ("reason", "причина")), ("warnings", ("warning", "предупреждение"))):
        for r in report[key]:
            text = r["message_ru"] if ru else r["message"]
            who = f" [{_short_name(r['subject'])}]" if r.get("subject") else ""
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
@click.option("--revocation", type=click.Choice(["soft", "hard", "off"]), default="soft", show_default=True,
              help="soft: unknown status gives valid with a warning; hard: indeterminate; off: not checked.")
@click.option("--json", "as_json", is_flag=True, help="Print the validation report as JSON.")
def cert_validate(file: str, trust_paths: tuple[str, ...], intermediate_paths: tuple[str, ...],
                  crl_paths: tuple[str, ...], at: str | None, offline: bool, revocation: str, as_json: bool) -> None:
    """Validate a certificate's chain to a trusted root, with revocation. Exit 0 valid, 1 invalid, 2 indeterminate."""
    extra: dict[str, object] = {}
    if not trust_paths:  # DESIGN.md section 3: without --trust the user's trust store is used
        store = trust_store.TrustStore()
        extra = {"trust_roots": store.roots(), "intermediates": store.intermediates(), "crls": store.crls()}
    report = validation.validate_certificate_file(
        file, trust_paths=trust_paths, intermediate_paths=intermediate_paths, crl_paths=crl_paths,
        at=at, offline=offline, revocation=revocation, **extra)  # type: ignore[arg-type]
    doc = report.to_dict()
    if as_json:
        emit_json(doc)
    else:
        click.echo(_render_report(doc, russian()))
    raise click.exceptions.Exit(validation.exit_code(report))


