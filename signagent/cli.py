"""The ``signagent`` command line: parse arguments, call the service layer, print results.

Exit codes (DESIGN.md section 3): 0 success / valid, 1 invalid / rejected, 2 indeterminate or a usage / input
error, with a one-line reason on stderr. ``--json`` gives machine-readable output on stdout.
Messages are Russian when the locale is Russian (LANG/LC_ALL/LC_MESSAGES starting with "ru"), English otherwise.
"""

from __future__ import annotations

import json
import os
import sys

import click

from signagent import __version__
from signagent.errors import SignAgentError
from signagent.service import certificates, hashing, trust_admin, validation
from signagent.trust.store import TrustStore
from signagent.x509 import load_certificates_file

EXIT_OK, EXIT_INVALID, EXIT_ERROR = 0, 1, 2


def _russian() -> bool:
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return value.lower().startswith("ru")
    return False


def _reason(err: SignAgentError) -> str:
    return err.message_ru if _russian() else err.message


def _report(err: SignAgentError) -> None:
    click.echo(f"signagent: {_reason(err)}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="signagent")
def cli() -> None:
    """Russian qualified electronic signatures (GOST R 34.10/34.11-2012): hash, sign, verify, tokens."""


def _escape_name(name: str) -> tuple[str, str]:
    """sha256sum's convention: a name with a backslash or newline is escaped and the line starts with '\\'."""
    if "\\" in name or "\n" in name or "\r" in name:
        return "\\", name.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return "", name


def _hash_one(name: str, algorithm: str) -> bytes:
    if name == "-":
        return hashing.hash_stream(sys.stdin.buffer, algorithm)
    progress_wanted = sys.stderr.isatty() and os.path.isfile(name) and os.path.getsize(name) >= 256 << 20
    if not progress_wanted:
        return hashing.hash_path(name, algorithm)
    with click.progressbar(length=os.path.getsize(name), label=name, file=sys.stderr) as bar:
        return hashing.hash_path(name, algorithm, progress=bar.update)


@cli.command("hash")
@click.option("--alg", "algorithm", type=click.Choice(sorted(hashing.ALGORITHMS)), default="streebog256",
              show_default=True, help="Streebog digest size (GOST R 34.11-2012).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of sha256sum-style lines.")
@click.argument("files", nargs=-1, required=True)
def hash_command(algorithm: str, as_json: bool, files: tuple[str, ...]) -> None:
    """Print the Streebog digest of each FILE ('-' reads standard input), like sha256sum.

    Files of any size are read in 1 MiB chunks, so memory stays small. A file that cannot be read is reported
    on stderr, the others are still hashed, and the exit status is 2.
    """
    failed = False
    results: list[dict[str, object]] = []
    for name in files:
        try:
            digest = _hash_one(name, algorithm)
        except SignAgentError as err:
            failed = True
            _report(err)
            results.append({"file": name, "algorithm": algorithm, "error": err.to_dict()})
            continue
        if as_json:
            results.append({"file": name, "algorithm": algorithm, "digest": digest.hex()})
        else:
            prefix, shown = _escape_name(name)
            click.echo(f"{prefix}{digest.hex()}  {shown}")
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False, indent=2))
    if failed:
        raise click.exceptions.Exit(EXIT_ERROR)


def _emit_json(value: object) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


@cli.group("cert")
def cert_group() -> None:
    """Inspect and validate certificates."""


@cert_group.command("show")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON: an object for one certificate, a list for a bundle of several.")
def cert_show(file: str, as_json: bool) -> None:
    """Show a certificate (DER, PEM, base64 or a PKCS#7 bundle): owner, ОГРН/ИНН/СНИЛС, validity, keys, extensions."""
    descriptions = [certificates.describe_certificate(c) for c in load_certificates_file(file)]
    if as_json:
        _emit_json(descriptions[0] if len(descriptions) == 1 else descriptions)
        return
    lang = "ru" if _russian() else "en"
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
@click.option("--at", "at", help="Validation time, ISO-8601 (default: now).")
@click.option("--offline", is_flag=True, help="No network: revocation data only from --crl files and the cache.")
@click.option("--revocation", type=click.Choice(["soft", "hard", "off"]), default="soft", show_default=True,
              help="soft: unknown status gives valid with a warning; hard: indeterminate; off: not checked.")
