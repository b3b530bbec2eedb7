"""Stripe's wire format: bracketed form decoding, errors, parameter coercion, lists, expand."""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

Obj = dict[str, Any]
Params = dict[str, Any]

API_VERSION = "2026-10-28.endive"
_ALPHABET = string.ascii_letters + string.digits
_SEGMENT = re.compile(r"\[([^\]]*)\]")


def new_id(prefix: str, length: int = 24) -> str:
    return f"{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(length))}"


class StripeError(Exception):
    """An error answered in Stripe's shape; the SDK picks its exception class from the status."""

    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        extra: Obj | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.extra = extra or {}
        # Response headers that go with this error (429's Stripe-Rate-Limited-Reason, ...).
        self.headers: dict[str, str] = {}

    def body(self) -> Obj:
        err: Obj = {"type": self.type, "message": self.message}
        if self.code:
            err["code"] = self.code
            err["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            err["param"] = self.param
        if self.decline_code:
            err["decline_code"] = self.decline_code
        err.update(self.extra)
        return {"error": err}


def invalid(message: str, param: str | None = None, code: str = "parameter_invalid") -> StripeError:
    return StripeError(400, "invalid_request_error", message, code=code, param=param)


def missing_param(param: str) -> StripeError:
    return invalid(f"Missing required param: {param}.", param, code="parameter_missing")


def no_such(kind: str, id_: str, param: str = "id") -> StripeError:
    return StripeError(
        404,
        "invalid_request_error",
        f"No such {kind}: '{id_}'",
        code="resource_missing",
        param=param,
    )


# --- form decoding -------------------------------------------------------------------------


def _split_key(key: str) -> list[str]:
    head, _, rest = key.partition("[")
    if not rest:
        return [head]
    return [head, *_SEGMENT.findall("[" + rest)]


def decode_form(pairs: Iterable[tuple[str, str]]) -> Params:
    """`a[b][0][c]=v` and `a[][c]=v` into nested dicts and lists (lists are always rebuilt
    from indices, so `expand[]=x` and `expand[0]=x` decode alike)."""
    root: Params = {}
    current: dict[str, int] = {}
    seen: dict[tuple[str, int], set[str]] = {}
    for key, value in pairs:
        segs = _split_key(key)
        resolved = [segs[0]]
        for j in range(1, len(segs)):
            seg = segs[j]
            if seg == "":
                # `[]` opens a new element when the rest of the key was already set on the
                # current one, so `items[][price]=a&items[][quantity]=1` is one element.
                prefix = "\0".join(resolved)
                rest = "\0".join(segs[j + 1 :])
                idx = current.get(prefix)
                if idx is None or rest == "" or rest in seen[(prefix, idx)]:
                    idx = 0 if idx is None else idx + 1
                    current[prefix] = idx
                    seen[(prefix, idx)] = set()
                seen[(prefix, idx)].add(rest)
                seg = str(idx)
            resolved.append(seg)
        node: Params = root
        for seg in resolved[:-1]:
            child = node.get(seg)
            if not isinstance(child, dict):
                child = {}
                node[seg] = child
            node = child
        node[resolved[-1]] = value
    decoded: Params = _listify(root, None)
    return decoded


def _listify(node: Any, key: str | None) -> Any:
    if not isinstance(node, dict):
        return node
    out = {k: _listify(v, k) for k, v in node.items()}
    # Metadata keys are free text, so a metadata dict with numeric keys stays a dict.
    if key != "metadata" and out and all(k.isdigit() for k in out):
        return [out[k] for k in sorted(out, key=int)]
    return out


# --- parameter coercion ----------------------------------------------------------------------


def get_str(params: Mapping[str, Any], name: str, *, required: bool = False,
            param: str | None = None) -> str | None:
    value = params.get(name)
    label = param or name
    if value is None or value == "":
        if required:
            raise missing_param(label)
        return None
    if not isinstance(value, str):
        raise invalid(f"Invalid string: {label}", label)
    return value


def get_int(params: Mapping[str, Any], name: str, *, required: bool = False,
            param: str | None = None, minimum: int | None = None) -> int | None:
    raw = get_str(params, name, required=required, param=param)
    if raw is None:
        return None
    label = param or name
    try:
        value = int(raw)
    except ValueError:
        raise invalid(f"Invalid integer: {raw}", label) from None
    if minimum is not None and value < minimum:
        raise invalid(f"Invalid {label}: must be at least {minimum}", label)
    return value


def get_bool(params: Mapping[str, Any], name: str, param: str | None = None) -> bool | None:
    raw = get_str(params, name, param=param)
    if raw is None:
        return None
    if raw in ("true", "false"):
        return raw == "true"
    raise invalid(f"Invalid boolean: {raw}", param or name)


def get_enum(params: Mapping[str, Any], name: str, allowed: Sequence[str], *,
             required: bool = False, param: str | None = None) -> str | None:
    value = get_str(params, name, required=required, param=param)
    if value is not None and value not in allowed:
        label = param or name
        raise invalid(
            f"Invalid {label}: must be one of {', '.join(allowed)}", label
        )
    return value


def get_dict(params: Mapping[str, Any], name: str, param: str | None = None) -> Params:
    value = params.get(name)
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid(f"Invalid object: {param or name}", param or name)
    return value


def get_list(params: Mapping[str, Any], name: str) -> list[Any]:
    value = params.get(name)
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):  # e.g. a metadata-like dict sent with odd keys
        return list(value.values())
    return [value]


