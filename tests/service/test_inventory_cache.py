"""The agent's inventory cache (service.inventory_cache) over the simulator loaded through its real PKCS#11 module:
a certificate inserted after the last listing is found by its id, but asking for ids that are nowhere does not make
the agent list every token on each request (at most once per MIN_LOOKUP_REBUILD_INTERVAL)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import pkcs11_sim
from pkcs11_sim.provision import provision
from pkcs11_sim.store import SimRoot
from signagent.service.access import CertificateNotFoundError
from signagent.service.config import load_config
from signagent.service.inventory_cache import MIN_LOOKUP_REBUILD_INTERVAL, InventoryCache
from tests.conftest import require

PIN, SO_PIN = b"1234", b"87654321"


class CountingCache(InventoryCache):
    """The cache, counting how often it lists the tokens."""

    builds = 0

    def _build(self):  # type: ignore[no-untyped-def]
        self.builds += 1
        return super()._build()


@pytest.fixture
def simulator(tmp_path: Path):
    try:
        import PyKCS11  # noqa: F401
    except ImportError:
        require(False, "PyKCS11")
    saved = os.environ.get("PKCS11_SIM_DIR")
    os.environ["PKCS11_SIM_DIR"] = str(tmp_path / "sim")
    try:
        yield SimRoot(tmp_path / "sim")
    finally:
        if saved is None:
            os.environ.pop("PKCS11_SIM_DIR", None)
        else:
            os.environ["PKCS11_SIM_DIR"] = saved


def _config(tmp_path: Path):  # type: ignore[no-untyped-def]
    """The agent's settings with the simulator's PKCS#11 module (and an empty configuration file)."""
    (tmp_path / "config.toml").write_text("")
    return load_config({"pkcs11_modules": [pkcs11_sim.module_path()], "keys_dir": str(tmp_path / "keys")},
                       environ={}, path=tmp_path / "config.toml")


def test_unknown_ids_cost_at_most_one_listing_per_interval(simulator: SimRoot, tmp_path: Path) -> None:
    now = [1000.0]
    config = _config(tmp_path)
    first = provision(simulator, label="First", pin=PIN, so_pin=SO_PIN, profile="head")
    cache = CountingCache(config, clock=lambda: now[0])
    assert cache.find(first.certificate_id).id == first.certificate_id
    assert cache.builds == 1

    for _ in range(20):  # a page asking for random ids: no listing while the last one is fresh
        with pytest.raises(CertificateNotFoundError):
            cache.find(os.urandom(32).hex())
    assert cache.builds == 1

    second = provision(simulator, label="Second", pin=PIN, so_pin=SO_PIN, profile="person")
    now[0] += MIN_LOOKUP_REBUILD_INTERVAL  # the token watcher would invalidate at once; without it, soon enough
    assert cache.find(second.certificate_id).id == second.certificate_id
    assert cache.builds == 2
    with pytest.raises(CertificateNotFoundError):
        cache.find("ab" * 32)
    assert cache.builds == 2


def test_the_ready_document_is_only_a_fresh_one(simulator: SimRoot, tmp_path: Path) -> None:
    # what GET /v1/certificates answers on the event loop without a thread hop: never a stale or missing listing
    now = [1000.0]
    config = _config(tmp_path)
    made = provision(simulator, label="First", pin=PIN, so_pin=SO_PIN, profile="head")
    cache = CountingCache(config, ttl=60.0, clock=lambda: now[0])
    assert cache.ready_body() is None and cache.builds == 0  # never builds by itself
    body = cache.json_body()
    assert made.certificate_id.encode() in body
    assert cache.ready_body() == body
    now[0] += 60.0
    assert cache.ready_body() is None  # too old: the caller builds it (in a thread)
    assert made.certificate_id.encode() in cache.json_body() and cache.builds == 2
    cache.invalidate()
    assert cache.ready_body() is None
