"""Network access for validation: CRLs, OCSP, CA certificates -- bounded in time and size, cached on disk.

* :class:`Fetcher` is what validation needs from the network (``get`` and ``post``); tests pass their own.
* :class:`HttpFetcher` implements it with httpx: only ``http``/``https`` addresses (LDAP and ``file:`` addresses
  in certificates are skipped, never followed), a total deadline per request (a server that drips bytes cannot
  hold validation longer than ``timeout``), a response size limit, at most a few redirects. Every failure is a
  :class:`~signagent.errors.DownloadError`.
* :class:`FetchCache` keeps downloaded bytes under a cache directory (by default platformdirs' user cache dir,
  ``signagent/fetch``), one file per address, written atomically; the caller decides freshness (a CRL is fresh
  until its nextUpdate, see :mod:`signagent.trust.revocation`).
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from signagent.errors import DownloadError
from signagent.fileio import write_atomic

__all__ = [
    "DEFAULT_MAX_SIZE",
    "DEFAULT_TIMEOUT",
    "FetchCache",
    "Fetcher",
    "HttpFetcher",
    "default_cache_dir",
    "is_fetchable",
]

DEFAULT_TIMEOUT = 5.0
DEFAULT_MAX_SIZE = 20 * 1024 * 1024
_MAX_REDIRECTS = 3


@runtime_checkable
class Fetcher(Protocol):
    """What validation needs from the network. Implementations raise DownloadError on any failure."""

    def get(self, url: str) -> bytes:
        """The body of a GET on ``url``."""
        ...

    def post(self, url: str, body: bytes, content_type: str) -> bytes:
        """The body of a POST of ``body`` to ``url``."""
        ...


def is_fetchable(url: str) -> bool:
    """Whether validation may download ``url``: an http or https address with a host."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


class HttpFetcher:
    """httpx-based :class:`Fetcher` with a total ``timeout`` (seconds) and ``max_size`` (bytes) per request."""

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, max_size: int = DEFAULT_MAX_SIZE,
                 user_agent: str = "signagent") -> None:
        self.timeout = timeout
        self.max_size = max_size
        self.user_agent = user_agent
        self._client = None

    def _http(self):  # type: ignore[no-untyped-def]
        if self._client is None:
            import httpx  # imported on first use: offline validation never loads it

            self._client = httpx.Client(timeout=httpx.Timeout(self.timeout), follow_redirects=False,
                                        headers={"User-Agent": self.user_agent}, trust_env=False)
        return self._client

    def close(self) -> None:
        """Release the connection pool."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def get(self, url: str) -> bytes:
        """GET ``url`` (following at most three redirects to http/https addresses)."""
        return self._request("GET", url, None, None)

    def post(self, url: str, body: bytes, content_type: str) -> bytes:
        """POST ``body`` to ``url``."""
        return self._request("POST", url, body, content_type)

    def _request(self, method: str, url: str, body: bytes | None, content_type: str | None) -> bytes:
        import httpx

        deadline = time.monotonic() + self.timeout
        for _ in range(_MAX_REDIRECTS + 1):
            if not is_fetchable(url):
                raise DownloadError(situation="scheme", url=repr(url))
            headers = {"Content-Type": content_type} if content_type else None
            try:
                with self._http().stream(method, url, content=body, headers=headers) as response:
                    if response.is_redirect and "location" in response.headers:
                        url = str(response.url.join(response.headers["location"]))
                        continue
                    if response.status_code != 200:
                        raise DownloadError(situation="http_status", url=url, status=response.status_code)
                    declared = response.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > self.max_size:
                        raise _too_large(url, self.max_size)
                    chunks: list[bytes] = []
                    size = 0
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > self.max_size:
                            raise _too_large(url, self.max_size)
                        if time.monotonic() > deadline:
                            raise _timed_out(url, self.timeout)
                        chunks.append(chunk)
                    return b"".join(chunks)
            except httpx.TimeoutException:
                raise _timed_out(url, self.timeout) from None
            except httpx.HTTPError as exc:
                raise DownloadError(situation="http_error", url=url, error_type=exc.__class__.__name__,
                                    error=exc) from None
        raise DownloadError(situation="redirects", url=url)


def _too_large(url: str, limit: int) -> DownloadError:
    return DownloadError(situation="too_large", url=url, limit=limit)


def _timed_out(url: str, timeout: float) -> DownloadError:
    return DownloadError(situation="timeout", url=url, timeout=f"{timeout:g}")


def default_cache_dir() -> Path:
    """platformdirs' user cache directory for signagent, ``fetch`` subfolder."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("signagent", appauthor=False)) / "fetch"


class FetchCache:
    """Downloaded bytes on disk, by kind (``crl``, ``cert``) and address; ``directory=None`` = the default."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()

    def _path(self, kind: str, url: str) -> Path:
        return self.directory / kind / (hashlib.sha256(url.encode()).hexdigest() + ".bin")

    def load(self, kind: str, url: str) -> tuple[bytes, float] | None:
        """(bytes, time stored as a Unix timestamp) or None when nothing is cached or it cannot be read."""
        path = self._path(kind, url)
        try:
            return path.read_bytes(), path.stat().st_mtime
        except OSError:
            return None

    def store(self, kind: str, url: str, data: bytes) -> None:
        """Keep ``data`` for ``url`` (atomically: a reader sees the old or the new file, never half of one).

        A cache that cannot be written (read-only home, full disk) is not an error for validation.
        """
        path = self._path(kind, url)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, data, sync_dir=False)  # a cache: durability of the rename is not needed
        except OSError:
            pass
