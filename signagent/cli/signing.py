"""``signagent sign`` and ``signagent verify`` (DESIGN.md section 3)."""

from __future__ import annotations

import click

from signagent.service.choices import REVOCATION_MODES

from ._common import TEXT, cli, emit_json, json_option, russian, settings
from ._pin import pin_provider

_STATUS_WORDS = {
    "valid": ("VALID", "ДЕЙСТВИТЕЛЬНА"),
    "invalid": ("INVALID", "НЕДЕЙСТВИТЕЛЬНА"),
    "indeterminate": ("INDETERMINATE", "НЕ УДАЛОСЬ ПРОВЕРИТЬ"),
}


@cli.command("sign")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--cert", "cert", required=True,
              help="With --key: the signer's certificate file (PEM/DER/base64; further certificates in the file are "
                   "included as the chain). With --token: the certificate's id as `signagent certs` shows it (at "
                   "least 8 hex digits), its SHA-1 thumbprint, or its file.")
@click.option("--key", "key", type=click.Path(dir_okay=False), help="PKCS#8 private key file (PEM or DER).")
@click.option("--token", "token", type=TEXT,
              help="Label (or serial) of the token holding the key; `signagent tokens` lists them.")
@click.option("--pin-file", "pin_file", type=click.Path(dir_okay=False),
              help="File whose first line is the token PIN (or the password of an encrypted --key). Without it the "
                   "PIN is asked on the terminal.")
@click.option("--chain", "chain", multiple=True, type=click.Path(dir_okay=False),
              help="With --token: certificates to include after the signer's (the CA chain).")
@click.option("--module", "modules", multiple=True, type=click.Path(dir_okay=False),
              help="With --token: an extra PKCS#11 module to load.")
@click.option("--detached", is_flag=True, help="Leave the content out of the signature.")
@click.option("--pem", is_flag=True, help="Write PEM (-----BEGIN CMS-----) instead of DER.")
@click.option("--origin", "origin", type=TEXT, default=None,
              help="State a web origin (https://portal.example) in the signature, as the agent does for a page that "
                   "asks it to sign; `signagent verify` reports it.")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="Where to write the signature: a regular file, replaced atomically when the signature is "
                   "complete, or '-' for standard output. A device, FIFO or socket is refused.")
def sign_command(file: str, cert: str, key: str | None, token: str | None, pin_file: str | None,
                 chain: tuple[str, ...], modules: tuple[str, ...], detached: bool, pem: bool, origin: str | None,
                 output: str) -> None:
    """Sign FILE: CAdES-BES (GOST R 34.10-2012, Streebog), attached unless --detached; any file size.

    FILE is a regular file or '-' for standard input (an attached signature takes at most 1 GiB from it; sign
    a regular file for more). A device or FIFO is refused: it may never end.

    \b
    With a key file:  signagent sign doc.pdf --cert me.pem --key me.key -o doc.pdf.sig
    With a token:     signagent sign doc.pdf --token "Rutoken ECP" --cert 3f9c2a1b -o doc.pdf.sig
    """
    from signagent.service import signatures

    if (key is None) == (token is None):
        raise click.UsageError("give exactly one of --key and --token")
    if token is None:
        if chain or modules:
            raise click.UsageError("--chain and --module go with --token (with --key, the chain is in the --cert file)")
        password = signatures.read_password_file(pin_file) if pin_file else None
        signatures.sign_file(file, certificate_path=cert, key_path=key, key_password=password,  # type: ignore[arg-type]
                             detached=detached, pem=pem, output_path=output, origin=origin)
        return
    # the token layer (and the policy it needs) only here: signing with a key file starts faster without it
    from signagent.service import policy, token_access

    config = settings()
    token_access.sign_file_with_token(file, token=token, certificate=cert, pin_provider=pin_provider(pin_file),
                                      output_path=output, chain_paths=chain, detached=detached, pem=pem,
                                      extra_modules=policy.pkcs11_modules(config, modules),
                                      keys_dir=str(config.keys_dir), origin=origin)


def _signer_name(signer: dict) -> str:
    if not signer["signer"]:
        return "?"
    name = signer["signer"].get("owner_name") or signer["signer"]["subject"]
    org = signer["signer"]["identity"].get("organization")
    return f"{name} ({org})" if org and org != name else name


