"""The nonce stores: issue, consume once, expire, origins and purposes apart; atomic under concurrent consumers;
the SQL store on SQLite and on a real PostgreSQL (tests/postgres.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from signagent.errors import InvalidInputError
from signagent.registration.nonces import MemoryNonceStore, NonceStoreError, SqlNonceStore, nonce_table
from signagent.service.access import OriginInvalidError
from tests.postgres import fresh_database, postgres_server  # noqa: F401  (postgres_server: a fixture)

ORIGIN = "https://portal.test"


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def postgres_url(request: pytest.FixtureRequest) -> str:
    """An empty database of its own on the session's PostgreSQL server (tests/postgres.py)."""
    return fresh_database(request.getfixturevalue("postgres_server"), "nonces")


Factory = Callable[[Clock], object]


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    made: list[SqlNonceStore] = []

    def memory(clock: Clock) -> object:
        return MemoryNonceStore(clock=clock)

    def sql(url: str) -> Factory:
        def factory(clock: Clock) -> object:
            store = SqlNonceStore(url, clock=clock)
            store.create_schema()
            made.append(store)
            return store
        return factory

    if request.param == "memory":
        yield memory
    elif request.param == "sqlite":
        yield sql(f"sqlite:///{tmp_path / 'nonces.db'}")
    else:
        url = request.getfixturevalue("postgres_url")
        yield sql(url)
        for store in made:  # each test starts from an empty table
            with store.engine.begin() as conn:
                conn.execute(store.table.delete())
    for store in made:
        store.engine.dispose()


def test_issue_gives_256_random_bits_used_once(make_store: Factory) -> None:
    store = make_store(Clock())
    nonce = store.issue(ORIGIN)  # type: ignore[attr-defined]
    assert len(nonce) == 64 and int(nonce, 16) >= 0 and nonce == nonce.lower()
    assert nonce != store.issue(ORIGIN)  # type: ignore[attr-defined]
    assert store.consume(nonce, ORIGIN) == "ok"  # type: ignore[attr-defined]
    assert store.consume(nonce, ORIGIN) == "used"  # type: ignore[attr-defined]
    assert store.consume(nonce.upper(), ORIGIN) == "used"  # type: ignore[attr-defined]


def test_expired_unknown_and_other_origin_or_purpose(make_store: Factory) -> None:
    clock = Clock()
    store = make_store(clock)
    short = store.issue(ORIGIN, ttl=60)  # type: ignore[attr-defined]
    login = store.issue(ORIGIN, purpose="login")  # type: ignore[attr-defined]
    other = store.issue("https://other.test")  # type: ignore[attr-defined]
    assert store.consume("ab" * 32, ORIGIN) == "unknown"  # type: ignore[attr-defined]
    assert store.consume("not hex", ORIGIN) == "unknown"  # type: ignore[attr-defined]
    assert store.consume(other, ORIGIN) == "unknown"  # type: ignore[attr-defined]
    assert store.consume(login, ORIGIN) == "unknown"  # type: ignore[attr-defined]  (purpose registration)
    assert store.consume(short, "not an origin") == "unknown"  # type: ignore[attr-defined]
    clock.advance(61)
    assert store.consume(short, ORIGIN) == "expired"  # type: ignore[attr-defined]
    # the refusals above burned nothing: each is still good where it belongs
    assert store.consume(login, ORIGIN, purpose="login") == "ok"  # type: ignore[attr-defined]
    assert store.consume(other, "https://OTHER.test:443") == "ok"  # type: ignore[attr-defined]


def test_a_used_nonce_stays_used_after_it_expires(make_store: Factory) -> None:
    clock = Clock()
    store = make_store(clock)
    nonce = store.issue(ORIGIN, ttl=10)  # type: ignore[attr-defined]
    assert store.consume(nonce, ORIGIN) == "ok"  # type: ignore[attr-defined]
    clock.advance(3600)
    assert store.consume(nonce, ORIGIN) == "used"  # type: ignore[attr-defined]


def _race(store: object, nonce: str, threads: int = 8) -> list[str]:
    """``threads`` threads released together, each consuming ``nonce`` once; their answers."""
    barrier = threading.Barrier(threads)
    answers: list[str] = []
    lock = threading.Lock()

    def consume() -> None:
        barrier.wait()
        answer = store.consume(nonce, ORIGIN)  # type: ignore[attr-defined]
        with lock:
            answers.append(answer)

    workers = [threading.Thread(target=consume) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(30)
    return answers


def test_concurrent_consumers_get_exactly_one_ok(make_store: Factory) -> None:
    store = make_store(Clock())
    for _ in range(3):
        nonce = store.issue(ORIGIN)  # type: ignore[attr-defined]
        assert sorted(_race(store, nonce)) == ["ok"] + ["used"] * 7


def test_bad_arguments_are_refused(make_store: Factory) -> None:
    store = make_store(Clock())
    with pytest.raises(OriginInvalidError):
        store.issue("https://portal.test/path")  # type: ignore[attr-defined]
    for ttl in (0, -1, float("nan"), float("inf"), True):
        with pytest.raises(InvalidInputError):
            store.issue(ORIGIN, ttl=ttl)  # type: ignore[attr-defined]
    with pytest.raises(InvalidInputError):
        store.issue(ORIGIN, purpose="")  # type: ignore[attr-defined]
    with pytest.raises(InvalidInputError):
        store.add("abc", ORIGIN)  # type: ignore[attr-defined]


def test_sql_store_purges_long_expired_nonces_and_keeps_the_rest(tmp_path: Path) -> None:
    clock = Clock()
    store = SqlNonceStore(f"sqlite:///{tmp_path / 'n.db'}", clock=clock)
    store.create_schema()
    store.create_schema()  # idempotent
    old = store.issue(ORIGIN, ttl=10)
    clock.advance(2 * 86400)
    fresh = store.issue(ORIGIN)
    assert store.purge() == 1
    assert store.consume(old, ORIGIN) == "unknown"
    assert store.consume(fresh, ORIGIN) == "ok"
    store.engine.dispose()


def test_sql_store_without_its_table_raises_a_retriable_error(tmp_path: Path) -> None:
    store = SqlNonceStore(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(NonceStoreError) as caught:
        store.issue(ORIGIN)
    assert caught.value.code == "nonce_store_failed" and caught.value.retriable
    assert "?" not in caught.value.message + caught.value.message_ru
    store.engine.dispose()


def test_the_table_joins_a_portals_metadata_and_memory_sqlite_is_shared() -> None:
    from sqlalchemy import MetaData

    metadata = MetaData()
    table = nonce_table(metadata)
    assert table is nonce_table(metadata) and table.name == "registration_nonces"
    assert [c.name for c in table.columns] == ["nonce", "origin", "purpose", "issued_at", "expires_at", "used_at"]
    store = SqlNonceStore("sqlite://")
    store.create_schema()
    nonce = store.issue(ORIGIN)
    result: list[str] = []
    thread = threading.Thread(target=lambda: result.append(store.consume(nonce, ORIGIN)))
    thread.start()
    thread.join(10)
    assert result == ["ok"]
