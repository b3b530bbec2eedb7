"""Refusing what the sandbox would otherwise ignore.

Each route names its operation's class in `stripe.params` and the parameters its handler
implements (dotted, list indices left out: `line_items.price_data.product`; a path covers
everything under it). A request is checked before its handler runs:

- a parameter Stripe does not know: Stripe's 400 `parameter_unknown`, "Received unknown
  parameter: line_items[0][foo]";
- a parameter Stripe knows that the sandbox does not implement: 400
  `parameter_not_implemented`, naming it, so nothing is silently ignored.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .param_shapes import Shape, has_path, operation_shape
from .wire import Params, StripeError, invalid

# Parameters every operation implements where Stripe has them (`expand` is checked while
# rendering).
ALWAYS = frozenset({"expand"})
# Accepted on every list (an operation with `starting_after`) though the SDK's typed
# parameters leave it out: `include[]=total_count`, which `wire.paginate` implements.
LIST_EXTRAS = frozenset({"include"})
NOT_IMPLEMENTED = "parameter_not_implemented"


@dataclass(frozen=True)
class Operation:
    # None for a route Stripe's SDK has no operation for: it takes `expand` only.
    params_class: str | None
    implements: frozenset[str]

    def shape(self) -> Shape:
        if self.params_class is None:
            return Shape(fields={"expand": Shape(item=Shape(scalar=True))})
        return operation_shape(self.params_class)

    def undeclared(self) -> list[str]:
        """Implemented paths the operation's Stripe parameters do not have (a typo)."""
        shape = self.shape()
        return sorted(p for p in self.implements if not has_path(shape, p))


def check_params(op: Operation, params: Params) -> None:
    shape = op.shape()
    unknown: list[str] = []
    leaves: list[tuple[str, str]] = []
    is_list = "starting_after" in (shape.fields or {})
    for name, value in params.items():
        if is_list and name in LIST_EXTRAS:
            continue
        _walk(shape, name, value, name, name, unknown, leaves)
    if unknown:
        noun = "parameter" if len(unknown) == 1 else "parameters"
        raise invalid(f"Received unknown {noun}: {', '.join(unknown)}", unknown[0],
                      code="parameter_unknown")
    for dotted, shown in leaves:
        if not _implemented(op, dotted):
            raise not_implemented(shown)


def not_implemented(param: str) -> StripeError:
    return invalid(f"The sandbox does not implement the parameter {param}, which Stripe "
                   "accepts here; the request was not applied.", param, code=NOT_IMPLEMENTED)


def _implemented(op: Operation, dotted: str) -> bool:
    if any(prefix in op.implements or prefix in ALWAYS for prefix in _prefixes(dotted)):
        return True
    # An empty object or list (`features=`) where the handler implements some of its fields.
    return any(path.startswith(dotted + ".") for path in op.implements)


def _prefixes(dotted: str) -> Iterator[str]:
    parts = dotted.split(".")
    for i in range(1, len(parts) + 1):
        yield ".".join(parts[:i])


def _walk(parent: Shape, name: str, value: Any, dotted: str, shown: str,
          unknown: list[str], leaves: list[tuple[str, str]]) -> None:
    """Check `name` against its parent's fields, then what is under it."""
    fields = parent.fields or {}
    if name not in fields:
        unknown.append(shown)
        return
    _walk_value(fields[name], value, dotted, shown, unknown, leaves)


def _walk_value(shape: Shape, value: Any, dotted: str, shown: str,
                unknown: list[str], leaves: list[tuple[str, str]]) -> None:
    if shape.free:
        leaves.append((dotted, shown))
        return
    if isinstance(value, list) and shape.item is not None:
        for i, element in enumerate(value):
            _walk_value(shape.item, element, dotted, f"{shown}[{i}]", unknown, leaves)
        return
    if isinstance(value, dict) and value:
        for key, inner in value.items():
            _walk(shape, key, inner, f"{dotted}.{key}", f"{shown}[{key}]", unknown, leaves)
        return
    leaves.append((dotted, shown))
