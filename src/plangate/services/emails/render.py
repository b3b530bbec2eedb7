"""The email templates: Jinja2, HTML autoescaped, a plain-text part beside each HTML part.

Each kind has ``<kind>.subject``, ``<kind>.txt`` and ``<kind>.html``; a directory named in
``PLANGATE_EMAIL_TEMPLATES_DIR`` replaces any of them (or the layouts) by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, Undefined

BUILT_IN = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=8)
def environment(templates_dir: str = "") -> Environment:
    loaders = [FileSystemLoader(templates_dir)] if templates_dir else []
    loaders.append(FileSystemLoader(str(BUILT_IN)))
    return Environment(
        loader=ChoiceLoader(loaders),
        # Every value in an HTML part is escaped; the text parts and the subject are not HTML.
        autoescape=lambda name: bool(name and name.endswith(".html")),
        undefined=Undefined if templates_dir else StrictUndefined,
        keep_trailing_newline=False,
    )


def render(kind: str, context: dict[str, Any], templates_dir: str = "") -> Rendered:
    env = environment(templates_dir)
    subject = env.get_template(f"{kind}.subject").render(context)
    return Rendered(
        subject=" ".join(subject.split())[:300],
        text=env.get_template(f"{kind}.txt").render(context).strip() + "\n",
        html=env.get_template(f"{kind}.html").render(context),
    )
