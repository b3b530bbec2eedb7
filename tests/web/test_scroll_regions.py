"""A table wide enough to scroll sideways must be reachable from the keyboard: whether it
scrolls depends on the fonts and the window, so every scrolling wrapper of the dashboard is a
named, focusable region whatever its content (axe's `scrollable-region-focusable`)."""

from __future__ import annotations

import re
from pathlib import Path

import plangate.web

TEMPLATES = Path(plangate.web.__file__).resolve().parent / "templates"
SCROLLER = re.compile(r'<div\b[^>]*\bclass="scroll"[^>]*>')


def test_every_scrolling_wrapper_is_a_named_focusable_region() -> None:
    found = 0
    for template in sorted(TEMPLATES.rglob("*.html")):
        for tag in SCROLLER.findall(template.read_text()):
            found += 1
            assert 'tabindex="0"' in tag and 'role="region"' in tag, (template.name, tag)
            assert re.search(r'aria-label(ledby)?="[^"]+"', tag), (template.name, tag)
    assert found >= 10
