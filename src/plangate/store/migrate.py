"""Schema migrations (Alembic), run from code so the CLI and tests need no alembic.ini."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


class SchemaNotCurrent(Exception):
    """The database's schema is missing or not the one this plangate was built for. The
    message is one line that names the fix; ``code`` is stable (``schema_missing``,
    ``schema_behind``, ``schema_ahead``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@lru_cache(maxsize=1)
def _heads() -> frozenset[str]:
    # Reading the migration scripts costs milliseconds: once per process.
    return frozenset(ScriptDirectory(str(MIGRATIONS)).get_heads())


@lru_cache(maxsize=1)
def _known_revisions() -> frozenset[str]:
    return frozenset(rev.revision for rev in ScriptDirectory(str(MIGRATIONS)).walk_revisions())


def check_schema(conn: Connection) -> None:
    """Raises :class:`SchemaNotCurrent` unless the schema is at this plangate's head. One
    small query (Alembic's version table), cheap enough for a health check."""
    current = frozenset(MigrationContext.configure(conn).get_current_heads())
    if current == _heads():
        return
    if not current:
        raise SchemaNotCurrent(
            "schema_missing", "the database has no plangate schema: run `plangate migrate`"
        )
    if current - _known_revisions():
        raise SchemaNotCurrent(
            "schema_ahead",
            f"the database schema ({', '.join(sorted(current))}) is newer than this plangate: "
            "upgrade plangate",
        )
    raise SchemaNotCurrent(
        "schema_behind",
        f"the database schema ({', '.join(sorted(current))}) is behind this plangate "
        f"({', '.join(sorted(_heads()))}): run `plangate migrate`",
    )


def check_database_schema(engine: Engine) -> None:
    """:func:`check_schema` on a connection of ``engine``."""
    with engine.connect() as conn:
        check_schema(conn)
