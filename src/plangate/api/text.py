"""Text neither database holds the same way: NUL (PostgreSQL refuses it in text, SQLite
stores it) and unpaired UTF-16 surrogates (not encodable as UTF-8). The API refuses both,
wherever they are, with one 400, so the two databases behave alike."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# Deeper JSON than this is no request plangate defines; refusing it early keeps every walker
# (and the databases' JSON types) far from their recursion limits.
MAX_JSON_DEPTH = 32
UNSAFE_TEXT_MESSAGE = "must not contain NUL (U+0000) or unpaired surrogate characters"
_UNSAFE_TEXT = re.compile("[\x00\ud800-\udfff]")


def has_unsafe_text(text: str) -> bool:
    return _UNSAFE_TEXT.search(text) is not None


def unsafe_text_path(value: Any, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Where in a parsed JSON value a string (or a key) holds NUL or a lone surrogate, as a
    dotted path ("" for the value itself), or None if none does. Deeper nesting than
    ``max_depth`` counts as unsafe too. Iterative, so no input can exhaust the stack."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        current, path, depth = stack.pop()
        if isinstance(current, str):
            if has_unsafe_text(current):
                return path
        elif isinstance(current, (dict, list)):
            if depth >= max_depth:
                return path
            items: Iterable[tuple[Any, Any]] = (
                current.items() if isinstance(current, dict) else enumerate(current)
            )
            for key, child in items:
                child_path = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and has_unsafe_text(key):
                    return child_path
                stack.append((child, child_path, depth + 1))
    return None
