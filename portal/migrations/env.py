"""Alembic's environment for the portal's schema: online migrations only, on the connection the portal passes in
``config.attributes["connection"]`` (:func:`portal.db.upgrade`), or on an engine made from the configured URL
(``alembic -x url=... upgrade head`` from the command line)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from portal.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: object) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,  # type: ignore[arg-type]
                      render_as_batch=True)  # SQLite alters tables by copying them
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("no database URL: alembic -x url=sqlite:///portal.db upgrade head")
    engine = create_engine(url)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
