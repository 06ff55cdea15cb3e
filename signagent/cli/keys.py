"""``signagent key generate`` and ``signagent csr`` (make a PKCS#10 request) / ``signagent csr verify``."""

from __future__ import annotations

import sys

import click

from signagent.errors import SignAgentError, UsageError
from signagent.service.choices import DEFAULT_CURVE, KEY_PROFILES

from ._common import EXIT_ERROR, EXIT_INVALID, TEXT, cli, emit_json, json_option, russian


def _password_from(password_file: str | None, *, confirm: bool, what: str) -> bytes | None:
    """The password from --password-file, or typed on the terminal; None when neither is possible."""
    from signagent.service import keys, secrets

    if password_file is not None:
        return keys.read_password_file(password_file)
    if not sys.stdin.isatty():
        return None
    text = click.prompt(what, hide_input=True, confirmation_prompt=confirm, err=True)
    return secrets.typed_secret(text)  # held to what a --password-file could hold


@cli.group("key")
def key_group() -> None:
    """Software GOST R 34.10-2012 keys (PKCS#8 files)."""


@key_group.command("generate")
@click.option("--curve", "curve_name", default=DEFAULT_CURVE, show_default=True, type=TEXT,
              help="Parameter set: a name, alias (tc26-256-A, tc26-512-A, cryptopro-A...) or OID.")
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False), help="Key file to write (PEM).")
@click.option("--password-file", type=click.Path(dir_okay=False),
              help="Encrypt with the password on the first line of this file.")
@click.option("--no-encrypt", is_flag=True, help="Write the key WITHOUT a password (anyone who reads the file "
              "can sign with it).")
@click.option("--force", is_flag=True, help="Replace an existing file.")
@json_option("Print a JSON description of the new key.")
def key_generate(curve_name: str, out: str, password_file: str | None, no_encrypt: bool, force: bool,
                 as_json: bool) -> None:
    """Generate a key and write it as PKCS#8 PEM that OpenSSL's GOST engine reads.

    The key is encrypted (PBES2: PBKDF2 with HMAC-Streebog-512, GOST 28147-89; OpenSSL reads it with
    `openssl pkey -in KEY.pem`). The password comes from --password-file or is asked twice on the terminal;
    without a terminal one of --password-file or --no-encrypt is required. The file gets mode 0600 and an
    existing file is never replaced without --force.
    """
    from signagent.service import keys

    if no_encrypt and password_file is not None:
        raise UsageError("--no-encrypt and --password-file exclude each other",
                         message_ru="--no-encrypt и --password-file несовместимы")
    password = None
    if not no_encrypt:
        password = _password_from(password_file, confirm=True, what="Password for the new key")
        if password is None:
            raise UsageError("no terminal to ask for a password: give --password-file FILE or --no-encrypt",
                             message_ru="нет терминала для ввода пароля: укажите --password-file ФАЙЛ "
                                        "или --no-encrypt")
    result = keys.generate_key(out, curve_name, password=password, allow_unencrypted=no_encrypt, overwrite=force)
    if as_json:
        emit_json(result.to_dict())
        return
    state = ("зашифрован" if result.encrypted else "НЕ зашифрован") if russian() else (
        "encrypted" if result.encrypted else "NOT encrypted")
    click.echo(f"{result.path}: {result.curve} ({state})")


def _load_signing_key(key_path: str, password_file: str | None):
    from signagent.service import keys

    password = keys.read_password_file(password_file) if password_file else None
    try:
        return keys.load_key(key_path, password)
    except SignAgentError as err:
        if err.code != "password_required" or password_file is not None:
            raise
        typed = _password_from(None, confirm=False, what=f"Password for {key_path}")
        if typed is None:
            raise UsageError(f"{key_path} is encrypted: give --password-file FILE",
                             message_ru=f"{key_path} зашифрован: укажите --password-file ФАЙЛ") from None
        return keys.load_key(key_path, typed)


_SUBJECT_OPTIONS = (
    ("--cn", "common_name", "CN: the owner's ФИО, or the organisation's name (legal entity)."),
    ("--surname", "surname", "SN: фамилия."),
    ("--given-name", "given_name", "G: имя и отчество."),
    ("--title", "title", "T: должность."),
    ("--org", "organization", "O: organisation name."),
    ("--unit", "unit", "OU: department."),
    ("--country", "country", "C: two-letter country code (RU)."),
    ("--region", "region", "S: region, e.g. '77 г. Москва'."),
    ("--locality", "locality", "L: city."),
    ("--street", "street", "STREET: street address."),
    ("--email", "email", "E: e-mail address."),
    ("--ogrn", "ogrn", "ОГРН of the organisation (13 digits)."),
    ("--innle", "innle", "ИНН ЮЛ of the organisation (10 digits)."),
    ("--inn", "inn", "ИНН of the person (12 digits)."),
    ("--snils", "snils", "СНИЛС (11 digits, no separators)."),
    ("--ogrnip", "ogrnip", "ОГРНИП of an individual entrepreneur (15 digits)."),
)


def _subject_options(func):
    for flag, dest, help_text in reversed(_SUBJECT_OPTIONS):
        func = click.option(flag, dest, type=TEXT, help=help_text)(func)
    return func


