"""Localhost API benchmark: a real ``signagent serve`` process on a simulated token, timed from outside.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_api [--quick] [--json] [--clients N] [--runs N]

Set-up: a temporary directory holds a simulated token "Demo Head" (``pkcs11-sim provision --profile head``: the
head of an organisation, test PKI, PIN 1234), the agent's state, keys and trust directories (the test PKI's root
and intermediate imported), an empty configuration file; the agent runs offline (``SIGNAGENT_OFFLINE=1``: no chain
check waits on the network) as ``python -m signagent serve --port P --state-dir S``, the way ``scripts/demo.sh``
sets up the environment.

Figures (issue 12; each row: ours, the baseline it is compared with, the ratio, the target):

* **(a) throughput** of ``GET /v1/certificates`` (warm: the inventory cached by the agent) with N concurrent
  keep-alive clients (bare HTTP/1.1 on asyncio streams, default 8), requests per second over a few seconds,
  beside the same server's ``GET /v1/info`` -- the framework's floor: what the stack (uvicorn, FastAPI, the
  security middleware) answers with no work at all. The clients run in this process and share the 2 cores with
  the server: the figure is of the pair, a lower bound of the server's. Target: >= 1,000/s;
* **(b) idle RSS** of the agent after start-up and one answered request (VmRSS from /proc/PID/status), beside the
  bare interpreter's (``python -c pass``, read the same way). Target: <= 80 MB;
* **(c) start-up**: from ``Popen`` to the first answered ``/v1/info``, median of 3 starts (1 quick), beside the
  interpreter's own start-up (``python -c pass``). Target: <= 1.5 s;
* **(d) the sign round trip**: ``POST /v1/sign`` (1 KiB, attached) -> the agent's confirmation page (``GET
  /confirm/{id}``, its one-time token read from the form) -> ``POST /confirm/{id}`` with ``decision=approve`` and
  the PIN from the agent's own origin -> ``GET /v1/requests/{id}`` until ``approved``; p50 and p95 over 50 runs
  (12 quick), beside the token's own work measured directly through the token layer in this process: the PIN
  check and signature (``Pkcs11Token.sign_digest_with_key``: C_Login, C_Sign, C_Logout) and the whole CAdES-BES
  through the token (``cms.signing.sign`` with a ``TokenSigner``). Target: p50 <= 25 ms beyond the token's
  CMS. Runs alternate between a local program (the secret) and a paired site (its own origin): the agent
  admits 30 signing requests per origin per minute, and 50 runs from one origin would be refused.

Informative only; the exit status is 0 (a figure that cannot be measured shows ``-`` with the reason).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from signagent.service.local_secret import SECRET_FILE, SECRET_HEADER

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

LABEL = "Demo Head"
PIN = "1234"
SO_PIN = "87654321"
TARGET_RATE = 1000.0
TARGET_RSS_MB = 80.0
TARGET_START_S = 1.5
TARGET_OVERHEAD_MS = 25.0
START_GUARD = 30.0  # seconds: reached only when the agent cannot start
SITE = "https://bench.test"


@dataclass
class Setup:
    """The temporary world of one run: environment, token directory, the agent's state directory."""

    tmp: Path
    env: dict[str, str]
    token_dir: Path
    state_dir: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _provision(tmp: Path) -> Setup:
    import pkcs11_sim

    for name in ("tokens", "keys", "trust", "state", "cache"):
        (tmp / name).mkdir(mode=0o700)
    (tmp / "config.toml").write_text("")
    pin_file, so_pin_file = tmp / "pin", tmp / "so-pin"
    for path, value in ((pin_file, PIN), (so_pin_file, SO_PIN)):
        path.write_text(value + "\n")
        path.chmod(0o600)
    env = dict(os.environ, PKCS11_SIM_DIR=str(tmp / "tokens"), SIGNAGENT_PKCS11_MODULES=pkcs11_sim.module_path(),
               SIGNAGENT_KEYS_DIR=str(tmp / "keys"), SIGNAGENT_TRUST_DIR=str(tmp / "trust"),
               SIGNAGENT_CACHE_DIR=str(tmp / "cache"), SIGNAGENT_CONFIG=str(tmp / "config.toml"),
               SIGNAGENT_OFFLINE="1", SIGNAGENT_LOG_DIR=str(tmp), LANG="C.UTF-8")
    subprocess.run([sys.executable, "-m", "pkcs11_sim", "provision", "--label", LABEL, "--pin-file", str(pin_file),
                    "--so-pin-file", str(so_pin_file), "--profile", "head"], env=env, check=True,
                   capture_output=True)
    token_dir = next(p for p in (tmp / "tokens").iterdir() if (p / "root.pem").exists())
    for kind, name in (("root", "root.pem"), ("intermediate", "intermediate.pem")):
        subprocess.run([sys.executable, "-m", "signagent", "trust", "import", "--kind", kind,
                        str(token_dir / name)], env=env, check=True, capture_output=True)
    return Setup(tmp, env, token_dir, tmp / "state")