def apply_metadata(target: Obj, params: Mapping[str, Any]) -> bool:
    """Stripe's metadata merge: keys are set, `key=` unsets, `metadata=` clears all."""
    if "metadata" not in params:
        return False
    value = params["metadata"]
    if value == "":
        target["metadata"] = {}
        return True
    if not isinstance(value, dict):
        raise invalid("Invalid metadata: must be an object", "metadata")
    merged = dict(target.get("metadata") or {})
    for k, v in value.items():
        if not isinstance(v, str):
            raise invalid(f"Invalid metadata[{k}]: must be a string", f"metadata[{k}]")
        if len(k) > 40:
            raise invalid("Metadata keys can be at most 40 characters.", f"metadata[{k}]")
        if v == "":
            merged.pop(k, None)
        else:
            merged[k] = v
    target["metadata"] = merged
    return True


# --- lists -------------------------------------------------------------------------------------


def paginate(items: Sequence[Obj], params: Mapping[str, Any], url: str) -> Obj:
    """A Stripe list page over `items` (already newest first)."""
    limit = get_int(params, "limit") or 10
    if not 1 <= limit <= 100:
        raise invalid("Invalid limit: must be between 1 and 100", "limit")
    after = get_str(params, "starting_after")
    before = get_str(params, "ending_before")
    ids = [o["id"] for o in items]
    if after is not None:
        if after not in ids:
            raise no_such("object", after, "starting_after")
        rest = list(items[ids.index(after) + 1 :])
        page, has_more = rest[:limit], len(rest) > limit
    elif before is not None:
        if before not in ids:
            raise no_such("object", before, "ending_before")
        head = list(items[: ids.index(before)])
        page, has_more = head[-limit:], len(head) > limit
    else:
        page, has_more = list(items[:limit]), len(items) > limit
    out: Obj = {"object": "list", "data": page, "has_more": has_more, "url": url}
    for i, name in enumerate(get_list(params, "include")):
        if name != "total_count":
            raise invalid(f"Invalid include[{i}]: must be total_count", f"include[{i}]")
        out["total_count"] = len(items)  # every match of the filters, not just this page
    return out


def list_object(data: list[Obj], url: str) -> Obj:
    return {"object": "list", "data": data, "has_more": False, "url": url}


# --- rendering and expansion -----------------------------------------------------------------

Resolver = Callable[[str], Obj | None]


def strip_private(value: Any) -> Any:
    """A deep copy without the sandbox's bookkeeping keys (those starting with `_`)."""
    if isinstance(value, dict):
        return {k: strip_private(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [strip_private(v) for v in value]
    return value


# Stripe expands at most four levels deep, a list's `data` counting as one
# (`data.payment_intent.customer.default_source` is the deepest on a list of charges).
MAX_EXPAND_DEPTH = 4


def check_expand_depth(paths: Iterable[Any]) -> None:
    """Refuses, before anything is done, an `expand` path deeper than Stripe allows."""
    for i, path in enumerate(paths):
        if len(str(path).split(".")) > MAX_EXPAND_DEPTH:
            raise invalid(f"You cannot expand more than {MAX_EXPAND_DEPTH} levels of a "
                          f"property. Property: {path}", f"expand[{i}]")


def expand(obj: Obj, paths: Iterable[str], resolve: Callable[[Obj, str], Any]) -> None:
    """Expand dotted paths in place; `resolve(parent, key)` gives the expanded value."""
    for path in paths:
        _expand_path(obj, path.split("."), resolve)


def _expand_path(node: Any, segs: list[str], resolve: Callable[[Obj, str], Any]) -> None:
    if isinstance(node, list):
        for item in node:
            _expand_path(item, segs, resolve)
        return
    if not isinstance(node, dict) or not segs:
        return
    key, rest = segs[0], segs[1:]
    if key == "data" and node.get("object") in ("list", "search_result"):
        _expand_path(node["data"], rest, resolve)
        return
    value = node.get(key)
    if isinstance(value, str) or key not in node:
        expanded = resolve(node, key)
        if expanded is None:
            raise cannot_expand(key)  # no such field, or a string that names no object
        node[key] = expanded
        value = expanded
    elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        # A list of ids (`invoice.discounts`): each one expands.
        items = [resolve({key: v}, key) for v in value]
        if any(item is None for item in items):
            raise cannot_expand(key)
        node[key] = value = items
    elif value is not None and not _expandable(value, rest):
        raise cannot_expand(key)
    if rest:
        _expand_path(value, rest, resolve)


def _expandable(value: Any, rest: list[str]) -> bool:
    """Whether a field already holding a value (not an id) can be named in an expand path:
    an object expanded by an earlier path, or one to walk through (`items.data.price`)."""
    if isinstance(value, list):
        return bool(rest)
    return isinstance(value, dict) and ("object" in value or bool(rest))


def cannot_expand(key: str) -> StripeError:
    return invalid(f"This property cannot be expanded ({key}).", "expand", code="")


def match_created(obj: Obj, params: Mapping[str, Any]) -> bool:
    """The `created` list filter: an exact timestamp or `created[gt|gte|lt|lte]`."""
    return match_range(int(obj.get("created", 0)), params, "created")


def match_range(value: int | None, params: Mapping[str, Any], name: str) -> bool:
    """A timestamp list filter such as `created` or `current_period_start`: an exact value or
    `name[gt|gte|lt|lte]`. An object without the value matches only when the filter is off."""
    spec = params.get(name)
    if spec is None or spec == "":
        return True
    if value is None:
        return False
    if isinstance(spec, str):
        return value == int(spec)
    ops = {"gt": value.__gt__, "gte": value.__ge__, "lt": value.__lt__, "lte": value.__le__}
    for op, bound in spec.items():
        if op not in ops:
            raise invalid(f"Invalid {name}[{op}]", f"{name}[{op}]")
        if not ops[op](int(bound)):
            return False
    return True
