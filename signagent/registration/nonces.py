"""The challenges a portal issues (DESIGN.md section 9 step 1): random nonces bound to the portal's origin and a
purpose, used once, expiring.

A portal's backend issues a nonce (:meth:`NonceStore.issue`: 256 random bits as 64 lowercase hex digits) for its
own origin, puts it in the page, and the user signs it -- inside a registration request (purpose
``registration``) or as the challenge of an authentication proof (purpose ``login``). The verifier then consumes
it (:meth:`NonceStore.consume`), which answers one of

* ``ok`` -- issued here for this origin and purpose, unused and unexpired; it is now used;
* ``used`` -- already consumed (a replay);
* ``expired`` -- its time to live is over;
* ``unknown`` -- never issued, issued for another origin or purpose, malformed, or purged long ago.

Consumption is atomic: of any number of concurrent calls for one nonce, exactly one gets ``ok``. The SQL store
does it with one conditional ``UPDATE ... WHERE nonce = :n AND used_at IS NULL AND expires_at > :now`` and its row
count (the database serialises the writers of a row); the memory store under a lock.

* :class:`SqlNonceStore` -- SQLAlchemy 2 Core on any database it speaks (SQLite, PostgreSQL through psycopg 3);
  table ``registration_nonces`` (:func:`nonce_table` adds it to a portal's own ``MetaData``, for its Alembic
  migrations); :meth:`SqlNonceStore.create_schema` creates it where no migration does.
* :class:`MemoryNonceStore` -- one process, nothing kept (the command line, tests).

Both take an injected ``clock`` (a callable returning an aware UTC datetime) so that tests can move time; both
normalise origins as the agent does (:func:`signagent.service.origins.normalize_origin`), so
``https://Portal.test:443`` and ``https://portal.test`` are one origin.

Exports: NonceStore, NonceStatus, SqlNonceStore, MemoryNonceStore, NonceStoreError, nonce_table, NONCE_TABLE,
DEFAULT_TTL, PURPOSES.
"""

from __future__ import annotations

import math
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from signagent.errors import InvalidInputError, SignAgentError
from signagent.service.origins import normalize_origin

__all__ = [
    "DEFAULT_TTL",
    "NONCE_TABLE",
    "PURPOSES",
    "MemoryNonceStore",
    "NonceStatus",
    "NonceStore",
    "NonceStoreError",
    "SqlNonceStore",
    "nonce_table",
]

NonceStatus = Literal["ok", "unknown", "used", "expired"]
Clock = Callable[[], datetime]

#: Seconds a nonce lives by default: long enough to fill a wizard's last step and type a PIN.
DEFAULT_TTL = 600.0
#: The purposes the verifier uses; a store accepts any short name.
PURPOSES = ("registration", "login")
NONCE_TABLE = "registration_nonces"
_NONCE = re.compile(r"^[0-9a-f]{64}$")
_MAX_PURPOSE = 32
_MAX_ORIGIN = 2048
#: How long after expiry a nonce is still remembered (and so told apart as "expired" or "used", not "unknown").
_REMEMBER = timedelta(days=1)


class NonceStoreError(SignAgentError):
    """The nonce store's database failed (unreachable, locked, no table): the check can be retried."""

    code = "nonce_store_failed"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive value (what SQLite gives back) is taken as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _checked_ttl(ttl: float) -> timedelta:
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not math.isfinite(ttl) or ttl <= 0 \
            or ttl > 366 * 86400:
        raise InvalidInputError(f"a nonce's time to live must be a positive number of seconds, not {ttl!r:.40}",
                                message_ru="время жизни nonce должно быть положительным числом секунд")
    return timedelta(seconds=float(ttl))


def _checked_purpose(purpose: str) -> str:
    if not isinstance(purpose, str) or not purpose or len(purpose) > _MAX_PURPOSE or not purpose.isascii():
        raise InvalidInputError(f"a nonce's purpose must be a short ASCII name, not {purpose!r:.40}",
                                message_ru="назначение nonce должно быть коротким именем из латинских букв")
    return purpose