@dataclass
class Agent:
    """A running ``signagent serve`` child."""

    process: subprocess.Popen[bytes]
    port: int
    started_in: float
    state_dir: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def own_origin(self) -> dict[str, str]:
        return {"Origin": self.url}

    def local(self) -> dict[str, str]:
        return {SECRET_HEADER: (self.state_dir / SECRET_FILE).read_text().strip()}


@contextmanager
def _serve(setup: Setup) -> Iterator[Agent]:
    """Start the agent; ``started_in``: seconds from Popen to the first answered /v1/info."""
    port = _free_port()
    log = (setup.tmp / f"serve-{port}.log").open("wb")
    begin = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "signagent", "serve", "--port", str(port), "--state-dir",
                                str(setup.state_dir)], env=setup.env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1/info"
    headers = {"Origin": f"http://127.0.0.1:{port}"}  # the agent's own origin: no secret needed
    try:
        with httpx.Client(timeout=5.0) as client:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"signagent serve exited with {process.returncode}: see {log.name}")
                if time.perf_counter() - begin > START_GUARD:
                    raise RuntimeError("signagent serve did not answer in time")
                try:
                    if client.get(url, headers=headers).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.005)
        started = time.perf_counter() - begin
        yield Agent(process, port, started, setup.state_dir)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def _bare_python() -> tuple[float, float]:
    """(start-up seconds, RSS MB) of the bare interpreter, as the baseline of (b) and (c)."""
    code = "import sys; sys.stdout.write(open('/proc/self/status').read())"
    begin = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    took = time.perf_counter() - begin
    rss = next(int(line.split()[1]) for line in out.splitlines() if line.startswith("VmRSS:")) / 1024
    return took, rss


# --------------------------------------------------------------------------------------------------- (a)


async def _hammer(url: str, headers: dict[str, str], clients: int, seconds: float) -> float:
    """Requests per second answered 200 by ``clients`` concurrent keep-alive connections during ``seconds``.

    Each client is a bare HTTP/1.1 exchange on an asyncio stream (one request written, the answer read by its
    Content-Length), not httpx: with httpx the clients' own Python cost the 2 cores more than the agent's
    answers did (~0.1 ms each on the event loop), and the figure measured the client."""
    parts = urlsplit(url)
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{head}\r\n".encode("ascii")
    stop = time.perf_counter() + seconds
    counts = [0] * clients
    errors: list[str] = []

    async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(request)
        answer_head = await reader.readuntil(b"\r\n\r\n")
        status = answer_head.split(b" ", 2)[1]
        length = next(int(line.split(b":", 1)[1]) for line in answer_head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        body = await reader.readexactly(length)
        if status != b"200":
            errors.append(f"{status.decode()} {body[:100]!r}")
            return False
        return True

    async def one(index: int) -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            await exchange(reader, writer)  # warm up outside the count
            while time.perf_counter() < stop:
                if not await exchange(reader, writer):
                    return
                counts[index] += 1
        finally:
            writer.close()

    begin = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(clients)))
    elapsed = time.perf_counter() - begin
    if errors:
        raise RuntimeError(errors[0])
    return sum(counts) / elapsed


def _throughput(agent: Agent, clients: int, seconds: float, rounds: int) -> dict[str, Any]:
    headers = agent.local()
    warm = httpx.get(f"{agent.url}/v1/certificates", headers=headers, timeout=60.0)  # fills the inventory cache
    if warm.status_code != 200:
        raise RuntimeError(f"GET /v1/certificates: {warm.status_code} {warm.text[:200]}")
    ours, floor = [], []
    for _ in range(rounds):  # alternating, so that both see the same machine
        ours.append(asyncio.run(_hammer(f"{agent.url}/v1/certificates", headers, clients, seconds)))
        floor.append(asyncio.run(_hammer(f"{agent.url}/v1/info", headers, clients, seconds)))
    count = len(warm.json().get("certificates", []))
    return {"ours": statistics.median(ours), "floor": statistics.median(floor), "certificates": count}


