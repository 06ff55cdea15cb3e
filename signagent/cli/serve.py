"""``signagent serve``: the localhost API for web portals (DESIGN.md sections 3 and 5), on 127.0.0.1 only.

Stops cleanly on SIGINT (Ctrl-C) and SIGTERM: uvicorn finishes the open requests, then the command exits 0.
A taken port is one line and exit 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ._common import cli, settings, tr
from ._process import Terminated


@cli.command("serve")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port to listen on (default: the api_port setting, 36985).")
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory of the agent's state: local secret and paired sites (default: the user's "
                   "configuration directory).")
def serve(port: int | None, state_dir: Path | None) -> None:
    """Serve the localhost HTTP API (base /v1, OpenAPI at /openapi.json) on 127.0.0.1."""
    import logging  # here, not at the top: every other command would pay for it at start-up

    from signagent.api.app import create_app
    from signagent.api.server import bind_loopback, run_server

    config = settings(api_port=port)
    sock = bind_loopback(config.api_host, config.api_port)  # before anything else: a taken port fails fast
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="signagent: %(message)s")
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)  # our own lines say what matters
    app = create_app(config, state_dir=state_dir)
    url = f"http://127.0.0.1:{config.api_port}"

    def started() -> None:
        click.echo(tr(f"signagent: listening on {url} (Ctrl-C stops)",
                      f"signagent: принимает запросы на {url} (Ctrl-C -- остановка)"), err=True)

    try:
        run_server(app, sock, on_started=started)
    except (KeyboardInterrupt, Terminated):
        pass  # uvicorn has shut down already and passes the signal on: the stop was asked for, not an error
    finally:
        sock.close()
    click.echo(tr("signagent: stopped", "signagent: остановлен"), err=True)
