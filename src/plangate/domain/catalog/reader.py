"""Reading untrusted catalog input field by field, collecting problems instead of raising."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any, cast

from plangate.domain.catalog.model import Problem
from plangate.domain.intervals import Interval, IntervalError, parse_interval

__all__ = ["ID_PATTERN", "Reader", "join_path", "type_name"]

ID_PATTERN = re.compile(r"[a-z0-9_-]{1,64}")


def join_path(path: str, key: str | int) -> str:
    return f"{path}.{key}" if path else str(key)


def type_name(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string"}
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "a list"
    return names.get(type(value), type(value).__name__)


class Reader:
    """Reads raw values, recording a Problem instead of raising for each bad one."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, code: str, message: str) -> None:
        self.problems.append(Problem(path, code, message))

    def table(self, value: object, path: str) -> Mapping[str, Any] | None:
        if isinstance(value, Mapping):
            return cast(Mapping[str, Any], value)
        self.add(path, "field_type", f"expected a table, got {type_name(value)}")
        return None

    def fields(self, table: Mapping[str, Any], allowed: tuple[str, ...], path: str) -> None:
        for key in table:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), allowed, n=1)
                also = f"; did you mean {hint[0]!r}?" if hint else f"; known: {', '.join(allowed)}"
                self.add(join_path(path, key), "field_unknown", f"unknown field {key!r}{also}")

    def id(self, value: object, path: str, what: str) -> bool:
        if isinstance(value, str) and ID_PATTERN.fullmatch(value):
            return True
        self.add(
            path, "invalid_id", f"{what} id {value!r} must be 1-64 characters of a-z, 0-9, _ or -"
        )
        return False

    def string(self, table: Mapping[str, Any], key: str, path: str) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.add(
                join_path(path, key),
                "field_type",
                f"{key} must be a string, not {type_name(value)}",
            )
            return None
        if not value.strip():
            self.add(join_path(path, key), "value_invalid", f"{key} must not be empty")
            return None
        return value

    def boolean(self, table: Mapping[str, Any], key: str, path: str) -> bool:
        value = table.get(key, False)
        if isinstance(value, bool):
            return value
        self.add(join_path(path, key), "field_type", f"{key} must be true or false, not {value!r}")
        return False

    def integer(self, table: Mapping[str, Any], key: str, path: str) -> int | None:
        value = table.get(key)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        self.add(join_path(path, key), "field_type", f"{key} must be a whole number, not {value!r}")
        return None

    def choice(
        self, table: Mapping[str, Any], key: str, path: str, allowed: tuple[str, ...]
    ) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if value not in allowed:
            self.add(
                join_path(path, key),
                "value_invalid",
                f"{key} must be one of {', '.join(allowed)}, not {value!r}",
            )
            return None
        return cast(str, value)

    def id_list(self, table: Mapping[str, Any], key: str, path: str) -> list[tuple[str, str]]:
        """A list of ids as (path of the entry, id); duplicates are dropped."""
        value = table.get(key, [])
        if not isinstance(value, list | tuple):
            self.add(join_path(path, key), "field_type", f"{key} must be a list of ids")
            return []
        seen: dict[str, str] = {}
        for index, entry in enumerate(value):
            entry_path = join_path(join_path(path, key), index)
            if not isinstance(entry, str):
                self.add(entry_path, "field_type", f"expected an id string, got {type_name(entry)}")
            elif entry not in seen:
                seen[entry] = entry_path
        return [(entry_path, entry) for entry, entry_path in seen.items()]

    def interval(self, value: object, path: str, key: str) -> Interval | None:
        if not isinstance(value, str):
            self.add(path, "field_type", f'{key} must be a string such as "month"')
            return None
        try:
            return parse_interval(value)
        except IntervalError as error:
            self.add(path, error.code, error.message)
            return None
