"""Writes plangate_sdk/_sync/ from plangate_sdk/_async/: the synchronous client is the
asynchronous one with ``async``/``await`` taken out and the async names swapped for their sync
twins (httpx.AsyncClient -> httpx.Client, aclose -> close, asyncio.sleep -> time.sleep).

    python clients/python/scripts/generate_sync.py           # rewrite the generated files
    python clients/python/scripts/generate_sync.py --check   # exit 1 if one is stale
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "plangate_sdk"
SOURCE = PACKAGE / "_async"
TARGET = PACKAGE / "_sync"

# Applied in order to the whole text, code and docstrings alike, so the docs read right too.
REWRITES: list[tuple[str, str]] = [
    (r"\basync (def|with|for)\b", r"\1"),
    (r"\bawait ", ""),
    (r"\bAsync([A-Z]\w*)", r"\1"),  # AsyncClient, AsyncBaseTransport, AsyncCustomerHandle...
    (r"\baclose\b", "close"),
    (r"\b__aenter__\b", "__enter__"),
    (r"\b__aexit__\b", "__exit__"),
    (r"\basyncio\b", "time"),
    (r"\b_async\b", "_sync"),
]


def header(name: str) -> str:
    return (
        f"# Generated from plangate_sdk/_async/{name} by clients/python/scripts/generate_sync.py\n"
        "# (make generate): edit the async source, never this file.\n"
    )


def unasync(text: str) -> str:
    for pattern, replacement in REWRITES:
        text = re.sub(pattern, replacement, text)
    return text


def generated() -> dict[Path, str]:
    """Each file of ``_sync`` (but its hand-written ``__init__``) as generation makes it."""
    return {
        TARGET / source.name: header(source.name) + unasync(source.read_text())
        for source in sorted(SOURCE.glob("*.py"))
        if source.name != "__init__.py"
    }


def stale() -> list[Path]:
    """The generated files that differ from a fresh generation, or are missing or extra."""
    expected = generated()
    present = {path for path in TARGET.glob("*.py") if path.name != "__init__.py"}
    changed = [p for p, text in expected.items() if not p.exists() or p.read_text() != text]
    return sorted(changed + [p for p in present if p not in expected])


def main(argv: list[str]) -> int:
    if "--check" in argv:
        outdated = stale()
        for path in outdated:
            print(f"{path} is not what generate_sync.py makes: run make generate")
        return 1 if outdated else 0
    TARGET.mkdir(exist_ok=True)
    expected = generated()
    for path in TARGET.glob("*.py"):
        if path.name != "__init__.py" and path not in expected:
            path.unlink()
    for path, text in expected.items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
