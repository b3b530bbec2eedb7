"""What every command shares: consoles, one-line failures, settings and the database.

A command that is given no explicit settings (no ``PLANGATE_DATABASE_URL`` in the
environment) while ``plangate dev`` runs in this directory uses the dev stack's effective
settings, which the dev stack writes to ``.plangate/dev.json`` while it runs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from plangate.settings import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from plangate.store.db import Database

out = Console()
err = Console(stderr=True)

DEV_DIR = Path(".plangate")
DEV_STATE = DEV_DIR / "dev.json"
# The settings a running dev stack hands to the commands of a second shell.
DEV_STATE_FIELDS = (
    "database_url",
    "base_url",
    "gateway",
    "stripe_api_key",
    "stripe_api_base",
    "stripe_webhook_secret",
    "webhook_allowed_networks",
    # The dev mail catcher: emails sent from a second shell's worker are caught too.
    "smtp_url",
)


def fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", soft_wrap=True, highlight=False)
    return typer.Exit(2)


def running_dev_settings() -> dict[str, Any] | None:
    """The settings of the dev stack running in this directory, if one runs."""
    try:
        state = json.loads(DEV_STATE.read_text())
        pid = int(state["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None  # left behind by a dev stack that was killed
    except PermissionError:
        pass
    return {name: state[name] for name in DEV_STATE_FIELDS if name in state}


def command_settings() -> Settings:
    """The settings of this command; a configuration mistake is one line and exit 2."""
    values: dict[str, Any] = {}
    if "PLANGATE_DATABASE_URL" not in os.environ:
        dev = running_dev_settings()
        if dev is not None:
            values = dev
            err.print(f"using the settings of the running `plangate dev` ({DEV_STATE})")
    try:
        return load_settings(**values)
    except ConfigError as exc:
        raise fail(f"configuration: {exc}") from None


def database(settings: Settings, *, check_schema: bool = True) -> Database:
    """The database, its schema checked first: a missing or old schema is one line that says
    to run `plangate migrate` (exit 2), not a traceback from the first query."""
    from sqlalchemy.exc import SQLAlchemyError

    from plangate.store.db import Database
    from plangate.store.migrate import SchemaNotCurrent, check_database_schema

    db = Database(settings.database_url, pool_size=2)
    if check_schema:
        try:
            check_database_schema(db.engine)
        except SchemaNotCurrent as exc:
            db.dispose()
            raise fail(str(exc)) from None
        except SQLAlchemyError as exc:
            db.dispose()
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise fail(f"cannot use the database {shown_url(settings)}: {reason}") from None
    return db


def shown_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)
