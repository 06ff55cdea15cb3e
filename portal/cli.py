"""``portal serve`` / ``python -m portal``: run the reference portal (without a command: ``serve``).

    portal serve [--port 8080] [--host 127.0.0.1] [--origin URL] [--agent-port 36985] [--database-url URL]
                 [--data-dir DIR] [--demo [--demo-dir DIR]] [--trust FILE]... [--intermediate FILE]... [--crl FILE]...
                 [--egrul FILE]... [--egrip FILE]... [--offline] [--revocation hard|soft|off]

* the database: ``--database-url``, else ``$DATABASE_URL`` (``postgresql+psycopg://user@host/db``), else
  ``sqlite:///<data dir>/portal.db``; it is migrated to the newest revision on start;
* ``--origin``: the address users open (default ``http://127.0.0.1:PORT``): the origin the agent binds the
  signatures and login proofs to, and the only ``Host`` served;
* ``--demo``: ЕГРЮЛ/ЕГРИП answered from the demo extracts of the test PKI's organisations
  (:func:`signagent.registration.egr.demo_registry`), and, without ``--trust``, the test PKI of the agent's demo
  (``signagent serve --demo``: its ``demo.json`` in ``--demo-dir``, default the user's ``signagent-demo``) trusted,
  with its CRLs read from its files (offline: the test PKI's URLs are served by nobody); the demo PIN is shown in
  the pages' footer;
* ``--egrul`` / ``--egrip``: extracts in the ФНС XML format (a real portal plugs its register access instead).

    portal demo [--port 8080] [--agent-port 36985] [--demo-dir DIR] [--data-dir DIR]

``demo`` is the whole registration demo in one command: it starts the agent (``signagent serve --demo
--no-demo-portal``: the simulated tokens of the head, an employee and an entrepreneur, PIN 1234) as a child
process, waits until it answers, then serves the portal with ``--demo`` on SQLite, prints the one address to open,
and stops the agent with itself.

Exit status: 0 after a clean stop, 2 on a usage or configuration error (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from .settings import PortalSettings, default_data_dir
from .verification import Trust

__all__ = ["build_settings", "main", "parser", "read_certificates"]

_PEM = re.compile(rb"-----BEGIN (?:X509 )?(?:CERTIFICATE|CRL)-----.+?-----END (?:X509 )?(?:CERTIFICATE|CRL)-----",
                  re.DOTALL)


def read_certificates(path: Path) -> list[bytes]:
    """The certificates (or CRLs) of a file: each PEM block of a bundle, or the whole file (DER, base64)."""
    data = path.read_bytes()
    blocks = _PEM.findall(data)
    return list(blocks) if blocks else [data]


def _files(paths: Sequence[str]) -> list[bytes]:
    out: list[bytes] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            for child in sorted(path.iterdir()):
                if child.is_file():
                    out += read_certificates(child)
        else:
            out += read_certificates(path)
    return out


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="portal", description="signagent's reference portal (issue 14)")
    commands = top.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="run the portal")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--origin", help="the portal's origin as users open it (default http://127.0.0.1:PORT)")
    serve.add_argument("--agent-port", type=int, default=36985)
    serve.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    serve.add_argument("--data-dir", type=Path, default=None)
    serve.add_argument("--demo", action="store_true", help="demo ЕГРЮЛ/ЕГРИП extracts and the demo test PKI")
    serve.add_argument("--demo-dir", type=Path, default=None, help="the agent demo's directory (its demo.json)")
    serve.add_argument("--trust", action="append", default=[], metavar="FILE")
    serve.add_argument("--intermediate", action="append", default=[], metavar="FILE")
    serve.add_argument("--crl", action="append", default=[], metavar="FILE")
    serve.add_argument("--egrul", action="append", default=[], metavar="FILE")
    serve.add_argument("--egrip", action="append", default=[], metavar="FILE")
    serve.add_argument("--offline", action="store_true", help="no network for revocation data (CRLs from --crl)")
    serve.add_argument("--revocation", choices=("hard", "soft", "off"), default="hard")
    demo = commands.add_parser("demo", help="the agent with its demo tokens and the portal with demo data")
    demo.add_argument("--port", type=int, default=8080)
    demo.add_argument("--agent-port", type=int, default=36985)
    demo.add_argument("--demo-dir", type=Path, default=None, help="the agent demo's directory (tokens, PIN files)")
    demo.add_argument("--data-dir", type=Path, default=None, help="the portal's data directory (its SQLite file)")
    return top


class UsageError(Exception):
    pass


def _demo_trust(demo_dir: Path | None) -> tuple[list[str], list[str], list[str]]:
    """Root, intermediate and current CRLs of the agent demo's test PKI (``demo.json`` of ``signagent serve
    --demo``; the CRLs the simulator's test CA wrote beside the head's token, ``test-ca/crl``)."""
    from signagent.service.demo import default_demo_dir

    state = (demo_dir or default_demo_dir()) / "demo.json"
    try:
        data = json.loads(state.read_text(encoding="utf-8"))
        crl_dir = Path(data["token_dir"]) / "test-ca" / "crl"
        crls = [str(crl_dir / name) for name in ("root.crl", "inter.crl") if (crl_dir / name).is_file()]
        return [data["root_certificate"]], [data["intermediate_certificate"]], crls
    except (OSError, ValueError, KeyError, TypeError):
        raise UsageError(f"--demo without --trust needs the agent's demo ({state}): run `signagent serve --demo` "
                         "first, or give --trust") from None


def build_settings(args: argparse.Namespace) -> PortalSettings:
    from signagent.registration import egr

    trust, intermediates, crl_files = list(args.trust), list(args.intermediate), list(args.crl)
    offline = args.offline
    if args.demo and not trust:
        # the test PKI's revocation URLs are nobody's server: its CRLs are read from the files, offline
        trust, more, demo_crls = _demo_trust(args.demo_dir)
        intermediates += more
        crl_files += demo_crls
        offline = True
    if not trust:
        raise UsageError("no trust anchor: give --trust FILE (the root CA certificates signatures must chain to)")
    try:
        roots, inters, crls = _files(trust), _files(intermediates), _files(crl_files)
        registry = None
        extracts = [*args.egrul, *args.egrip]
        if extracts:
            registry = egr.ExtractRegistry.from_files(extracts)
            if args.demo:
                registry = egr.ExtractRegistry([*registry.records(), *egr.demo_registry().records()])
        elif args.demo:
            registry = egr.demo_registry()
    except OSError as exc:
        raise UsageError(f"{exc.filename}: {exc.strerror}") from None
    if registry is None:
        raise UsageError("no register: give --egrul/--egrip extracts or --demo")
    origin = (args.origin or f"http://127.0.0.1:{args.port}").rstrip("/")
    return PortalSettings(data_dir=args.data_dir or default_data_dir(), origin=origin, agent_port=args.agent_port,
                          database_url=args.database_url, registry=registry, demo=args.demo,
                          demo_pin="1234" if args.demo else None, secure_cookies=origin.startswith("https:"),
                          trust=Trust(roots=roots, intermediates=inters, crls=crls, offline=offline,
                                      revocation=args.revocation))


_AGENT_GUARD = 120.0  # seconds for the agent to answer (its first start makes three tokens): a hang guard only


def _start_agent(args: argparse.Namespace) -> subprocess.Popen[bytes]:
    """``signagent serve --demo --no-demo-portal`` as a child process, once it answers HTTP (it binds its port
    first and prepares the demo tokens after, so an open port alone does not mean ready)."""
    command = [sys.executable, "-m", "signagent", "serve", "--demo", "--no-demo-portal", "--port",
               str(args.agent_port)]
    if args.demo_dir is not None:
        command += ["--demo-dir", str(args.demo_dir)]
    agent = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + _AGENT_GUARD
    while time.monotonic() < deadline:
        if agent.poll() is not None:
            raise UsageError(f"the agent did not start (exit status {agent.returncode}; see its message above)")
        request = urllib.request.Request(f"http://127.0.0.1:{args.agent_port}/v1/info",
                                         headers={"Origin": f"http://127.0.0.1:{args.port}"})
        try:
            with urllib.request.urlopen(request, timeout=2):  # noqa: S310 -- a fixed loopback URL
                return agent
        except (OSError, ValueError):
            time.sleep(0.2)
    agent.terminate()
    raise UsageError(f"the agent did not answer on port {args.agent_port}")


def _demo(args: argparse.Namespace) -> int:
    """``portal demo``: the agent as a child process, the portal in this one (see the module docstring)."""
    agent = None

    def terminated(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)  # uvicorn passes SIGTERM on after its shutdown: unwind, stop the agent

    signal.signal(signal.SIGTERM, terminated)
    try:
        agent = _start_agent(args)
        serve_args = parser().parse_args(["serve", "--demo", "--port", str(args.port), "--agent-port",
                                          str(args.agent_port)]
                                         + (["--demo-dir", str(args.demo_dir)] if args.demo_dir else [])
                                         + (["--data-dir", str(args.data_dir)] if args.data_dir else []))
        return _serve(serve_args, banner=(
            f"\nОткройте в браузере / open in the browser:  http://127.0.0.1:{args.port}/\n"
            "Демо-токены / demo tokens: «Demo Head» (Иванов И. И., руководитель), «Demo Employee» (Петрова М. С.), "
            "«Demo Entrepreneur» (Сидоров П. А.); PIN 1234. Ctrl-C stops the portal and the agent.\n"))
    except UsageError as err:
        print(f"portal: {err}", file=sys.stderr)
        return 2
    finally:
        if agent is not None and agent.poll() is None:
            agent.send_signal(signal.SIGTERM)
            try:
                agent.wait(30)
            except subprocess.TimeoutExpired:
                agent.kill()


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    if not given or (given[0].startswith("-") and given[0] not in ("-h", "--help")):
        given.insert(0, "serve")  # `python -m portal --demo` is `portal serve --demo`
    args = parser().parse_args(given)
    if args.command == "demo":
        return _demo(args)
    if args.command != "serve":
        parser().print_help()
        return 2
    return _serve(args)


def _serve(args: argparse.Namespace, banner: str | None = None) -> int:
    try:
        settings = build_settings(args)
        from .app import create_app

        app = create_app(settings)
    except UsageError as err:
        print(f"portal: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # the database unreachable, a malformed extract: one line, not a traceback
        print(f"portal: cannot start: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}",
              file=sys.stderr)
        return 2
    import uvicorn

    print(banner or f"Портал: {settings.origin}/  (агент: {settings.agent_url})  · Portal: open {settings.origin}/",
          flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
