"""``signagent trust list | import | import-tsl | update``."""

from __future__ import annotations

from typing import Any

import click

from ._common import EXIT_ERROR, cli, emit_json, error_text, json_option, settings


@cli.group("trust")
@click.option("--store", "store_dir", type=click.Path(file_okay=False),
              help="Trust store directory (default: the configuration's trust_dir, env SIGNAGENT_TRUST_DIR, else "
                   "the user's data directory).")
@click.pass_context
def trust_group(ctx: click.Context, store_dir: str | None) -> None:
    """Manage trusted root and intermediate certificates and CRLs."""
    ctx.obj = store_dir  # the configuration is loaded by the command, after its --json is known


def _store(store_dir: str | None) -> Any:
    from signagent.service import policy

    return policy.trust_store(settings(trust_dir=store_dir))


@trust_group.command("list")
@json_option("Print JSON.")
@click.pass_obj
def trust_list(store_dir: str | None, as_json: bool) -> None:
    """List the store's roots, intermediates and CRLs."""
    from signagent.service import trust_admin

    entries = trust_admin.list_store(_store(store_dir))
    if as_json:
        emit_json(entries)
        return
    if not entries:
        click.echo("the trust store is empty: run `signagent trust update` or `signagent trust import FILE`")
        return
    for e in entries:
        until = str(e.get("not_after") or e.get("next_update") or "")[:10]
        click.echo(f"{e['kind']:<12} {e['sha1']}  {until:<10}  {e.get('subject_cn') or e['subject']}")


def _print_result(result: dict[str, object], as_json: bool, summary: str) -> None:
    if as_json:
        emit_json(result)
    else:
        click.echo(summary)


@trust_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--kind", type=click.Choice(["auto", "root", "intermediate", "crl"]), default="auto",
              show_default=True, help="auto: a self-signed CA is a root, any other CA an intermediate.")
@json_option("Print JSON.")
@click.pass_obj
def trust_import(store_dir: str | None, file: str, kind: str, as_json: bool) -> None:
    """Add a root, an intermediate (bundles and .p7b too) or a CRL to the store."""
    from signagent.service import trust_admin

    result = trust_admin.import_file(_store(store_dir), file, kind)
    lines = [f"added {result['added']}, already present {result['present']}"]
    for item in result.get("items", []):  # type: ignore[union-attr]
        lines.append(f"  {item['status']:<8} {item['kind']:<12} {item.get('sha1', '')}  {item.get('subject', '')}")
    _print_result(result, as_json, "\n".join(lines))


@trust_group.command("import-tsl")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--include-inactive", is_flag=True, help="Also import CAs whose accreditation is not in force.")
@json_option("Print JSON.")
@click.pass_obj
def trust_import_tsl(store_dir: str | None, file: str, include_inactive: bool, as_json: bool) -> None:
    """Import the accredited-CA list (TSL XML): CA certificates become intermediates with their CRL addresses."""
    from signagent.service import trust_admin

    result = trust_admin.import_tsl(_store(store_dir), file, include_inactive=include_inactive)
    summary = ", ".join(f"{k} {v}" for k, v in result.items() if isinstance(v, int))
    _print_result(result, as_json, summary)


@trust_group.command("update")
@click.option("--only-missing", is_flag=True, help="Download only anchors not yet in the store.")
@click.option("--no-legacy", is_flag=True, help="Skip the legacy GOST R 34.10-2001 root.")
@json_option("Print JSON.")
@click.pass_obj
def trust_update(store_dir: str | None, only_missing: bool, no_legacy: bool, as_json: bool) -> None:
    """Download the official roots; only files matching their pinned SHA-256 fingerprints are accepted."""
    from signagent.service import policy, trust_admin

    config = settings(trust_dir=store_dir)
    result = trust_admin.update_roots(policy.trust_store(config), fetch=policy.downloader(config),
                                      only_missing=only_missing, include_legacy=not no_legacy)
    lines = [f"added {result['added']}, present {result['present']}, failed {result['failed']}, "
             f"skipped {result['skipped']}"]
    for a in result["anchors"]:  # type: ignore[union-attr]
        lines.append(f"  {a['status']:<8} {a['subject']}")
        for err in a.get("errors", []):
            lines.append(f"           {err.get('url')}: {error_text(err)}")
    _print_result(result, as_json, "\n".join(lines))
    if result["failed"]:
        raise click.exceptions.Exit(EXIT_ERROR)


