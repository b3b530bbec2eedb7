"""A customer handle's methods are its client's, with the customer bound: one line per method
(``grant = bind_customer(Client.grant)``) instead of a second copy of every signature. The
bound method keeps the client method's parameters after ``customer_type, customer_id``, so
type checkers and editors see the same signature, minus the customer."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, Self, TypeVar, cast, overload

ClientT = TypeVar("ClientT")
P = ParamSpec("P")
R = TypeVar("R")


class CustomerHandleBase(Generic[ClientT]):
    def __init__(self, client: ClientT, customer_type: str, customer_id: str) -> None:
        self.client = client
        self.customer_type = customer_type
        self.customer_id = customer_id

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.customer_type}/{self.customer_id}>"


class bind_customer(Generic[ClientT, P, R]):  # noqa: N801 - used like a decorator
    """On a handle class: the client method ``method`` called with the handle's client and
    customer."""

    def __init__(self, method: Callable[Concatenate[ClientT, str, str, P], R]) -> None:
        self.method = method
        self.__doc__ = method.__doc__

    @overload
    def __get__(self, handle: None, owner: type[Any]) -> Self: ...

    @overload
    def __get__(
        self, handle: CustomerHandleBase[ClientT], owner: type[Any]
    ) -> Callable[P, R]: ...

    def __get__(
        self, handle: CustomerHandleBase[ClientT] | None, owner: type[Any]
    ) -> Self | Callable[P, R]:
        if handle is None:
            return self
        call = functools.partial(
            self.method, handle.client, handle.customer_type, handle.customer_id
        )
        return cast("Callable[P, R]", call)
