"""The portal's storage on SQLite and on a real PostgreSQL (Debian's server, started by ``tests/postgres.py``):
the Alembic migrations bring an empty database to the schema the models map (and back down), the app migrates on
start, and the whole registration path -- nonces included -- works on both databases.

In CI (``CI=true``) a missing PostgreSQL is a failure; on a developer's machine the PostgreSQL half skips.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal import db
from portal.models import Base, Document, Membership, Organisation, User
from tests.conftest import require
from tests.portal.conftest import Portal, head_draft
from tests.postgres import postgres_available, start_postgres


@pytest.fixture(scope="module")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require(postgres_available(), "PostgreSQL server binaries (apt-get install postgresql) and the postgres user")
    url, stop = start_postgres(tmp_path_factory.mktemp("pg"))
    try:
        yield url
    finally:
        stop()


_databases = 0


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or a new database on the test PostgreSQL server."""
    global _databases
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'portal.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    _databases += 1
    name = f"portal_test_{_databases}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = server.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def columns(engine: sa.Engine) -> dict[str, set[str]]:
    inspector = sa.inspect(engine)
    return {t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()
            if t != "alembic_version"}


def test_migrations_from_empty_make_the_schema_the_models_map(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        assert db.current_revision(engine) is None
        db.upgrade(engine)
        assert db.current_revision(engine) == "0001_initial"
        made = columns(engine)
        mapped = {t.name: {c.name for c in t.columns} for t in Base.metadata.sorted_tables}
        assert made == mapped
        db.downgrade(engine, "base")
        assert columns(engine) == {}
        db.upgrade(engine)  # and up again
        assert columns(engine) == mapped
    finally:
        engine.dispose()


def test_the_models_round_trip(database_url: str) -> None:
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    sessions = db.session_factory(engine)
    now = datetime.now(UTC)
    try:
        with sessions.begin() as s:
            user = User(identity="snils:11223340100", full_name="Иванов Иван Иванович", created_at=now)
            s.add(user)
            s.flush()  # the foreign keys are enforced on both databases (SQLite: PRAGMA foreign_keys)
            user_id = user.id
            org = Organisation(kind="legal", ogrn="1127700000031", inn="7701000033", name="ООО «Ромашка-Тест»",
                               request={"type": "head-registration", "вложение": ["ё"]}, signed_request=b"\x30\x00",
                               registered_by=user_id, registered_at=now, updated_at=now)
            s.add(org)
            s.flush()
            s.add(Membership(user=user, organisation=org, roles=["admin", "dmdk"], status="active",
                             created_at=now))
            s.add(Document(organisation_id=org.id, doc_type="Устав", number="1", issued_on=date(2024, 1, 10),
                           filename="устав.pdf", content=b"\x00\xff" * 10, uploaded_by=user.id, uploaded_at=now))
        with sessions() as s:
            member = s.scalars(sa.select(Membership)).one()
            assert member.roles == ["admin", "dmdk"] and member.organisation.request["вложение"] == ["ё"]
            assert s.scalars(sa.select(Document)).one().content == b"\x00\xff" * 10
        with pytest.raises(sa.exc.IntegrityError), sessions.begin() as s:  # one ОГРН, one organisation
            s.add(Organisation(kind="legal", ogrn="1127700000031", inn="1", name="x", request={},
                               signed_request=b"", registered_by=user_id, registered_at=now, updated_at=now))
        with pytest.raises(sa.exc.IntegrityError), sessions.begin() as s:  # no organisation of a stranger
            s.add(Organisation(kind="legal", ogrn="1027700000000", inn="1", name="x", request={},
                               signed_request=b"", registered_by=user_id + 100, registered_at=now, updated_at=now))
    finally:
        engine.dispose()


def test_the_portal_registers_on_either_database(database_url: str, make_portal: Callable[..., Portal]) -> None:
    portal = make_portal(database_url)
    head = portal.person("head")
    head.login()
    signed = head.sign(head.prepare("head-registration", head_draft())["canonical"])
    assert head.submit(signed).status_code == 200
    again = head.submit(signed)
    assert again.status_code == 422 and [r["code"] for r in again.json()["reasons"]] == ["nonce_used"]
    engine = portal.app.state.engine
    with engine.connect() as conn:
        used = conn.execute(sa.text("SELECT count(*) FROM registration_nonces WHERE used_at IS NOT NULL")).scalar()
    assert used == 2  # the login challenge and the registration nonce


def test_a_second_start_on_a_migrated_database_changes_nothing(database_url: str,
                                                               make_portal: Callable[..., Portal]) -> None:
    first = make_portal(database_url)
    head = first.person("head")
    head.login()
    assert head.register("head-registration", head_draft()).status_code == 200
    first.close()
    second = make_portal(database_url)
    head_again = second.person("head")
    head_again.login()
    assert "1127700000031" in head_again.client.get("/organisation").text
