"""Policy defaults of the use cases, taken from the configuration (:class:`~signagent.service.config.Config`).

What a check uses when its caller names nothing more specific -- the one place the command line and the localhost
API get them from, so both behave alike:

* :func:`trust_store` / :func:`store_material` -- the user's trust store (``trust_dir``) and what it holds: the
  anchors of ``cert validate`` and ``verify`` without ``--trust``, and the extra roots of ``certs``;
* :func:`fetcher` -- network access for revocation data and missing CA certificates, with the configured timeout
  (None when ``offline``);
* :func:`check_settings` -- the revocation mode, offline flag and cache directory of one check: the caller's
  choice where it made one, else the configuration's;
* :func:`pkcs11_modules` -- the PKCS#11 modules of token discovery: the configured ones, then the caller's;
* :func:`downloader` -- the download function of ``trust update``, with the configured timeout.

Exports: trust_store, store_material, fetcher, check_settings, pkcs11_modules, downloader.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable
from typing import Any

from signagent.trust.fetching import HttpFetcher
from signagent.trust.store import TrustStore

from .config import Config

__all__ = ["check_settings", "downloader", "fetcher", "pkcs11_modules", "store_material", "trust_store"]


def trust_store(config: Config) -> TrustStore:
    """The user's trust store at the configured directory."""
    return TrustStore(config.trust_dir)


def store_material(config: Config) -> dict[str, list[Any]]:
    """The trust store's roots, intermediates and CRLs, as keyword arguments of the validation use cases
    (``trust_roots``, ``intermediates``, ``crls``)."""
    store = trust_store(config)
    return {"trust_roots": store.roots(), "intermediates": store.intermediates(), "crls": store.crls()}


@functools.cache
def _http_fetcher(timeout: float) -> HttpFetcher:
    # one per timeout for the process: its HTTP client is reused, and the validation result cache (keyed by the
    # fetcher's identity) keeps working across calls
    return HttpFetcher(timeout=timeout)


def fetcher(config: Config, offline: bool | None = None) -> HttpFetcher | None:
    """The network fetcher of a check (configured timeout), None when the check is offline."""
    if config.offline if offline is None else offline:
        return None
    return _http_fetcher(config.revocation_timeout)


def check_settings(config: Config | None, *, revocation: str | None = None, offline: bool = False,
                   cache_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Keyword arguments of :func:`signagent.trust.validation.validate` for one check: ``revocation``,
    ``offline``, ``cache_dir`` and ``fetcher``. The caller's choices win (``revocation`` None and ``offline``
    False mean "not chosen"), then the configuration's; without a configuration, the lower layer's defaults
    (soft, the default cache and fetcher)."""
    if config is None:
        return {"revocation": revocation or "soft", "offline": offline,
                "cache_dir": None if cache_dir is None else str(cache_dir), "fetcher": None}
    off = offline or config.offline
    return {"revocation": revocation or config.revocation, "offline": off,
            "cache_dir": str(config.cache_dir if cache_dir is None else cache_dir), "fetcher": fetcher(config, off)}


def pkcs11_modules(config: Config, extra_modules: Iterable[str] = ()) -> tuple[str, ...]:
    """The PKCS#11 modules token discovery loads besides the vendors' usual paths: the configured ones, then
    ``extra_modules`` (the command's ``--module`` options)."""
    return (*config.pkcs11_modules, *extra_modules)


def downloader(config: Config) -> Callable[[str], bytes]:
    """The download function of ``trust update`` (:func:`signagent.service.trust_admin.http_fetch`) with the
    configured timeout."""
    from .trust_admin import http_fetch  # httpx only for the commands that download

    return functools.partial(http_fetch, timeout=config.download_timeout)
