"""``plangate openapi``: the API's OpenAPI document, as the server serves it at /openapi.json,
without a database or a running server. The TypeScript client's types are generated from it."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

import typer


def openapi(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write to this file, not stdout")
    ] = None,
) -> None:
    """Print the OpenAPI document of plangate's API."""
    from plangate.api.app import create_app
    from plangate.settings import Settings

    # Building the app opens no connection; the database path only has to be well-formed.
    with tempfile.TemporaryDirectory() as unused:
        settings = Settings(database_url=f"sqlite:///{unused}/plangate.db", gateway="test")
        document = create_app(settings).openapi()
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
