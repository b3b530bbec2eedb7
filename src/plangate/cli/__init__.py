"""The ``plangate`` command line."""

from __future__ import annotations

import typer

from plangate.cli import admins, catalog, commands
from plangate.cli import dev as dev_command

app = typer.Typer(help="plangate: billing and entitlements on top of Stripe.", no_args_is_help=True)
keys_app = typer.Typer(help="Server secret keys.", no_args_is_help=True)
catalog_app = typer.Typer(help="The catalog: what the app sells.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(catalog_app, name="catalog")
admins_app = typer.Typer(help="Operators: who signs in to the dashboard.", no_args_is_help=True)
app.add_typer(admins_app, name="admins")
admins_app.command("create")(admins.admins_create)

app.command()(commands.migrate)
app.command()(commands.serve)
app.command()(dev_command.dev)
app.command()(commands.worker)
app.command()(commands.reconcile)
app.command()(commands.sandbox)
keys_app.command("create")(commands.keys_create)
keys_app.command("list")(commands.keys_list)
keys_app.command("revoke")(commands.keys_revoke)
catalog_app.command("validate")(catalog.validate)
catalog_app.command("apply")(catalog.apply)
catalog_app.command("push")(catalog.push)
catalog_app.command("show")(catalog.show)
catalog_app.command("diff")(catalog.diff)


def main() -> None:
    app()


__all__ = ["app", "main"]