def _key(nonce: object) -> str | None:
    """The nonce as stored (lowercase hex), or None when it cannot be one of ours."""
    if not isinstance(nonce, str):
        return None
    text = nonce.strip().lower()
    return text if _NONCE.match(text) else None


def _origin_or_none(origin: str) -> str | None:
    try:
        return normalize_origin(origin)
    except SignAgentError:
        return None


class NonceStore(Protocol):
    """Where a portal keeps the nonces it issued."""

    def issue(self, origin: str, *, ttl: float = DEFAULT_TTL, purpose: str = "registration") -> str:
        """A fresh nonce (64 lowercase hex digits: 256 random bits) for ``origin`` and ``purpose``, valid ``ttl``
        seconds."""
        ...

    def consume(self, nonce: str, origin: str, *, purpose: str = "registration") -> NonceStatus:
        """Use ``nonce`` once: ``ok``, or why not (``unknown``, ``used``, ``expired``). Atomic."""
        ...


@dataclass
class _Entry:
    origin: str
    purpose: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


class MemoryNonceStore:
    """A :class:`NonceStore` in this process's memory (the command line, tests): nothing survives the process.

    ``clock``: returns the current time (aware; default the system clock in UTC). Entries are forgotten a day
    after they expire."""

    def __init__(self, *, clock: Clock | None = None) -> None:
        self._clock = clock or _utc_now
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    def _now(self) -> datetime:
        return _utc(self._clock())

    def issue(self, origin: str, *, ttl: float = DEFAULT_TTL, purpose: str = "registration") -> str:
        """See :meth:`NonceStore.issue`. OriginInvalidError for a malformed origin."""
        nonce = secrets.token_hex(32)
        self.add(nonce, origin, ttl=ttl, purpose=purpose)
        return nonce

    def add(self, nonce: str, origin: str, *, ttl: float = DEFAULT_TTL, purpose: str = "registration") -> None:
        """Record ``nonce`` as issued for ``origin`` (one issued elsewhere: the command line's ``--nonce``).
        InvalidInputError unless it is 64 hex digits."""
        key = _key(nonce)
        if key is None:
            raise InvalidInputError("a nonce is 64 hexadecimal digits (256 bits)",
                                    message_ru="nonce -- это 64 шестнадцатеричные цифры (256 бит)", parameter="nonce")
        normal, life, purpose = normalize_origin(origin), _checked_ttl(ttl), _checked_purpose(purpose)
        now = self._now()
        with self._lock:
            self._forget(now)
            self._entries[key] = _Entry(normal, purpose, now, now + life)

    def _forget(self, now: datetime) -> None:
        stale = [k for k, e in self._entries.items() if e.expires_at + _REMEMBER < now]
        for k in stale:
            del self._entries[k]

    def consume(self, nonce: str, origin: str, *, purpose: str = "registration") -> NonceStatus:
        """See :meth:`NonceStore.consume`."""
        key, normal = _key(nonce), _origin_or_none(origin)
        if key is None or normal is None:
            return "unknown"
        now = self._now()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.origin != normal or entry.purpose != purpose:
                return "unknown"
            if entry.used_at is not None:
                return "used"
            if entry.expires_at <= now:
                return "expired"
            entry.used_at = now
            return "ok"


def nonce_table(metadata: Any = None) -> Any:
    """The ``registration_nonces`` table (SQLAlchemy Core) in ``metadata`` (a new MetaData when None): a portal
    adds it to its own metadata so that its migrations create it.

    Columns: ``nonce`` (64 hex digits, primary key), ``origin``, ``purpose``, ``issued_at``, ``expires_at``
    (indexed: purging), ``used_at`` (NULL until consumed)."""
    from sqlalchemy import Column, DateTime, MetaData, String, Table

    metadata = MetaData() if metadata is None else metadata
    if NONCE_TABLE in metadata.tables:
        return metadata.tables[NONCE_TABLE]
    return Table(
        NONCE_TABLE, metadata,
        Column("nonce", String(64), primary_key=True),
        Column("origin", String(_MAX_ORIGIN), nullable=False),
        Column("purpose", String(_MAX_PURPOSE), nullable=False),
        Column("issued_at", DateTime(timezone=True), nullable=False),
        Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
        Column("used_at", DateTime(timezone=True), nullable=True),
    )


