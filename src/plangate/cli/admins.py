"""``plangate admins``: the operators who sign in to the dashboard."""

from __future__ import annotations

from typing import Annotated

import typer

from plangate.cli.common import command_settings, database, err, fail
from plangate.clock import SystemClock
from plangate.errors import PlangateError


def admins_create(
    email: str,
    role: Annotated[str, typer.Option(help="owner, support or viewer")] = "viewer",
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True,
            envvar="PLANGATE_ADMIN_PASSWORD", help="asked for when not given (12+ characters)",
        ),
    ] = "",
) -> None:
    """Make an operator account for the dashboard. Only the password's argon2 hash is kept."""
    from plangate.services.operators import create_operator

    db = database(command_settings())
    try:
        with db.write() as session:
            operator = create_operator(session, email, role, password, SystemClock().now())
    except PlangateError as exc:
        raise fail(f"{exc.code}: {exc.message}") from None
    err.print(f"operator {operator.email} ({operator.role}) created")
