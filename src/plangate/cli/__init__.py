"""The ``plangate`` command line."""

from __future__ import annotations

import typer

from plangate.cli import admins, catalog, commands, events, webhooks
from plangate.cli import dev as dev_command
from plangate.cli import mail as mail_command
from plangate.cli import openapi as openapi_command

app = typer.Typer(help="plangate: billing and entitlements on top of Stripe.", no_args_is_help=True)
keys_app = typer.Typer(help="Server secret keys.", no_args_is_help=True)
catalog_app = typer.Typer(help="The catalog: what the app sells.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(catalog_app, name="catalog")
webhooks_app = typer.Typer(help="Outbound webhooks: endpoints and delivery.", no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")
emails_app = typer.Typer(help="Billing emails: the sender.", no_args_is_help=True)
app.add_typer(emails_app, name="emails")
admins_app = typer.Typer(help="Operators: who signs in to the dashboard.", no_args_is_help=True)
app.add_typer(admins_app, name="admins")
admins_app.command("create")(admins.admins_create)
events_app = typer.Typer(
    help="Stripe events as received: list, show, retry failed ones.", no_args_is_help=True
)
app.add_typer(events_app, name="events")
events_app.command("list")(events.list_events)
events_app.command("show")(events.show)
events_app.command("retry")(events.retry)

app.command()(commands.migrate)
app.command()(commands.serve)
app.command()(dev_command.dev)
app.command()(commands.worker)
app.command()(commands.reconcile)
app.command()(commands.sandbox)
app.command("mail-catcher")(mail_command.mail_catcher)
app.command()(openapi_command.openapi)
keys_app.command("create")(commands.keys_create)
keys_app.command("list")(commands.keys_list)
keys_app.command("revoke")(commands.keys_revoke)
catalog_app.command("validate")(catalog.validate)
catalog_app.command("apply")(catalog.apply)
catalog_app.command("push")(catalog.push)
catalog_app.command("show")(catalog.show)
catalog_app.command("diff")(catalog.diff)
webhooks_app.command("add")(webhooks.add)
webhooks_app.command("list")(webhooks.list_endpoints)
webhooks_app.command("disable")(webhooks.disable)
webhooks_app.command("enable")(webhooks.enable)
webhooks_app.command("rotate-secret")(webhooks.rotate_secret)
webhooks_app.command("deliver")(webhooks.deliver)
emails_app.command("send")(mail_command.emails_send)


def main() -> None:
    app()


__all__ = ["app", "main"]