# --------------------------------------------------------------------------------------------------- (d)


def _pair(client: httpx.Client, agent: Agent, origin: str) -> None:
    started = client.post(f"{agent.url}/v1/pair", headers={"Origin": origin}).json()
    page = client.get(f"{agent.url}/pair/{started['request_id']}").text
    token = re.search(r'name="token" value="([^"]+)"', page)
    if token is None:
        raise RuntimeError("the pairing page carries no token")
    done = client.post(f"{agent.url}/pair/{started['request_id']}", headers=agent.own_origin,
                       data={"token": token.group(1), "decision": "approve"})
    if done.status_code != 200:
        raise RuntimeError(f"pairing: {done.status_code}")


def _round_trip(client: httpx.Client, agent: Agent, caller: dict[str, str], body: dict[str, Any]) -> float:
    begin = time.perf_counter()
    started = client.post(f"{agent.url}/v1/sign", json=body, headers=caller)
    if started.status_code != 202:
        raise RuntimeError(f"POST /v1/sign: {started.status_code} {started.text[:200]}")
    request_id = started.json()["request_id"]
    page = client.get(f"{agent.url}/confirm/{request_id}")
    token = re.search(r'<input type="hidden" name="token" value="([^"]+)"', page.text)
    if page.status_code != 200 or token is None:
        raise LookupError(f"GET /confirm/{{id}}: {page.status_code}, no one-time token in the page")
    decided = client.post(f"{agent.url}/confirm/{request_id}", headers=agent.own_origin,
                          data={"token": token.group(1), "decision": "approve", "pin": PIN})
    if decided.status_code != 200:
        raise RuntimeError(f"POST /confirm/{{id}}: {decided.status_code} {decided.text[:300]}")
    while True:
        status = client.get(f"{agent.url}/v1/requests/{request_id}", params={"wait": 5}, headers=caller).json()
        if status["status"] == "approved":
            break
        if status["status"] != "pending" and status["status"] != "running":
            raise RuntimeError(f"request {status['status']}: {status.get('error')}")
    elapsed = time.perf_counter() - begin
    if not status.get("result", {}).get("cms"):
        raise RuntimeError("approved without a signature")
    return elapsed


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _token_own(setup: Setup, cert_id: str, message: bytes, seconds: float) -> dict[str, float]:
    """The token's own work, measured in this process through the token layer: (PIN check + signature) and the
    CAdES-BES through a TokenSigner, median ms per call."""
    from signagent.cms.signing import sign
    from signagent.gost import streebog256
    from signagent.tokens.pkcs11 import Pkcs11Module
    from signagent.tokens.protocol import StaticPinProvider

    os.environ["PKCS11_SIM_DIR"] = setup.env["PKCS11_SIM_DIR"]  # read by the module at C_Initialize
    pins = StaticPinProvider(PIN.encode())
    figures: dict[str, float] = {}
    with Pkcs11Module(setup.env["SIGNAGENT_PKCS11_MODULES"]) as module:
        token = module.token(label=LABEL)
        entry = next(e for e in token.certificates() if e.cert_id == cert_id and e.has_private_key)
        digest = streebog256(message).digest()
        signer = token.signer(entry, pins)
        for name, fn in (("pin_and_sign", lambda: token.sign_digest_with_key(entry.key, digest, pins)),
                         ("cms", lambda: sign(message, signer))):
            fn()
            times = []
            end = time.perf_counter() + seconds
            while time.perf_counter() < end or len(times) < 5:
                begin = time.perf_counter()
                fn()
                times.append(time.perf_counter() - begin)
            figures[name] = statistics.median(times) * 1000
    return figures


def _sign_rows(setup: Setup, agent: Agent, runs: int, seconds: float) -> dict[str, Any]:
    message = os.urandom(1024)
    with httpx.Client(timeout=60.0) as client:
        listing = client.get(f"{agent.url}/v1/certificates", headers=agent.local()).json()
        cert = next(c for c in listing["certificates"] if c.get("has_private_key"))
        body = {"certificate_id": cert["id"], "content": base64.b64encode(message).decode(), "detached": False,
                "content_type": "text/plain", "filename": "bench.txt"}
        _pair(client, agent, SITE)
        callers = [agent.local(), {"Origin": SITE}]
        for caller in callers:  # warm-up: first use of the token, the page template, the signing code
            _round_trip(client, agent, caller, body)
        times = [_round_trip(client, agent, callers[i % 2], body) * 1000 for i in range(runs)]
    own = _token_own(setup, cert["id"], message, seconds)
    p50, p95 = statistics.median(times), _percentile(times, 0.95)
    return {"runs": runs, "p50_ms": p50, "p95_ms": p95, "token_pin_and_sign_ms": own["pin_and_sign"],
            "token_cms_ms": own["cms"], "overhead_p50_ms": p50 - own["cms"]}