def _engine_of(url_or_engine: Any) -> Any:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import Engine, make_url
    from sqlalchemy.pool import StaticPool

    if isinstance(url_or_engine, Engine):
        return url_or_engine
    url = make_url(url_or_engine)
    if url.drivername == "postgresql":  # DATABASE_URL=postgresql://...: the driver installed is psycopg 3
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        # one in-memory database shared by every thread, not one per connection
        return create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    return create_engine(url)


class SqlNonceStore:
    """A :class:`NonceStore` in a SQL database through SQLAlchemy 2 Core.

    ``url_or_engine``: a database URL (``sqlite:///path``, ``postgresql+psycopg://user@host/db``; plain
    ``postgresql://`` means psycopg 3) or an Engine the portal already has. ``clock`` as for
    :class:`MemoryNonceStore`. Database failures raise :class:`NonceStoreError` (retriable)."""

    def __init__(self, url_or_engine: Any, *, clock: Clock | None = None) -> None:
        self.engine = _engine_of(url_or_engine)
        self.table = nonce_table()
        self._clock = clock or _utc_now

    def _now(self) -> datetime:
        return _utc(self._clock())

    def _run(self, work: Callable[[Any], Any]) -> Any:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with self.engine.begin() as conn:
                return work(conn)
        except SQLAlchemyError as exc:
            raise NonceStoreError(error=type(exc).__name__) from exc

    def create_schema(self) -> None:
        """Create the table (and its index) unless it exists."""
        self._run(lambda conn: self.table.metadata.create_all(conn))

    def issue(self, origin: str, *, ttl: float = DEFAULT_TTL, purpose: str = "registration") -> str:
        """See :meth:`NonceStore.issue`. OriginInvalidError for a malformed origin."""
        nonce = secrets.token_hex(32)
        self.add(nonce, origin, ttl=ttl, purpose=purpose)
        return nonce

    def add(self, nonce: str, origin: str, *, ttl: float = DEFAULT_TTL, purpose: str = "registration") -> None:
        """Record ``nonce`` (64 hex digits) as issued for ``origin``: see :meth:`MemoryNonceStore.add`."""
        key = _key(nonce)
        if key is None:
            raise InvalidInputError("a nonce is 64 hexadecimal digits (256 bits)",
                                    message_ru="nonce -- это 64 шестнадцатеричные цифры (256 бит)", parameter="nonce")
        normal, life, purpose = normalize_origin(origin), _checked_ttl(ttl), _checked_purpose(purpose)
        now = self._now()
        self._run(lambda conn: conn.execute(self.table.insert().values(
            nonce=key, origin=normal, purpose=purpose, issued_at=now, expires_at=now + life, used_at=None)))

    def consume(self, nonce: str, origin: str, *, purpose: str = "registration") -> NonceStatus:
        """See :meth:`NonceStore.consume`: one conditional UPDATE decides; a second query only says why not."""
        from sqlalchemy import select, update

        key, normal = _key(nonce), _origin_or_none(origin)
        if key is None or normal is None:
            return "unknown"
        t = self.table
        now = self._now()

        def work(conn: Any) -> NonceStatus:
            done = conn.execute(update(t).where(
                t.c.nonce == key, t.c.origin == normal, t.c.purpose == purpose, t.c.used_at.is_(None),
                t.c.expires_at > now).values(used_at=now))
            if done.rowcount == 1:
                return "ok"
            row = conn.execute(select(t.c.origin, t.c.purpose, t.c.used_at).where(t.c.nonce == key)).first()
            if row is None or row.origin != normal or row.purpose != purpose:
                return "unknown"
            return "used" if row.used_at is not None else "expired"

        return self._run(work)  # type: ignore[no-any-return]

    def purge(self, *, older_than: float = _REMEMBER.total_seconds()) -> int:
        """Delete the nonces that expired more than ``older_than`` seconds ago; how many were deleted."""
        from sqlalchemy import delete

        cutoff = self._now() - timedelta(seconds=older_than)
        return self._run(  # type: ignore[no-any-return]
            lambda conn: conn.execute(delete(self.table).where(self.table.c.expires_at < cutoff)).rowcount)
