"""``signagent token keygen|csr|import|delete``: key pairs and certificates on a PKCS#11 token.

The usual way to a qualified certificate on a token: ``token csr --new-key`` (key pair made on the token, request
signed by it) -> the CA issues the certificate -> ``token import`` puts it next to its key.
"""

from __future__ import annotations

import sys

import click

from signagent.errors import UsageError
from signagent.service.choices import DEFAULT_CURVE

from ._common import TEXT, cli, emit_json, json_option, settings, tr
from ._pin import pin_provider
from .keys import request_options, request_parts

_TOKEN = click.option("--token", "token", required=True, type=TEXT,
                      help="Label (or serial) of the token; `signagent tokens` lists them.")
_PIN_FILE = click.option("--pin-file", "pin_file", type=click.Path(dir_okay=False),
                         help="File whose first line is the PIN (default: asked on the terminal).")
_MODULE = click.option("--module", "modules", multiple=True, type=click.Path(dir_okay=False),
                       help="An extra PKCS#11 module to load.")



def _key_id(text: str | None) -> bytes | None:
    if text is None:
        return None
    try:
        value = bytes.fromhex(text.replace(":", "").replace(" ", ""))
    except ValueError:
        value = b""
    if not value:
        raise UsageError(f"--key-id wants hex digits (the id `signagent token keygen` printed), not {text!r}",
                         message_ru=f"--key-id: нужны шестнадцатеричные цифры, а не {text!r}")
    return value


@cli.group("token")
def token_group() -> None:
    """Key pairs and certificates on a PKCS#11 token (the private key never leaves the token)."""


@token_group.command("keygen")
@_TOKEN
@click.option("--curve", "curve_name", default=None, type=TEXT,
              help="Parameter set: a name, alias (tc26-256-A, tc26-512-A, cryptopro-A...) or OID. "
                   "Default: TC 26 256-bit paramSetA.")
@click.option("--label", "key_label", default="", type=TEXT, help="Label of the new key objects.")
@click.option("--key-id", "key_id", type=TEXT, help="CKA_ID for the pair, hex (default: 20 random bytes).")
@_PIN_FILE
@_MODULE
@json_option("Print JSON.")
def token_keygen(token: str, curve_name: str | None, key_label: str, key_id: str | None, pin_file: str | None,
                 modules: tuple[str, ...], as_json: bool) -> None:
    """Generate a GOST R 34.10-2012 key pair on the token; print its id and public key."""
    from signagent.service import policy, token_access

    made = token_access.generate_key(token, curve_name or DEFAULT_CURVE, pin_provider(pin_file),
                                     key_label=key_label, key_id=_key_id(key_id),
                                     extra_modules=policy.pkcs11_modules(settings(), modules))
    if as_json:
        emit_json(made.to_dict())
        return
    click.echo(tr(f"key pair {made.key_id.hex()} on «{made.token_label}» ({made.token_serial}): "
                  f"{made.public_key.curve.name}",
                  f"ключевая пара {made.key_id.hex()} на токене «{made.token_label}» ({made.token_serial}): "
                  f"{made.public_key.curve.name}"))


@token_group.command("csr")
@_TOKEN
@click.option("--key-id", "key_id", type=TEXT, help="Sign with this existing key pair (hex CKA_ID).")
@click.option("--new-key", is_flag=True, help="Generate a new key pair on the token first.")
@click.option("--curve", "curve_name", default=None, type=TEXT,
              help="Parameter set of the new key (default: tc26-256-A).")
