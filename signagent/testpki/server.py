"""A tiny threaded HTTP server on 127.0.0.1 for the test PKI: OCSP (RFC 6960 appendix A) plus static files.

It answers POST ``application/ocsp-request`` and GET ``<ocsp path>/<base64 request>`` through an
:class:`~.ocsp.OcspResponder`, and serves the CRLs and CA certificates at the addresses the certificates name
(cRLDistributionPoints, caIssuers). For the failure paths of revocation checking it can be made slow
(:attr:`PkiServer.delay`) or failing (:attr:`PkiServer.failure`: ``"http500"``, ``"garbage"`` -- a 200 answer
with junk --, or ``"close"`` -- the connection is dropped without an answer), for every path or only for the
paths starting with one of :attr:`PkiServer.failure_paths`. Every request is recorded in
:attr:`PkiServer.requests`.

Use it as a context manager; it binds on creation, so its :attr:`~PkiServer.base_url` is known before the PKI is
generated::

    with PkiServer() as server:
        pki = generate(tmp_path, base_url=server.base_url)
        server.serve_pki(pki)
        ...

Exports: PkiServer.
"""

from __future__ import annotations

import base64
import binascii
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import unquote, urlsplit

from ..errors import InvalidInputError
from .generator import TestPKI
from .ocsp import OcspResponder

__all__ = ["PkiServer"]

_FAILURES = (None, "http500", "garbage", "close")
_MAX_REQUEST = 64 * 1024  # an OCSP request is a few hundred bytes


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a handler stuck in a delay never keeps the process alive
    owner: PkiServer

    def handle_error(self, request: object, client_address: object) -> None:
        """Stay quiet when a client went away (timeouts are the point of the slow mode); report anything else."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "signagent-testpki"

    def log_message(self, format: str, *args: object) -> None:
        """Silence the per-request log lines on stderr."""

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self, body: bytes | None) -> None:
        owner = self.server.owner
        path = urlsplit(self.path).path
        owner._record(self.command, path)
        if owner.delay > 0 and owner._stopping.wait(owner.delay):
            return  # the server is stopping: give up on this request
        if owner._fails(path):
            if owner.failure == "close":
                self.close_connection = True
                return
            if owner.failure == "http500":
                self._send(500, b"internal error (test PKI server told to fail)\n", "text/plain")
                return
            # Never valid DER (tag 0x00 starts no structure), different on every call.
            self._send(200, b"\x00\x00garbage" + os.urandom(89), "application/octet-stream")
            return
        ocsp_path = owner.ocsp_path
        if owner.responder is not None and ocsp_path is not None:
            if self.command == "POST" and path == ocsp_path and body is not None:
                self._send(200, owner.responder.respond(body), "application/ocsp-response")
                return
            if self.command in ("GET", "HEAD") and path.startswith(ocsp_path + "/"):
                try:
                    request = base64.b64decode(unquote(path[len(ocsp_path) + 1 :]), validate=True)
                except (binascii.Error, ValueError):
                    self._send(400, b"bad base64 OCSP request\n", "text/plain")
                    return
                self._send(200, owner.responder.respond(request), "application/ocsp-response")
                return
        found = owner.files.get(path)
        if found is None or self.command == "POST":
            self._send(404, b"not found\n", "text/plain")
            return
        self._send(200, found[0], found[1])

    def do_GET(self) -> None:
        """Static file or OCSP GET."""
        self._handle(None)

    def do_HEAD(self) -> None:
        """Like GET without a body."""
        self._handle(None)

    def do_POST(self) -> None:
        """OCSP POST."""
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= _MAX_REQUEST:
            self._send(413, b"bad request length\n", "text/plain")
            return
        self._handle(self.rfile.read(length))


class PkiServer:
    """OCSP responder and static files on 127.0.0.1 (ephemeral port by default); stops itself on exit."""

    def __init__(self, pki: TestPKI | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 delegated: bool = False) -> None:
        self._httpd = _Server((host, port), _Handler)
        self._httpd.owner = self
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self.host = host
        self.port: int = self._httpd.server_address[1]
        #: Files served, by URL path: path -> (content, content type). Tests may replace entries.
        self.files: dict[str, tuple[bytes, str]] = {}
        self.responder: OcspResponder | None = None
        self.ocsp_path: str | None = None
        #: Seconds to wait before answering any request.
        self.delay: float = 0.0
        #: None (answer normally), "http500", "garbage" or "close".
        self.failure: str | None = None
        #: Path prefixes the failure applies to; None: every path.
        self.failure_paths: tuple[str, ...] | None = None
        #: (method, path) of every request received, in order.
        self.requests: list[tuple[str, str]] = []
        if pki is not None:
            self.serve_pki(pki, delegated=delegated)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/`` -- pass it to :func:`~.generator.generate` as ``base_url``."""
        return f"http://{self.host}:{self.port}/"

    def serve_pki(self, pki: TestPKI, *, delegated: bool = False) -> None:
        """Serve ``pki``: its OCSP responder at its OCSP URL, every certificate (DER at ``certs/<name>.cer``, PEM at
        ``certs/<name>.pem``) and CRL (``crl/<name>.crl`` and ``.crl.pem``) under the PKI's base URL path."""
        base = urlsplit(pki.base_url).path
        if not base.endswith("/"):
            base += "/"
        files = {}
        for item in pki.certificates:
            files[f"{base}certs/{item.name}.cer"] = (item.der, "application/pkix-cert")
            files[f"{base}certs/{item.name}.pem"] = (item.pem, "application/x-pem-file")
        for c in pki.crls.values():
            files[f"{base}crl/{c.name}.crl"] = (c.der, "application/pkix-crl")
            files[f"{base}crl/{c.name}.crl.pem"] = (c.pem, "application/x-pem-file")
        self.files.update(files)
        self.responder = OcspResponder.for_pki(pki, delegated=delegated)
        self.ocsp_path = urlsplit(pki.urls["ocsp"]).path

    def set_failure(self, failure: str | None, *paths: str) -> None:
        """Make requests fail (``"http500"``, ``"garbage"``, ``"close"``; None: stop failing), optionally only
        those whose path starts with one of ``paths``."""
        if failure not in _FAILURES:
            raise InvalidInputError(f"unknown failure mode {failure!r}; expected one of {_FAILURES}")
        self.failure = failure
        self.failure_paths = paths or None

    def _fails(self, path: str) -> bool:
        if self.failure is None:
            return False
        return self.failure_paths is None or path.startswith(self.failure_paths)

    def _record(self, method: str, path: str) -> None:
        with self._lock:
            self.requests.append((method, path))

    def start(self) -> PkiServer:
        """Start serving in a daemon thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=f"testpki-server-{self.port}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; requests waiting in a delay are abandoned."""
        self._stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> PkiServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
