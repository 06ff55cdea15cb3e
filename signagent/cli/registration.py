"""``signagent registration verify``: check a signed registration request as a portal would (DESIGN.md
section 9, issue 14)."""

from __future__ import annotations

from typing import Any

import click

from ._common import TEXT, cli, emit_json, json_option, russian, settings

_STATUS_WORDS = {
    "valid": ("VALID", "ДЕЙСТВИТЕЛЕН"),
    "invalid": ("INVALID", "НЕДЕЙСТВИТЕЛЕН"),
    "indeterminate": ("INDETERMINATE", "НЕ УДАЛОСЬ ПРОВЕРИТЬ"),
}
_TYPES = {
    "head-registration": ("registration of an organisation by its head", "регистрация организации руководителем"),
    "entrepreneur-registration": ("registration of an individual entrepreneur",
                                  "регистрация индивидуального предпринимателя"),
    "employee-registration": ("an employee joins an organisation", "присоединение сотрудника к организации"),
}


@cli.group("registration")
def registration_group() -> None:
    """Registration in a portal with a qualified certificate: verify signed registration requests."""


def _subject(request: dict[str, Any] | None) -> str | None:
    if not request:
        return None
    org = request.get("organisation") or {}
    ip = request.get("entrepreneur") or {}
    if ip:
        name = " ".join(p for p in (ip.get("surname"), ip.get("name"), ip.get("patronymic")) if p)
        return f"{name}, ОГРНИП {ip.get('ogrnip')}"
    name = org.get("short_name") or org.get("full_name")
    numbers = ", ".join(f"{label} {org[key]}" for key, label in (("ogrn", "ОГРН"), ("inn", "ИНН")) if org.get(key))
    return ", ".join(p for p in (name, numbers) if p) or None


def _render(doc: dict[str, Any], ru: bool) -> str:
    pick = 1 if ru else 0
    lines = [_STATUS_WORDS[doc["status"]][pick]]
    kind = _TYPES.get(doc.get("type") or "")
    if kind:
        lines.append(f"  {'запрос' if ru else 'request'}: {kind[pick]}")
    subject = _subject(doc.get("request"))
    if subject:
        lines.append(f"  {'кто регистрируется' if ru else 'registering'}: {subject}")
    signer = doc.get("signer")
    if signer:
        name = signer.get("owner_name") or signer["subject"]
        org = signer.get("organisation")
        lines.append(f"  {'подписант' if ru else 'signer'}: {name}" + (f" ({org})" if org and org != name else ""))
        lines.append(f"    {'сертификат' if ru else 'certificate'}: {signer['sha1']}  "
                     f"{'серийный номер' if ru else 'serial'} {signer['serial']}")
    if doc.get("signed_origin"):
        lines.append(f"  {'сайт в подписи (origin)' if ru else 'origin in the signature'}: {doc['signed_origin']}")
    if doc.get("nonce") == "ok":
        lines.append(f"  nonce: {'принят (теперь использован)' if ru else 'accepted (now used)'}")
    for r in doc["reasons"]:
        lines.append(f"  {'причина' if ru else 'reason'}: {r['code']}: {r['message_ru' if ru else 'message']}")
    for p in doc.get("problems") or ():
        where = p.get("path") or "-"
        lines.append(f"    {where}: {p.get('message_ru' if ru else 'message')}")
    return "\n".join(lines)


@registration_group.command("verify")
@click.argument("signed", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--origin", "origin", required=True, type=TEXT,
              help="The portal's own origin (https://portal.example): the signature and the request must name it.")
@click.option("--nonce", "nonce", required=True, type=TEXT,
              help="The nonce the portal issued for this request (64 hex digits); taken as issued and unused.")
@click.option("--egrul", "egrul_paths", multiple=True, type=click.Path(dir_okay=False),
              help="A ЕГРЮЛ extract in the ФНС XML format (repeatable).")
@click.option("--egrip", "egrip_paths", multiple=True, type=click.Path(dir_okay=False),
              help="A ЕГРИП extract in the ФНС XML format (repeatable).")
@click.option("--organisation", "organisations", multiple=True, type=TEXT,
              help="ОГРН or ИНН of an organisation registered in the portal, for employee requests (repeatable).")
@click.option("--trust", "trust_paths", multiple=True, type=click.Path(),
              help="Trusted roots: a file (PEM/DER/base64, bundles too) or a directory. Default: the trust store.")
@click.option("--intermediate", "intermediate_paths", multiple=True, type=click.Path(),
              help="Intermediate CA certificates: a file or a directory.")
@click.option("--crl", "crl_paths", multiple=True, type=click.Path(), help="CRL files or directories.")
@click.option("--at", "at", type=TEXT, help="Time of the chain check (ISO-8601). Default: now.")
@click.option("--offline", is_flag=True, help="No network: revocation data only from --crl files and the cache.")
@json_option("Print the verification report as JSON (an error as {\"error\": {...}}).")
def verify_command(signed: str, origin: str, nonce: str, egrul_paths: tuple[str, ...], egrip_paths: tuple[str, ...],
                   organisations: tuple[str, ...], trust_paths: tuple[str, ...], intermediate_paths: tuple[str, ...],
                   crl_paths: tuple[str, ...], at: str | None, offline: bool, as_json: bool) -> None:
    """Verify a signed registration request as the portal at --origin would: the signature, the origin it was
    made for, the certificate (chain now, revocation hard, qualified), the request, the nonce, and the signer
    against the ЕГРЮЛ / ЕГРИП extracts. Exit 0 valid, 1 invalid, 2 indeterminate or a usage error.

    SIGNED is the CMS the agent returned (DER, PEM or base64; '-': standard input).
    """
    from signagent.registration.commands import verify_registration_files
    from signagent.registration.report import exit_code

    report = verify_registration_files(
        signed, origin=origin, nonce=nonce, egrul_paths=egrul_paths, egrip_paths=egrip_paths,
        trust_paths=trust_paths, intermediate_paths=intermediate_paths, crl_paths=crl_paths,
        organisations=organisations, at=at, offline=offline, config=settings())
    doc = report.to_dict()
    if as_json:
        emit_json(doc)
    else:
        click.echo(_render(doc, russian()))
    raise click.exceptions.Exit(exit_code(report))
