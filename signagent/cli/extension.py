"""``signagent extension build``: the browser extension that lets sites written for CryptoPro's browser plug-in sign
through the agent (issue 13; :mod:`signagent.service.extension`), with how to install it."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import cli, emit_json, json_option, settings, tr

_INSTALL = {
    "chromium": (
        "Chromium, Chrome, Edge, Yandex Browser: open chrome://extensions, turn on Developer mode, click "
        "\"Load unpacked\" and choose {directory}",
        "Chromium, Chrome, Edge, Яндекс Браузер: откройте chrome://extensions, включите «Режим разработчика», "
        "нажмите «Загрузить распакованное расширение» и выберите {directory}",
    ),
    "firefox": (
        "Firefox 128 or later: open about:debugging#/runtime/this-firefox, click \"Load Temporary Add-on\" and "
        "choose {manifest} (until Firefox restarts); to keep it, install a build signed by addons.mozilla.org "
        "(submit {zip})",
        "Firefox 128 и новее: откройте about:debugging#/runtime/this-firefox, нажмите «Загрузить временное "
        "дополнение» и выберите {manifest} (до перезапуска Firefox); для постоянной установки нужна сборка, "
        "подписанная addons.mozilla.org (отправьте туда {zip})",
    ),
}


@cli.group("extension")
def extension_group() -> None:
    """The browser extension for sites written for CryptoPro's browser plug-in."""


@extension_group.command("build")
@click.option("--browser", type=click.Choice(["chromium", "firefox", "all"]), default="all", show_default=True,
              help="Which browser to build the extension for.")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output directory (default: the user data directory signagent/extension).")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port of the agent the extension talks to (default: the api_port setting, 36985).")
@json_option("Print JSON: [{browser, directory, zip, version, port}].")
def extension_build(browser: str, out_dir: Path | None, port: int | None, as_json: bool) -> None:
    """Write the unpacked extension and its zip for Chromium-based browsers and/or Firefox, and say how to install
    it. Sites then find CryptoPro's `window.cadesplugin` answered by this agent; every signature is still
    confirmed in the agent's window with the token's PIN."""
    from signagent.service.extension import BROWSERS, build_extension, default_extension_dir

    target = out_dir if out_dir is not None else default_extension_dir()
    agent_port = settings(api_port=port).api_port
    chosen = BROWSERS if browser == "all" else (browser,)
    builds = [build_extension(target, browser=name, port=agent_port) for name in chosen]  # type: ignore[arg-type]
    if as_json:
        emit_json([b.to_dict() for b in builds])
        return
    for build in builds:
        click.echo(tr(f"{build.browser}: extension {build.version} for the agent on port {build.port}",
                      f"{build.browser}: расширение {build.version} для агента на порту {build.port}"))
        click.echo(tr(f"  unpacked: {build.directory}", f"  каталог: {build.directory}"))
        click.echo(tr(f"  zip: {build.zip_path}", f"  архив: {build.zip_path}"))
        en, ru = _INSTALL[build.browser]
        where = {"directory": build.directory, "manifest": build.directory / "manifest.json", "zip": build.zip_path}
        click.echo("  " + tr(en, ru).format(**where))
    click.echo(tr("Rebuild and reload the extension after changing the agent's port or upgrading signagent.",
                  "После смены порта агента или обновления signagent соберите и перезагрузите расширение заново."))