@click.option("--json", "as_json", is_flag=True, help="Print the validation report as JSON.")
def cert_validate(file: str, trust_paths: tuple[str, ...], intermediate_paths: tuple[str, ...],
                  crl_paths: tuple[str, ...], at: str | None, offline: bool, revocation: str, as_json: bool) -> None:
    """Validate a certificate's chain to a trusted root, with revocation. Exit 0 valid, 1 invalid, 2 indeterminate."""
    extra: dict[str, object] = {}
    if not trust_paths:  # DESIGN.md section 3: without --trust the user's trust store is used
        store = TrustStore()
        extra = {"trust_roots": store.roots(), "intermediates": store.intermediates(), "crls": store.crls()}
    report = validation.validate_certificate_file(
        file, trust_paths=trust_paths, intermediate_paths=intermediate_paths, crl_paths=crl_paths,
        at=at, offline=offline, revocation=revocation, **extra)  # type: ignore[arg-type]
    doc = report.to_dict()
    if as_json:
        _emit_json(doc)
    else:
        click.echo(_render_report(doc, _russian()))
    raise click.exceptions.Exit(validation.exit_code(report))


@cli.group("trust")
@click.option("--store", "store_dir", type=click.Path(file_okay=False), envvar="SIGNAGENT_TRUST_DIR",
              help="Trust store directory (default: the user's data directory; env SIGNAGENT_TRUST_DIR).")
@click.pass_context
def trust_group(ctx: click.Context, store_dir: str | None) -> None:
    """Manage trusted root and intermediate certificates and CRLs."""
    ctx.obj = TrustStore(store_dir)


@trust_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def trust_list(store: TrustStore, as_json: bool) -> None:
    """List the store's roots, intermediates and CRLs."""
    entries = trust_admin.list_store(store)
    if as_json:
        _emit_json(entries)
        return
    if not entries:
        click.echo("the trust store is empty: run `signagent trust update` or `signagent trust import FILE`")
        return
    for e in entries:
        until = str(e.get("not_after") or e.get("next_update") or "")[:10]
        click.echo(f"{e['kind']:<12} {e['sha1']}  {until:<10}  {e.get('subject_cn') or e['subject']}")


def _print_result(result: dict[str, object], as_json: bool, summary: str) -> None:
    if as_json:
        _emit_json(result)
    else:
        click.echo(summary)


@trust_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--kind", type=click.Choice(["auto", "root", "intermediate", "crl"]), default="auto",
              show_default=True, help="auto: a self-signed CA is a root, any other CA an intermediate.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def trust_import(store: TrustStore, file: str, kind: str, as_json: bool) -> None:
    """Add a root, an intermediate (bundles and .p7b too) or a CRL to the store."""
    result = trust_admin.import_file(store, file, kind)
    lines = [f"added {result['added']}, already present {result['present']}"]
    for item in result.get("items", []):  # type: ignore[union-attr]
        lines.append(f"  {item['status']:<8} {item['kind']:<12} {item.get('sha1', '')}  {item.get('subject', '')}")
    _print_result(result, as_json, "\n".join(lines))


@trust_group.command("import-tsl")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--include-inactive", is_flag=True, help="Also import CAs whose accreditation is not in force.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def trust_import_tsl(store: TrustStore, file: str, include_inactive: bool, as_json: bool) -> None:
    """Import the accredited-CA list (TSL XML): CA certificates become intermediates with their CRL addresses."""
    result = trust_admin.import_tsl(store, file, include_inactive=include_inactive)
    summary = ", ".join(f"{k} {v}" for k, v in result.items() if isinstance(v, int))
    _print_result(result, as_json, summary)


@trust_group.command("update")
@click.option("--only-missing", is_flag=True, help="Download only anchors not yet in the store.")
@click.option("--no-legacy", is_flag=True, help="Skip the legacy GOST R 34.10-2001 root.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def trust_update(store: TrustStore, only_missing: bool, no_legacy: bool, as_json: bool) -> None:
    """Download the official roots; only files matching their pinned SHA-256 fingerprints are accepted."""
    result = trust_admin.update_roots(store, only_missing=only_missing, include_legacy=not no_legacy)
    lines = [f"added {result['added']}, present {result['present']}, failed {result['failed']}, "
             f"skipped {result['skipped']}"]
    for a in result["anchors"]:  # type: ignore[union-attr]
        lines.append(f"  {a['status']:<8} {a['subject']}")
        for err in a.get("errors", []):
            lines.append(f"           {err.get('url')}: {err['message_ru'] if _russian() else err['message']}")
    _print_result(result, as_json, "\n".join(lines))
    if result["failed"]:
        raise click.exceptions.Exit(EXIT_ERROR)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; turns errors into a one-line reason and exit code 2."""
    try:
        rc = cli.main(args=argv, prog_name="signagent", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return EXIT_ERROR
    except click.exceptions.Abort:
        click.echo("signagent: interrupted", err=True)
        return 130
    except SignAgentError as err:
        _report(err)
        return EXIT_ERROR
    except BrokenPipeError:
        # `signagent hash big | head`: the reader went away; not an error worth a traceback. Point stdout at
        # /dev/null so that the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    return rc if isinstance(rc, int) else EXIT_OK