# --------------------------------------------------------------------------------------------------- main


def _row(figure: str, ours: float | None, baseline: float | None, target: str, note: str,
         ratio: float | None = None) -> dict[str, Any]:
    if ratio is None and ours is not None and baseline:
        ratio = ours / baseline
    return {"figure": figure, "ours": ours, "baseline": baseline, "ratio": ratio, "target": target, "note": note}


def _attempt(rows: list[dict[str, Any]], figure: str, fn: Callable[[], list[dict[str, Any]]]) -> None:
    try:
        rows.extend(fn())
    except Exception as exc:  # a figure that cannot be measured is shown as such; the others go on
        rows.append(_row(figure, None, None, "", f"not measured: {exc}"))


def run(quick: bool, clients: int, runs: int | None) -> dict[str, Any]:
    seconds, rounds, starts = (1.0, 1, 1) if quick else (3.0, 3, 3)
    runs = runs or (12 if quick else 50)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="signagent-bench-api-") as tmp:
        setup = _provision(Path(tmp))
        bare_start, bare_rss = _bare_python()
        start_times: list[float] = []
        for _ in range(starts - 1):  # extra starts for the median of (c); the last one serves the other figures
            with _serve(setup) as agent:
                start_times.append(agent.started_in)
        with _serve(setup) as agent:
            start_times.append(agent.started_in)
            time.sleep(0.5)  # idle: after start-up and one answered request
            idle_rss = _rss_mb(agent.process.pid)

            def throughput() -> list[dict[str, Any]]:
                found = _throughput(agent, clients, seconds, rounds)
                return [_row("(a) GET /v1/certificates, req/s", found["ours"], found["floor"], f">= {TARGET_RATE:.0f}",
                             f"{clients} keep-alive raw HTTP/1.1 clients, warm inventory of {found['certificates']} "
                             "certificate(s); baseline = GET /v1/info (the framework's floor)")]

            def signing() -> list[dict[str, Any]]:
                found = _sign_rows(setup, agent, runs, 0.5 if quick else 1.5)
                return [
                    _row("(d) sign round trip p50, ms", found["p50_ms"], found["token_cms_ms"],
                         f"<= token + {TARGET_OVERHEAD_MS:.0f} ms",
                         f"{found['runs']} runs, 1 KiB attached; baseline = CAdES-BES through the token layer "
                         f"(overhead {found['overhead_p50_ms']:.1f} ms)"),
                    _row("(d) sign round trip p95, ms", found["p95_ms"], found["token_cms_ms"], "",
                         "same runs"),
                    _row("(d) token PIN check + signature, ms", found["token_pin_and_sign_ms"], None, "",
                         "Pkcs11Token.sign_digest_with_key: C_Login, C_Sign, C_Logout (in this process)"),
                ]

            _attempt(rows, "(a) GET /v1/certificates, req/s", throughput)
            rows.append(_row("(b) idle RSS, MB", idle_rss, bare_rss, f"<= {TARGET_RSS_MB:.0f}",
                             "VmRSS of signagent serve after start-up; baseline = bare python"))
            _attempt(rows, "(d) sign round trip", signing)
        rows.insert(2, _row("(c) start-up to first /v1/info, s", statistics.median(start_times), bare_start,
                            f"<= {TARGET_START_S}", f"median of {len(start_times)} start(s); baseline = python -c"))
    return {"cores": os.cpu_count(), "rows": rows}


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short loops, one start, 12 signing runs")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients of (a) (default 8)")
    parser.add_argument("--runs", type=int, default=None, help="signing round trips of (d) (default 50)")
    args = parser.parse_args(argv)
    result = run(args.quick, args.clients, args.runs)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"signagent serve, localhost API ({result['cores']} cores)")
    print(f"{'figure':<40}{'ours':>9}{'baseline':>10}{'ratio':>8}  {'target':<22} note")
    for r in result["rows"]:
        print(f"{r['figure']:<40}{_fmt(r['ours']):>9}{_fmt(r['baseline']):>10}{_fmt(r['ratio']):>8}  "
              f"{r['target']:<22} {r['note']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
