"""Stripe's search query language, the subset a billing integration uses:
`field:'value'` and `metadata['key']:'value'` clauses joined by AND (exact matches)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .wire import Obj, get_int, get_str, invalid

_CLAUSE = re.compile(
    r"""^\s*(?:metadata\[['"](?P<mkey>[^'"]+)['"]\]|(?P<field>[a-z_.]+))\s*:\s*"""
    r"""['"](?P<value>[^'"]*)['"]\s*$"""
)


def _matches(obj: Obj, clauses: list[tuple[str | None, str | None, str]]) -> bool:
    for mkey, field, value in clauses:
        if mkey is not None:
            actual: Any = (obj.get("metadata") or {}).get(mkey)
        else:
            actual = obj
            for part in (field or "").split("."):
                actual = actual.get(part) if isinstance(actual, dict) else None
        if actual is None or str(actual) != value:
            return False
    return True


def search_result(items: Sequence[Obj], params: Mapping[str, Any], url: str) -> Obj:
    query = get_str(params, "query", required=True) or ""
    clauses = []
    for part in re.split(r"\s+AND\s+", query.strip()):
        m = _CLAUSE.match(part)
        if not m:
            raise invalid(f"The sandbox cannot parse this search query: {part!r}", "query")
        clauses.append((m["mkey"], m["field"], m["value"]))
    found = [o for o in items if not o.get("deleted") and _matches(o, clauses)]
    limit = get_int(params, "limit") or 10
    start = int(get_str(params, "page") or 0)
    page = found[start:start + limit]
    more = start + limit < len(found)
    return {"object": "search_result", "data": page, "has_more": more,
            "next_page": str(start + limit) if more else None, "url": url,
            "total_count": len(found)}