@click.option("--label", "key_label", default="", type=TEXT, help="Label of the new key objects.")
@request_options
@click.option("-o", "--out", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the request here (default: stdout). An existing file is kept unless --force.")
@click.option("--der", is_flag=True, help="Write DER instead of PEM (needs -o).")
@click.option("--force", is_flag=True, help="Replace an existing -o file.")
@_PIN_FILE
@_MODULE
def token_csr(token: str, key_id: str | None, new_key: bool, curve_name: str | None, key_label: str,
              out: str | None, der: bool, force: bool, pin_file: str | None, modules: tuple[str, ...],
              **options: object) -> None:
    """Make a PKCS#10 request signed by a key pair on the token (subject options as in `signagent csr`).

    \b
    signagent token csr --token "Head" --new-key --profile head --cn 'ООО «Ромашка»' --surname Иванов
        --given-name 'Иван Иванович' --org 'ООО «Ромашка»' --ogrn ... --innle ... --inn ... -o req.csr
    """
    from signagent.service import keys, policy, token_access

    if new_key == (key_id is not None):
        raise UsageError("give exactly one of --key-id and --new-key",
                         message_ru="укажите ровно один из параметров --key-id и --new-key")
    if curve_name is not None and not new_key:
        raise UsageError("--curve goes with --new-key", message_ru="--curve задаётся вместе с --new-key")
    if der and out is None:
        raise UsageError("--der needs -o FILE", message_ru="для --der нужен -o ФАЙЛ")
    if out is not None:  # refuse before a key pair is made on the token
        keys.check_new_output(out, overwrite=force)
    subject, extensions = request_parts(options)
    data, made = token_access.make_request(
        token, subject, extensions, pin_provider(pin_file), key_id=_key_id(key_id),
        new_key_curve=(curve_name or DEFAULT_CURVE) if new_key else None, key_label=key_label, out=None,
        der=der, extra_modules=policy.pkcs11_modules(settings(), modules))
    if out is not None:
        keys.write_request(data, out, overwrite=force)
    if out is None:
        click.echo(data.decode("ascii"), nl=False)
    else:
        click.echo(tr(f"{out}: request for key pair {made.key_id.hex()} on «{made.token_label}»",
                      f"{out}: запрос для ключевой пары {made.key_id.hex()} на токене «{made.token_label}»"), err=True)


@token_group.command("import")
@click.argument("certificate", type=click.Path(dir_okay=False))
@_TOKEN
@click.option("--label", "label", default="", type=TEXT, help="Label of the certificate object (default: its CN).")
@_PIN_FILE
@_MODULE
def token_import(certificate: str, token: str, label: str, pin_file: str | None, modules: tuple[str, ...]) -> None:
    """Put an issued CERTIFICATE on the token next to its key pair."""
    from signagent.service import policy, token_access

    cert, kid = token_access.import_certificate(token, certificate, pin_provider(pin_file), label=label,
                                                extra_modules=policy.pkcs11_modules(settings(), modules))
    click.echo(tr(f"certificate {cert.streebog_thumbprint[:16]} stored with key pair {kid.hex()}",
                  f"сертификат {cert.streebog_thumbprint[:16]} записан к ключевой паре {kid.hex()}"))


@token_group.command("delete")
@_TOKEN
@click.option("--cert", "cert", help="The certificate to delete: id, SHA-1 thumbprint or file.")
@click.option("--with-key", is_flag=True, help="Also delete the certificate's key pair (irreversible).")
@click.option("--key-id", "key_id", type=TEXT, help="Delete every object with this CKA_ID (hex) instead.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@_PIN_FILE
@_MODULE
def token_delete(token: str, cert: str | None, with_key: bool, key_id: str | None, yes: bool, pin_file: str | None,
                 modules: tuple[str, ...]) -> None:
    """Delete a certificate (and with --with-key its key pair), or all objects of one key id, from the token."""
    if (cert is None) == (key_id is None):
        raise UsageError("give exactly one of --cert and --key-id",
                         message_ru="укажите ровно один из параметров --cert и --key-id")
    if with_key and cert is None:
        raise UsageError("--with-key goes with --cert", message_ru="--with-key задаётся вместе с --cert")
    kid = _key_id(key_id)
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError("deleting from a token needs confirmation: add --yes",
                             message_ru="удаление с токена требует подтверждения: добавьте --yes")
        what = f"--cert {cert}" + (" --with-key" if with_key else "") if cert else f"--key-id {key_id}"
        click.confirm(tr(f"Delete {what} from «{token}»? This cannot be undone",
                         f"Удалить {what} с токена «{token}»? Отменить будет нельзя"), abort=True, err=True)
    from signagent.service import policy, token_access

    count = token_access.delete_objects(token, pin_provider(pin_file), certificate=cert, key_id=kid,
                                        with_key=with_key, extra_modules=policy.pkcs11_modules(settings(), modules))
    click.echo(tr(f"{count} object(s) deleted", f"удалено объектов: {count}"))
