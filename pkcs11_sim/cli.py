"""Command line of the token simulator: ``pkcs11-sim`` (also ``python -m pkcs11_sim``).

Commands (DESIGN.md section 3; tokens live under ``$PKCS11_SIM_DIR`` or ``--dir``):

    init --label L PIN SO-PIN [--model M] [--retries N] [--so-retries N]
    list [--json]
    keygen LABEL --curve NAME [--id HEX] [--key-label KL] PIN
    import LABEL [--cert FILE] [--key FILE [KEY-PASSWORD]] [--id HEX] [--object-label OL] PIN
    delete LABEL [--id HEX]                        the whole token, or only the objects with this CKA_ID
    set-pin LABEL OLD NEW [--so]
    unblock LABEL SO-PIN NEW-PIN
    lock LABEL [--so]
    remove LABEL                                   token absent; stops its virtual PC/SC card if one runs
    insert LABEL [--pcsc [--reader N]]             token present; --pcsc also serves it through pcscd/vpcd
    fault LABEL [--fail N --ckr NAME] [--latency MS] [--clear]
    provision --label L PIN SO-PIN --profile head|employee|ip|person [--expired|--revoked] [--json]

Secrets (:mod:`.pinsource`): PIN is ``--pin-file F`` or ``$PKCS11_SIM_PIN`` or ``--pin P`` or a prompt on a terminal;
likewise SO-PIN (``--so-pin-file``, ``$PKCS11_SIM_SO_PIN``, ``--so-pin``), NEW-PIN (``--new-pin-file``,
``$PKCS11_SIM_NEW_PIN``, ``--new-pin``), OLD/NEW of set-pin (``--old-file``/``--new-file``, the user or SO PIN's
variable and ``$PKCS11_SIM_NEW_PIN``, ``--old``/``--new``) and KEY-PASSWORD (``--key-password-file``,
``$PKCS11_SIM_KEY_PASSWORD``, ``--key-password``). The plain options are a test convenience: a command line is
readable by every local user.

Exit codes: 0 success; 2 with a one-line reason on stderr for every error (wrong PIN, unknown token, bad usage).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from signagent.errors import SignAgentError
from signagent.gost import PrivateKey, curve

from . import constants as C
from . import pinsource as ps
from .attributes import as_int
from .errors import CkrError
from .provision import VARIANT_FLAGS, default_key_id, provision, store_certificate, store_key_pair
from .store import DEFAULT_RETRIES, SimRoot, TokenStore

EXIT_OK, EXIT_ERROR = 0, 2

_CLASS_NAMES = {C.CKO_DATA: "data", C.CKO_CERTIFICATE: "certificate", C.CKO_PUBLIC_KEY: "public_key",
                C.CKO_PRIVATE_KEY: "private_key"}
_KEY_TYPE_NAMES = {C.CKK_GOSTR3410: "GOSTR3410-2012-256", C.CKK_GOSTR3410_512: "GOSTR3410-2012-512"}


class _Failure(Exception):
    """A command failed with a one-line reason."""


def _root(ctx: click.Context) -> SimRoot:
    return SimRoot(ctx.obj.get("dir"))


def _token(ctx: click.Context, label: str) -> TokenStore:
    return _root(ctx).find(label)


def _secret(secret: ps.Secret, value: str | None, file: str | None, **kwargs: Any) -> bytes:
    """A required secret (see :mod:`.pinsource`); the command fails with one line when it cannot be had."""
    try:
        got = ps.obtain(secret, value, file, **kwargs)
    except ps.MissingSecretError as exc:
        raise _Failure(str(exc)) from None
    assert got is not None
    return got


def _hex_id(value: str | None) -> bytes | None:
    if value is None:
        return None
    try:
        return bytes.fromhex(value.replace(":", ""))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not hexadecimal", param_hint="--id") from None


def _describe(store: TokenStore) -> dict[str, Any]:
    state = store.load()
    objects = []
    for uid, obj in sorted(store.objects().items()):
        item: dict[str, Any] = {
            "uid": uid,
            "class": _CLASS_NAMES.get(as_int(obj.attrs[C.CKA_CLASS]), "other"),
            "label": obj.attrs.get(C.CKA_LABEL, b"").decode("utf-8", "replace"),
            "id": obj.attrs.get(C.CKA_ID, b"").hex(),
        }
        if C.CKA_KEY_TYPE in obj.attrs:
            item["key_type"] = _KEY_TYPE_NAMES.get(as_int(obj.attrs[C.CKA_KEY_TYPE]), "other")
        objects.append(item)
    user = store.pin_status("user")
    return {
        "label": state["label"],
        "slot": state["slot_id"],
        "serial": state["serial"],
        "model": state["model"],
        "present": bool(state["present"]),
        "user_pin": user or "not initialised",
        "so_pin": store.pin_status("so"),
        "flags": store.token_flags(),
        "faults": state["faults"],
        "objects": objects,
        "path": str(store.path),
    }


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=None,
              help="Token directory (default: $PKCS11_SIM_DIR or the user data directory).")
@click.pass_context
def cli(ctx: click.Context, directory: str | None) -> None:
    """Software GOST R 34.10-2012 tokens for testing (a PKCS#11 module backed by a token store)."""
    ctx.ensure_object(dict)
    ctx.obj["dir"] = directory


@cli.command()
@click.option("--label", required=True)
@ps.options(ps.USER_PIN)
@ps.options(ps.SO_PIN)
@click.option("--model", default=None)
@click.option("--retries", type=click.IntRange(1, 99), default=DEFAULT_RETRIES, show_default=True,
              help="Wrong user PIN entries before the PIN locks.")
@click.option("--so-retries", type=click.IntRange(1, 99), default=None, help="Same for the SO PIN.")
@click.pass_context
def init(ctx: click.Context, label: str, pin: str | None, pin_file: str | None, so_pin: str | None,
         so_pin_file: str | None, model: str | None, retries: int, so_retries: int | None) -> None:
    """Create an initialised token with a user and an SO PIN."""
    kwargs: dict[str, Any] = {"retries": retries, "so_retries": so_retries}
    if model:
        kwargs["model"] = model
    user = _secret(ps.USER_PIN, pin, pin_file, confirm=True)
    so = _secret(ps.SO_PIN, so_pin, so_pin_file, confirm=True)
    store = _root(ctx).create(label, so, user, **kwargs)
    click.echo(f"token {label!r} in slot {store.slot_id}: {store.path}")


@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """List the tokens, their PIN counters, presence, faults and objects."""
    tokens = [_describe(s) for s in _root(ctx).tokens()]
    if as_json:
        click.echo(json.dumps(tokens, ensure_ascii=False, indent=2))
        return
    if not tokens:
        click.echo("no tokens")
    for t in tokens:
        user = t["user_pin"]
        tries = f"{user['tries_left']}/{user['max_tries']}" if isinstance(user, dict) else user
        presence = "present" if t["present"] else "REMOVED"
        click.echo(f"slot {t['slot']}: {t['label']!r} serial {t['serial']} {presence}, user PIN tries {tries}, "
                   f"{len(t['objects'])} objects")
        for o in t["objects"]:
            click.echo(f"    {o['class']:<12} id={o['id'] or '-'} label={o['label']!r}")


@cli.command()
@click.argument("label")
@click.option("--curve", "curve_name", required=True, help="Parameter set name or OID (e.g. tc26-256-A).")
@click.option("--id", "key_id", default=None, help="CKA_ID in hex (default: from the public key).")
@click.option("--key-label", default=None, help="CKA_LABEL of the key pair (default: the token label).")
@ps.options(ps.USER_PIN)
@click.pass_context
def keygen(ctx: click.Context, label: str, curve_name: str, key_id: str | None, key_label: str | None,
           pin: str | None, pin_file: str | None) -> None:
    """Generate a GOST R 34.10-2012 key pair on the token."""
    store = _token(ctx, label)
    token_key = store.check_pin("user", _secret(ps.USER_PIN, pin, pin_file))
    key = PrivateKey.generate(curve(curve_name))
    cka_id = _hex_id(key_id) or default_key_id(key)
    store_key_pair(store, token_key, key, key_id=cka_id, label=key_label or label, generated=True)
    click.echo(f"id {cka_id.hex()} public key {key.public_key().to_bytes().hex()}")


@cli.command("import")
@click.argument("label")
@click.option("--cert", "cert_file", type=click.Path(dir_okay=False, exists=True), default=None)
@click.option("--key", "key_file", type=click.Path(dir_okay=False, exists=True), default=None,
              help="PKCS#8 GOST private key (PEM or DER).")
@ps.options(ps.KEY_PASSWORD)
@click.option("--id", "key_id", default=None,
              help="CKA_ID in hex (default: from the public key, so a certificate pairs with its key).")
@click.option("--object-label", default=None)
@ps.options(ps.USER_PIN)
@click.pass_context
def import_(ctx: click.Context, label: str, cert_file: str | None, key_file: str | None, key_password: str | None,
            key_password_file: str | None, key_id: str | None, object_label: str | None, pin: str | None,
            pin_file: str | None) -> None:
    """Put a certificate and/or a PKCS#8 private key on the token (same CKA_ID)."""
    if cert_file is None and key_file is None:
        raise click.UsageError("give --cert, --key or both")
    store = _token(ctx, label)
    cka_id = _hex_id(key_id)
    name = object_label or label
    if key_file is not None:
        token_key = store.check_pin("user", _secret(ps.USER_PIN, pin, pin_file))
        key = _load_key(key_file, key_password, key_password_file)
        cka_id = cka_id or default_key_id(key)
        store_key_pair(store, token_key, key, key_id=cka_id, label=name, generated=False)
    if cert_file is not None:
        from signagent.x509 import load_certificate

        cert = load_certificate(Path(cert_file).read_bytes())
        der = cert.der
        if cka_id is None:  # the formula of default_key_id: the certificate pairs with a key imported before
            from signagent.gost import streebog256

            cka_id = streebog256(cert.public_key().to_bytes()).digest()[:20]
        store_certificate(store, der, key_id=cka_id, label=name)
    click.echo(f"imported into {label!r} with id {cka_id.hex() if cka_id else ''}")


def _load_key(path: str, value: str | None, file: str | None) -> PrivateKey:
    """The PKCS#8 key in ``path``; its password from the usual sources, asked for on a terminal if it needs one."""
    from signagent.pkcs8.keyfile import PasswordRequiredError, load_private_key

    password = ps.obtain(ps.KEY_PASSWORD, value, file, required=False)
    try:
        return load_private_key(path, password)
    except PasswordRequiredError:
        if password is not None or sys.stdin is None or not sys.stdin.isatty():
            raise _Failure(f"{path} is encrypted: give --key-password-file FILE or set "
                           f"${ps.KEY_PASSWORD.env}") from None
    return load_private_key(path, ps.prompt(ps.KEY_PASSWORD))


@cli.command()
@click.argument("label")
@click.option("--id", "key_id", default=None, help="Delete only the objects with this CKA_ID (hex).")
@click.pass_context
def delete(ctx: click.Context, label: str, key_id: str | None) -> None:
    """Delete a token, or the objects with a CKA_ID on it."""
    if key_id is None:
        _root(ctx).delete(label)
        click.echo(f"token {label!r} deleted")
        return
    store = _token(ctx, label)
    wanted = _hex_id(key_id)
    uids = [uid for uid, o in store.objects().items() if o.attrs.get(C.CKA_ID) == wanted]
    if not uids:
        raise _Failure(f"no object with id {key_id} on {label!r}")
    for uid in uids:
        store.delete_object(uid)
    click.echo(f"{len(uids)} objects deleted")


@cli.command("set-pin")
@click.argument("label")
@ps.options(ps.USER_PIN, option="--old", dest="old")
@ps.options(ps.NEW_PIN, option="--new", dest="new")
@click.option("--so", is_flag=True, help="Change the SO PIN instead of the user PIN.")
@click.pass_context
def set_pin(ctx: click.Context, label: str, old: str | None, old_file: str | None, new: str | None,
            new_file: str | None, so: bool) -> None:
    """Change the user (or SO) PIN; keys stay usable."""
    current = ps.SO_PIN if so else ps.USER_PIN
    old_pin = _secret(current, old, old_file, option="--old")
    new_pin = _secret(ps.NEW_PIN, new, new_file, option="--new", confirm=True)
    _token(ctx, label).change_pin("so" if so else "user", old_pin, new_pin)
    click.echo("PIN changed")


@cli.command()
@click.argument("label")
@ps.options(ps.SO_PIN)
@ps.options(ps.NEW_PIN)
@click.pass_context
def unblock(ctx: click.Context, label: str, so_pin: str | None, so_pin_file: str | None, new_pin: str | None,
            new_pin_file: str | None) -> None:
    """Unblock (reset) the user PIN with the SO PIN; keys stay usable."""
    so = _secret(ps.SO_PIN, so_pin, so_pin_file)
    _token(ctx, label).unblock(so, _secret(ps.NEW_PIN, new_pin, new_pin_file, confirm=True))
    click.echo("user PIN reset")


@cli.command()
@click.argument("label")
@click.option("--so", is_flag=True, help="Lock the SO PIN instead of the user PIN.")
@click.pass_context
def lock(ctx: click.Context, label: str, so: bool) -> None:
    """Lock the user (or SO) PIN as if every try had been used."""
    _token(ctx, label).lock_pin("so" if so else "user")
    click.echo("PIN locked")


@cli.command()
@click.argument("label")
@click.pass_context
def remove(ctx: click.Context, label: str) -> None:
    """Take the token out of its reader (sessions then fail with CKR_DEVICE_REMOVED; a virtual card leaves pcscd)."""
    from .pcsc.server import running, stop

    store = _token(ctx, label)
    served = running(store) is not None
    store.set_present(False)  # a card server sees this within 0.2 s and leaves by itself; stop() makes it sure
    stop(store)
    card = " and its PC/SC card" if served else ""
    click.echo(f"token {label!r}{card} removed")


@cli.command()
@click.argument("label")
@click.option("--pcsc", is_flag=True, help="Also serve the token as a virtual PC/SC card (pcscd + vsmartcard-vpcd).")
@click.option("--reader", type=click.IntRange(0, 9), default=None,
              help="vpcd reader number for --pcsc: 0 = \"Virtual PCD 00 00\" (port 35963), 1 = ...01 (35964).")
@click.pass_context
def insert(ctx: click.Context, label: str, pcsc: bool, reader: int | None) -> None:
    """Put the token back into its reader; with --pcsc, also insert it as a card into a vpcd reader."""
    if reader is not None and not pcsc:
        raise click.UsageError("--reader goes with --pcsc")
    root = _root(ctx)
    store = root.find(label)
    store.set_present(True)
    if not pcsc:
        click.echo(f"token {label!r} inserted")
        return
    from .pcsc.server import LOG_FILE, start

    number = reader or 0
    pid = start(store, number, others=root.tokens())
    click.echo(f"token {label!r} inserted as a PC/SC card in \"Virtual PCD 00 {number:02d}\" "
               f"(server pid {pid}, log {store.path / LOG_FILE})")


@cli.command()
@click.argument("label")
@click.option("--fail", "fail_next", type=click.IntRange(0), default=None, help="Fail the next N operations.")
@click.option("--ckr", default=None, help="The CKR to fail with (name like CKR_DEVICE_ERROR, or a number).")
@click.option("--latency", type=click.IntRange(0), default=None, help="Delay every operation by MS milliseconds.")
@click.option("--clear", is_flag=True, help="Remove every injected fault.")
@click.pass_context
def fault(ctx: click.Context, label: str, fail_next: int | None, ckr: str | None, latency: int | None,
          clear: bool) -> None:
    """Inject faults: failing operations, latency."""
    if fail_next is None and ckr is None and latency is None and not clear:
        raise click.UsageError("give --fail N [--ckr NAME], --latency MS or --clear")
    ckr_value = None
    if ckr is not None:
        try:
            ckr_value = C.ckr_value(ckr)
        except KeyError:
            raise click.BadParameter(f"unknown CKR {ckr!r}", param_hint="--ckr") from None
        if ckr_value == C.CKR_OK:
            raise click.BadParameter("CKR_OK is not a fault", param_hint="--ckr")
    faults = _token(ctx, label).set_faults(fail_next=fail_next, ckr=ckr_value, latency_ms=latency, clear=clear)
    click.echo(f"faults: fail next {faults['fail_next']} with {C.ckr_name(faults['ckr'])}, "
               f"latency {faults['latency_ms']} ms")


@cli.command("provision")
@click.option("--label", required=True)
@ps.options(ps.USER_PIN)
@ps.options(ps.SO_PIN)
@click.option("--profile", type=click.Choice(["head", "employee", "ip", "person"]), required=True)
@click.option("--expired", is_flag=True, help="An expired certificate (head profile).")
@click.option("--revoked", is_flag=True, help="A revoked certificate (head profile).")
@click.option("--model", default=None)
@click.option("--retries", type=click.IntRange(1, 99), default=None)
@click.option("--pki", "pki_dir", type=click.Path(file_okay=False, exists=True), default=None,
              help="Use this generated test PKI instead of making one in the token directory.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def provision_(ctx: click.Context, label: str, pin: str | None, pin_file: str | None, so_pin: str | None,
               so_pin_file: str | None, profile: str, expired: bool, revoked: bool, model: str | None,
               retries: int | None, pki_dir: str | None, as_json: bool) -> None:
    """Make a token with a test-PKI key and certificate; print the certificate id (the one `signagent certs` shows
    and `signagent sign --cert` takes), its CKA_ID, and the root and intermediate certificate paths."""
    if expired and revoked:
        raise click.UsageError("--expired and --revoked exclude each other")
    variant = "expired" if expired else "revoked" if revoked else "valid"
    assert variant in ("valid", *VARIANT_FLAGS)
    user = _secret(ps.USER_PIN, pin, pin_file)
    so = _secret(ps.SO_PIN, so_pin, so_pin_file)
    result = provision(_root(ctx), label=label, pin=user, so_pin=so, profile=profile,
                       variant=variant, model=model, retries=retries,
                       pki_dir=Path(pki_dir) if pki_dir else None)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"token {label!r} (slot {result.store.slot_id}) holds the {result.entity} key and certificate")
    click.echo(f"certificate id (signagent certs, signagent sign --cert): {result.certificate_id}")
    click.echo(f"CKA_ID: {result.key_id.hex()}")
    click.echo(f"root certificate: {result.root_certificate}")
    click.echo(f"intermediate certificate: {result.intermediate_certificate}")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, CkrError):
        explain = {
            C.CKR_PIN_INCORRECT: "wrong PIN",
            C.CKR_PIN_LOCKED: "the PIN is locked",
            C.CKR_PIN_LEN_RANGE: "PIN length out of range",
            C.CKR_USER_PIN_NOT_INITIALIZED: "the user PIN is not initialised",
        }.get(exc.rv)
        return f"{explain} ({exc.name})" if explain else str(exc)
    if isinstance(exc, SignAgentError):
        return exc.message
    return str(exc)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``pkcs11-sim``: runs a command, maps every error to exit 2 with a one-line reason."""
    try:
        cli.main(args=argv, prog_name="pkcs11-sim", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.Abort:
        click.echo("pkcs11-sim: aborted", err=True)
        return EXIT_ERROR
    except click.ClickException as exc:
        click.echo(f"pkcs11-sim: {exc.format_message()}", err=True)
        return EXIT_ERROR
    except (CkrError, SignAgentError, _Failure, OSError) as exc:
        click.echo(f"pkcs11-sim: {_reason(exc)}", err=True)
        return EXIT_ERROR
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
