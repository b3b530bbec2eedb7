"""What Stripe accepts for each operation, read from the `stripe` package's typed parameters.

`stripe.params` holds a TypedDict per operation (`CustomerCreateParams`, ...), generated from
Stripe's OpenAPI description, nested objects, lists and free-keyed maps included. The sandbox
reads them once per process (cached) instead of keeping its own copy of Stripe's parameters.
"""

from __future__ import annotations

import sys
import types
import typing
from dataclasses import dataclass, field
from functools import cache
from typing import Any, ForwardRef, Literal, NotRequired, Required, Union, get_args, get_origin

import stripe.params
from stripe._request_options import RequestOptions
from stripe._stripe_object import UntypedStripeObject
from typing_extensions import is_typeddict

# Keys of the SDK's per-call options, which it never sends as parameters.
_OPTIONS = frozenset(RequestOptions.__annotations__)


@dataclass
class Shape:
    """One parameter's structure: an object (`fields`), a list (`item`), a free-keyed map
    (`free`, e.g. metadata), any mix of them (`Literal['']|Dict|...`), or else a scalar."""

    fields: dict[str, Shape] | None = None
    item: Shape | None = None
    free: bool = False
    scalar: bool = False

    def merge(self, other: Shape) -> None:
        if other.fields is not None:
            self.fields = {**(self.fields or {}), **other.fields}
        if other.item is not None:
            self.item = other.item if self.item is None else self.item
        self.free = self.free or other.free
        self.scalar = self.scalar or other.scalar


@dataclass
class _Reader:
    namespace: dict[str, Any]
    seen: dict[type, Shape] = field(default_factory=dict)

    def shape(self, tp: Any) -> Shape:
        if isinstance(tp, str):
            tp = eval(tp, self.namespace)  # noqa: S307 - the SDK's own annotation strings
        if isinstance(tp, ForwardRef):
            return self.shape(tp.__forward_arg__)
        origin = get_origin(tp)
        if origin in (NotRequired, Required):
            return self.shape(get_args(tp)[0])
        if origin is Union or isinstance(tp, types.UnionType):
            merged = Shape()
            for arg in get_args(tp):
                if get_origin(arg) is Literal and get_args(arg) == ("",):
                    continue  # the empty string that unsets: not a structure of its own
                merged.merge(self.shape(arg))
            return merged
        if origin is list:
            return Shape(item=self.shape(get_args(tp)[0]))
        if origin is dict or tp is UntypedStripeObject or origin is UntypedStripeObject:
            return Shape(free=True)
        if isinstance(tp, type) and is_typeddict(tp):
            return self.typed_dict(tp)
        return Shape(scalar=True)

    def typed_dict(self, cls: type) -> Shape:
        if cls in self.seen:
            return self.seen[cls]
        shape = Shape(fields={})
        self.seen[cls] = shape
        reader = _Reader({**vars(sys.modules[cls.__module__]), **vars(typing)}, self.seen)
        assert shape.fields is not None
        for name, annotation in cls.__annotations__.items():
            if name not in _OPTIONS:
                shape.fields[name] = reader.shape(annotation)
        return shape


@cache
def operation_shape(params_class: str) -> Shape:
    """The parameters of one operation, by its class's name under `stripe.params`
    (`CustomerCreateParams`, `checkout.SessionCreateParams`)."""
    owner: Any = stripe.params
    for part in params_class.split("."):
        owner = getattr(owner, part)
    cls: type = owner
    return _Reader({}).typed_dict(cls)


def has_path(shape: Shape, path: str) -> bool:
    """Whether a dotted path (list indices left out: `line_items.price`) exists in `shape`."""
    node: Shape | None = shape
    for seg in path.split("."):
        while node is not None and node.item is not None and node.fields is None:
            node = node.item
        if node is None or node.fields is None or seg not in node.fields:
            return False
        node = node.fields[seg]
    return True
