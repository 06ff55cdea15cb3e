"""``signagent serve``: the localhost API for web portals (DESIGN.md sections 3 and 5), on 127.0.0.1 only.

Stops cleanly on SIGINT (Ctrl-C) and SIGTERM: uvicorn finishes the open requests, then the command exits 0.
A taken port is one line and exit 2.

``--demo`` prepares (once) a simulated head-of-organisation token (:mod:`signagent.service.demo`), points the token
layer at it, and serves beside the agent a demo portal (:mod:`signagent.api.demo_portal`) on a second port, as
another site (``http://localhost:DEMO_PORT``): both stop together. ``--install-autostart`` /
``--uninstall-autostart`` write or remove the user's autostart entries (:mod:`signagent.service.autostart`) and
return without serving.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ._common import cli, settings, tr
from ._process import Terminated

if TYPE_CHECKING:
    import socket

    from signagent.service.demo import DemoSetup

_START_GUARD = 30.0  # seconds for the demo portal's server to start: only reached when something is broken


@cli.command("serve")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port to listen on (default: the api_port setting, 36985).")
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory of the agent's state: local secret and paired sites (default: the user's "
                   "configuration directory; with --demo, the demo directory's).")
@click.option("--demo", is_flag=True,
              help="Demonstration: make (once) a simulated token of an organisation's head and serve a demo portal "
                   "page on a second port.")
@click.option("--demo-port", type=click.IntRange(1, 65535), default=None,
              help="Port of the demo portal (default: the agent's port + 1).")
@click.option("--no-demo-portal", "no_demo_portal", is_flag=True,
              help="With --demo: the demo tokens only, no demo portal page (the reference portal's `portal demo` "
                   "starts the agent this way).")
@click.option("--demo-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              envvar="SIGNAGENT_DEMO_DIR",
              help="Directory of the demo's token and PIN files (default: the user data directory signagent-demo).")
@click.option("--install-autostart", is_flag=True,
              help="Start the agent when you log in (systemd user unit and XDG autostart entry), then exit.")
@click.option("--uninstall-autostart", is_flag=True, help="Remove what --install-autostart wrote, then exit.")
@click.option("--force", is_flag=True, help="With --install-autostart/--uninstall-autostart: replace or remove "
                                            "files at their paths that signagent did not write.")
def serve(port: int | None, state_dir: Path | None, demo: bool, demo_port: int | None, no_demo_portal: bool,
          demo_dir: Path | None, install_autostart: bool, uninstall_autostart: bool, force: bool) -> None:
    """Serve the localhost HTTP API (base /v1, OpenAPI at /openapi.json) on 127.0.0.1."""
    if install_autostart or uninstall_autostart:
        if install_autostart and uninstall_autostart:
            raise click.UsageError("--install-autostart and --uninstall-autostart exclude each other")
        if demo or demo_port is not None:
            raise click.UsageError("--install-autostart/--uninstall-autostart do not start the demo")
        _autostart(install_autostart, force)
        return
    if force:
        raise click.UsageError("--force goes with --install-autostart or --uninstall-autostart")
    if not demo and (demo_port is not None or no_demo_portal):
        raise click.UsageError("--demo-port and --no-demo-portal go with --demo")
    if no_demo_portal and demo_port is not None:
        raise click.UsageError("--demo-port and --no-demo-portal exclude each other")
    _serve(port, state_dir, demo, demo_port, demo_dir, with_portal=not no_demo_portal)


def _autostart(install: bool, force: bool) -> None:
    from signagent.service.autostart import install_autostart, uninstall_autostart

    result = install_autostart(force=force) if install else uninstall_autostart(force=force)
    if result.instructions is not None:
        en, ru = result.instructions
        click.echo(tr(en, ru))
        return
    words = {"written": ("written", "записан"), "updated": ("updated", "обновлён"),
             "unchanged": ("already there, unchanged", "уже есть, без изменений"),
             "removed": ("removed", "удалён"), "absent": ("not there", "отсутствует")}
    for item in result.files:
        en, ru = words.get(item.action, (item.action, item.action))
        click.echo(f"{item.path}: {tr(en, ru)}")
    for command in result.follow_up:
        click.echo(tr(f"next, run: {command}", f"затем выполните: {command}"))


def _serve(port: int | None, state_dir: Path | None, demo: bool, demo_port: int | None,
           demo_dir: Path | None, *, with_portal: bool = True) -> None:
    import logging  # here, not at the top: every other command would pay for it at start-up

    from signagent.api.app import create_app
    from signagent.api.server import LOOPBACK, bind_loopback, run_server

    config = settings(api_port=port)
    sock = bind_loopback(config.api_host, config.api_port)  # before anything else: a taken port fails fast
    demo_sock: socket.socket | None = None
    try:
        setup: DemoSetup | None = None
        if demo:
            if with_portal:
                if demo_port is None and config.api_port == 65535:
                    raise click.UsageError("--demo needs --demo-port when the agent's port is 65535")
                demo_port = demo_port if demo_port is not None else config.api_port + 1
                if demo_port == config.api_port:
                    raise click.UsageError("--demo-port must differ from the agent's port")
                demo_sock = bind_loopback(LOOPBACK, demo_port)
            setup = _prepare_demo(demo_dir)
            setup.apply()  # the token layer reads these when the app loads modules: set before it is created
            config = settings(api_port=port)  # again: the demo's module is now in the environment
            if state_dir is None:
                state_dir = setup.state_dir  # the demo's pairings stay with the demo
        logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="signagent: %(message)s")
        logging.getLogger("uvicorn.error").setLevel(logging.WARNING)  # our own lines say what matters
        roots, intermediates = _demo_trust(setup) if setup is not None else ([], [])
        # the demo's test PKI counts for the agent's chain status, beside the user's trust store
        app = create_app(config, state_dir=state_dir, trust_roots=roots, intermediates=intermediates)
        url = f"http://127.0.0.1:{config.api_port}"
        portal = None
        if setup is not None and with_portal:
            assert demo_sock is not None and demo_port is not None
            portal = _start_portal(config.api_port, demo_port, demo_sock, setup, roots, intermediates)

        def started() -> None:
            click.echo(tr(f"signagent: listening on {url} (Ctrl-C stops)",
                          f"signagent: принимает запросы на {url} (Ctrl-C -- остановка)"), err=True)
            if setup is not None and with_portal:
                demo_url = f"http://localhost:{demo_port}"
                click.echo(tr(f"signagent: demo portal: open {demo_url} in the browser",
                              f"signagent: демо-портал: откройте {demo_url} в браузере"), err=True)
                click.echo(tr(f"signagent: demo token «{setup.label}», PIN {setup.pin}",
                              f"signagent: демонстрационный токен «{setup.label}», PIN {setup.pin}"), err=True)

        agent = app.state.agent
        agent.watcher.start()  # tokens coming and going: events, inventory refresh (uvicorn's lifespan is off)
        try:
            run_server(app, sock, on_started=started)
        except (KeyboardInterrupt, Terminated):
            pass  # uvicorn has shut down already and passes the signal on: the stop was asked for, not an error
        finally:
            agent.watcher.stop()
            agent.events.close()
            if portal is not None:
                _stop_portal(*portal)
    finally:
        sock.close()
        if demo_sock is not None:
            demo_sock.close()
    click.echo(tr("signagent: stopped", "signagent: остановлен"), err=True)


def _prepare_demo(demo_dir: Path | None) -> DemoSetup:
    from signagent.service.demo import prepare_demo

    setup = prepare_demo(demo_dir)
    if setup.provisioned:
        click.echo(tr(f"signagent: demo token «{setup.label}» prepared in {setup.demo_dir}",
                      f"signagent: демонстрационный токен «{setup.label}» подготовлен в {setup.demo_dir}"), err=True)
    else:
        click.echo(tr(f"signagent: demo token «{setup.label}» found in {setup.demo_dir}",
                      f"signagent: демонстрационный токен «{setup.label}» найден в {setup.demo_dir}"), err=True)
    return setup


def _demo_trust(setup: DemoSetup) -> tuple[list[Any], list[Any]]:
    """The demo's test root and intermediate, for the portal's verifier and the agent's chain status."""
    from signagent.service.demo import load_trust

    roots, intermediates = load_trust(setup)
    return list(roots), list(intermediates)


def _start_portal(agent_port: int, demo_port: int, sock: socket.socket, setup: DemoSetup, roots: list[Any],
                  intermediates: list[Any]) -> tuple[Any, threading.Thread]:
    """The demo portal served on ``sock`` by a second uvicorn server in a thread (signals stay with the agent's
    server in the main thread, which stops this one on its way out)."""
    from signagent.api.demo_portal import create_demo_portal_app
    from signagent.api.server import make_server

    portal_app = create_demo_portal_app(agent_port, roots, intermediates, portal_port=demo_port, demo_pin=setup.pin)
    server = make_server(portal_app)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="demo-portal", daemon=True)
    thread.start()
    deadline = time.monotonic() + _START_GUARD
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    if not server.started:
        server.should_exit = True
        raise click.ClickException(tr("the demo portal did not start", "демо-портал не запустился"))
    return server, thread


def _stop_portal(server: Any, thread: threading.Thread) -> None:
    server.should_exit = True
    thread.join(_START_GUARD)
