"""Rendering stored objects for the wire, with `expand`.

Ids expand to the object they name. Some fields exist only when expanded (Stripe calls them
includable: `invoice.payments`, `checkout.session.line_items`); modules register those in
`INCLUDABLE` under `(object type, field)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .wire import Obj, expand, strip_private

if TYPE_CHECKING:
    from .core import Sandbox

INCLUDABLE: dict[tuple[str, str], Callable[[Sandbox, Obj], Any]] = {}


def render(sb: Sandbox, result: Obj, paths: list[str]) -> Obj:
    out: Obj = strip_private(result)
    if not paths:
        return out

    def resolve(parent: Obj, key: str) -> Any:
        include = INCLUDABLE.get((str(parent.get("object")), key))
        if include is not None:
            stored = sb.store.find(str(parent.get("id")))
            return include(sb, stored if stored is not None else parent)
        value = parent.get(key)
        if isinstance(value, str):
            target = sb.store.find(value)
            if target is not None:
                return strip_private(target)
        return None

    # List endpoints take `data.`-prefixed paths, which `expand` walks into.
    expand(out, paths, resolve)
    return out