def _render(doc: dict, ru: bool) -> str:
    lines = [_STATUS_WORDS[doc["status"]][1 if ru else 0]
             + (" (отсоединённая)" if ru and doc["detached"] else " (detached)" if doc["detached"] else "")]
    for r in doc["reasons"]:
        lines.append(f"  {'причина' if ru else 'reason'}: {r['code']}: {r['message_ru' if ru else 'message']}")
    for s in doc["signers"]:
        word = _STATUS_WORDS[s["status"]][1 if ru else 0]
        lines.append(f"  {'подписант' if ru else 'signer'} {s['index'] + 1}: {word}  {_signer_name(s)}")
        if s["signer"]:
            lines.append(f"    {'сертификат' if ru else 'certificate'}: {s['signer']['sha1']}  "
                         f"{'серийный номер' if ru else 'serial'} {s['signer']['serial']}")
        if s["signing_time"]:
            claim = "(заявлено подписантом)" if ru else "(claimed by the signer)"
            lines.append(f"    {'время подписания' if ru else 'signing time'}: {s['signing_time']} {claim}")
        lines.append(f"    CAdES-BES: {('да' if ru else 'yes') if s['cades_bes'] else ('нет' if ru else 'no')}")
        if s.get("origin"):
            lines.append(f"    {'сайт (origin)' if ru else 'origin'}: {s['origin']}")
        for key, label in (("reasons", ("reason", "причина")), ("warnings", ("warning", "предупреждение"))):
            for r in s[key]:
                lines.append(f"    {label[1 if ru else 0]}: {r['code']}: {r['message_ru' if ru else 'message']}")
    return "\n".join(lines)


@cli.command("verify")
@click.argument("signature", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--content", "content", type=click.Path(dir_okay=False, allow_dash=True),
              help="The signed file, for a detached signature ('-': standard input).")
@click.option("--cert", "cert_paths", multiple=True, type=click.Path(),
              help="Extra certificates in which to look for signers the signature does not carry.")
@click.option("--trust", "trust_paths", multiple=True, type=click.Path(),
              help="Trusted roots: a file (PEM/DER/base64, bundles too) or a directory. Default: the trust store.")
@click.option("--intermediate", "intermediate_paths", multiple=True, type=click.Path(),
              help="Intermediate CA certificates: a file or a directory.")
@click.option("--crl", "crl_paths", multiple=True, type=click.Path(), help="CRL files or directories.")
@click.option("--at", "at", type=TEXT,
              help="Time of the chain check: ISO-8601, or 'signing-time' (the time the signer claims). Default: now.")
@click.option("--offline", is_flag=True, help="No network: revocation data only from --crl files and the cache.")
@click.option("--revocation", type=click.Choice(REVOCATION_MODES),
              help="soft: unknown status gives valid with a warning; hard: indeterminate; off: not checked. "
                   "Default: the configuration's, else soft.")
@json_option("Print the verification report as JSON (an error as {\"error\": {...}}).")
def verify_command(signature: str, content: str | None, cert_paths: tuple[str, ...], trust_paths: tuple[str, ...],
                   intermediate_paths: tuple[str, ...], crl_paths: tuple[str, ...], at: str | None, offline: bool,
                   revocation: str | None, as_json: bool) -> None:
    """Verify a CMS/CAdES-BES signature: every signer, content, chain. Exit 0 valid, 1 invalid, 2 indeterminate.

    SIGNATURE is a regular file (at most 1 GiB) or '-' for standard input. Without --trust, the roots,
    intermediates and CRLs of the user's trust store are used.
    """
    from signagent.service import reports, signatures

    report = signatures.verify_signature_file(
        signature, content_path=content, certificate_paths=cert_paths, trust_paths=trust_paths,
        intermediate_paths=intermediate_paths, crl_paths=crl_paths, at=at, offline=offline,
        revocation=revocation, config=settings())  # type: ignore[arg-type]
    doc = reports.verification_document(report)
    if as_json:
        emit_json(doc)
    else:
        click.echo(_render(doc, russian()))
    raise click.exceptions.Exit(signatures.exit_code(report))