def _split_attr(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value:
        raise UsageError(f"--attr wants NAME=VALUE, not {text!r}",
                         message_ru=f"--attr: нужно ИМЯ=ЗНАЧЕНИЕ, а не {text!r}")
    return name.strip(), value


def _list(values: tuple[str, ...]) -> list[str] | None:
    """Repeated or comma-separated option values; None when the option was not given."""
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def request_options(func):
    """The subject and extension options of a PKCS#10 request (``signagent csr`` and ``signagent token csr``)."""
    for option in reversed((
        click.option("--attr", "attrs", multiple=True, metavar="NAME=VALUE", type=TEXT,
                     help="Another subject attribute by label or dotted OID (repeatable), appended at the end."),
        click.option("--profile", type=click.Choice(KEY_PROFILES),
                     help="Defaults for the extensions and the subject fields required: head, employee, ip, person."),
        click.option("--key-usage", "key_usage", multiple=True, type=TEXT,
                     help="keyUsage bits (digitalSignature,nonRepudiation,...), replacing the profile's."),
        click.option("--eku", multiple=True, type=TEXT,
                     help="extendedKeyUsage: client_auth, email_protection or OIDs."),
        click.option("--policy", multiple=True, type=TEXT, help="certificatePolicies: КС1..КА1 or OIDs."),
        click.option("--sign-tool", type=TEXT,
                     help="subjectSignTool text (default with a profile: 'signagent <version>')."),
    )):
        func = option(func)
    return _subject_options(func)


def request_parts(options: dict) -> tuple[list[tuple[str, str]], list]:
    """(subject pairs, extensions) from the values of :func:`request_options` (removed from ``options``)."""
    from signagent.service import keys

    attrs = options.pop("attrs")
    profile = options.pop("profile")
    extensions = keys.request_extensions(profile=profile, key_usage=_list(options.pop("key_usage")),
                                         extended_key_usage=_list(options.pop("eku")),
                                         policies=_list(options.pop("policy")), sign_tool=options.pop("sign_tool"))
    subject = {dest: options.pop(dest) for _, dest, _ in _SUBJECT_OPTIONS}
    return keys.request_subject(subject, [_split_attr(a) for a in attrs], profile=profile), extensions


@cli.group("csr", invoke_without_command=True)
@click.option("--key", "key_path", type=click.Path(dir_okay=False), help="Private key file (PKCS#8 PEM/DER).")
@click.option("--password-file", type=click.Path(dir_okay=False), help="Password of an encrypted key file.")
@request_options
@click.option("-o", "--out", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the request here (default: stdout). An existing file is kept unless --force.")
@click.option("--der", is_flag=True, help="Write DER instead of PEM (needs -o).")
@click.option("--force", is_flag=True, help="Replace an existing -o file.")
@click.pass_context
def csr_group(ctx: click.Context, key_path: str | None, password_file: str | None, out: str | None, der: bool,
              force: bool, **options: object) -> None:
    """Make a PKCS#10 certificate request signed with a GOST key, or check one.

    \b
    Make:   signagent csr --key KEY.pem --profile head --cn 'ООО «Ромашка»' --surname Иванов
                --given-name 'Иван Иванович' --org 'ООО «Ромашка»' --ogrn ... --innle ... --inn ... -o REQ.csr
    Check:  signagent csr verify REQ.csr [--json]

    The subject uses the qualified-certificate types (NumericString for ОГРН/ИНН/СНИЛС, PrintableString for C,
    IA5String for e-mail, UTF8String otherwise); check digits are verified. Extensions go into an
    extensionRequest attribute. (A key on a token: `signagent token csr`.)
    """
    from signagent.service import keys

    if ctx.invoked_subcommand is not None:
        return
    if key_path is None:
        click.echo(ctx.get_help(), err=True)
        raise click.exceptions.Exit(EXIT_ERROR)
    if der and out is None:
        raise UsageError("--der needs -o FILE", message_ru="для --der нужен -o ФАЙЛ")
    if out is not None:
        keys.check_new_output(out, overwrite=force)  # before asking for a password
    subject_pairs, extensions = request_parts(options)
    key = _load_signing_key(key_path, password_file)
    data = keys.make_request(key, subject_pairs, extensions, out=out, der=der, overwrite=force)
    if out is None:
        click.echo(data.decode("ascii"), nl=False)


@csr_group.command("verify")
@click.argument("file", type=click.Path(dir_okay=False))
@json_option("Print the request's content and verdict as JSON.")
def csr_verify(file: str, as_json: bool) -> None:
    """Check a request's self-signature (PEM, DER or base64) and show what it asks for.

    Exit status: 0 the signature holds, 1 it does not, 2 the file is unreadable or not a GOST request.
    """
    from signagent.service import keys

    info = keys.check_request(file)
    if as_json:
        emit_json(info.to_dict())
    else:
        ru = russian()
        verdict = ("подпись верна" if info.signature_valid else "ПОДПИСЬ НЕВЕРНА") if ru else (
            "signature OK" if info.signature_valid else "SIGNATURE INVALID")
        click.echo(f"{file}: {verdict}")
        click.echo(f"  subject: {info.subject.display}")
        click.echo(f"  key: {info.public_key.curve.name}")
        for ext in info.extensions:
            flag = " (critical)" if ext.critical else ""
            click.echo(f"  {ext.name}{flag}: {ext.value}")
    if not info.signature_valid:
        raise click.exceptions.Exit(EXIT_INVALID)
