"""``plangate catalog``: validate, apply, push, show and diff catalogs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from plangate.cli.common import command_settings, database, err, fail, out
from plangate.clock import SystemClock
from plangate.domain.catalog import Catalog, CatalogInvalid, diff_catalogs, parse_catalog
from plangate.settings import Settings


def read_catalog(path: Path) -> tuple[Catalog, str | None]:
    """A catalog file, TOML or JSON (what `catalog show` prints), and its TOML source text
    (None for JSON). Every problem is listed, then exit 2."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise fail(f"{path} is not UTF-8 text") from None
    source: Any = text
    if path.suffix.lower() == ".json" or text.lstrip().startswith("{"):
        try:
            source = json.loads(text)
        except ValueError as exc:
            raise fail(f"{path} is not valid JSON: {exc}") from None
        if not isinstance(source, dict):
            raise fail(f"{path}: a JSON catalog is one object")
    try:
        return parse_catalog(source), (text if isinstance(source, str) else None)
    except CatalogInvalid as exc:
        err.print(f"[bold red]{path}: {len(exc.problems)} problem(s); nothing was applied[/]")
        for problem in exc.problems:
            err.print(f"  {problem.path or '<file>'}: [yellow]{problem.code}[/] {problem.message}")
        raise typer.Exit(2) from None


def _active(current: Settings) -> Catalog:
    from plangate.services.entitlements.catalog import CatalogCache

    db = database(current)
    try:
        with db.read() as session:
            return CatalogCache().active(session)
    finally:
        db.dispose()


def validate(file: Path) -> None:
    """Check a catalog file (TOML, or JSON as `catalog show` prints it); list every problem."""
    catalog, _ = read_catalog(file)
    out.print(
        f"[green]valid[/]: {len(catalog.products)} products, {len(catalog.features)} features, "
        f"{len(catalog.items)} items, {len(catalog.lines)} lines"
        + (
            f", {len(catalog.coupons)} coupons, {len(catalog.promotion_codes)} promotion codes"
            if catalog.coupons
            else ""
        )
        + f" (version {catalog.version})"
    )


def apply(file: Path) -> None:
    """Make a catalog file the active catalog (pushed to Stripe first on the stripe gateway)."""
    from plangate.services.entitlements import catalog as catalog_service

    catalog, text = read_catalog(file)
    current = command_settings()
    db = database(current)
    if current.gateway == "stripe":
        # Stripe first: a catalog must not become active before its prices can be sold.
        push_to_stripe(current, catalog)
    with db.write() as session:
        applied = catalog_service.apply_catalog(
            session, catalog, SystemClock().now(), source_text=text
        )
    db.dispose()
    if applied.created:
        out.print(f"applied new catalog version {applied.version}")
    elif applied.activated:
        out.print(f"catalog version {applied.version} is active again")
    else:
        out.print(f"catalog version {applied.version} is already active; nothing changed")


def push_to_stripe(current: Settings, catalog: Catalog) -> None:
    import stripe

    from plangate.gateways.stripe_client import make_stripe_client
    from plangate.services.stripe_sync.catalog_push import push_catalog

    try:
        client = make_stripe_client(current)
    except ValueError as exc:
        raise fail(str(exc)) from None
    with out.status("pushing the catalog to Stripe…") as status:

        def progress(message: str) -> None:
            status.update(message)
            out.print(f"  {message}")

        try:
            report = push_catalog(client, catalog, progress)
        except stripe.StripeError as exc:
            raise fail(f"Stripe refused the push: {exc.user_message or exc}") from None
    if report.changes:
        out.print(f"pushed to Stripe: {report.changes} change(s), {report.unchanged} unchanged")
    else:
        out.print(f"Stripe already matches the catalog ({report.unchanged} objects checked)")


def push(
    file: Annotated[Path | None, typer.Argument(help="a file; else the active catalog")] = None,
) -> None:
    """Create or update Stripe's products, prices, portal configurations, coupons and
    promotion codes to match the catalog (idempotent)."""
    current = command_settings()
    catalog = read_catalog(file)[0] if file is not None else _active(current)
    push_to_stripe(current, catalog)


def show(
    file: Annotated[
        Path | None, typer.Argument(help="a file; default: the active catalog")
    ] = None,
) -> None:
    """Print a catalog (a file, or the active one) as JSON."""
    catalog = read_catalog(file)[0] if file is not None else _active(command_settings())
    out.print_json(json.dumps(catalog.to_dict()))


def diff(file: Path) -> None:
    """What applying FILE would change compared with the active catalog."""
    new, _ = read_catalog(file)
    changes = diff_catalogs(_active(command_settings()), new)
    if not changes:
        out.print("no changes")
    for change in changes:
        out.print(str(change))
