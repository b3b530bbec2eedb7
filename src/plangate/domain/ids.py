"""The rule for the app's own ids (customer, user and team ids): 1 to 255 characters, none of
them a control character (C0, DEL, C1) or a surrogate. One regular expression, so the API
document states exactly the rule the API applies."""

from __future__ import annotations

import re
from typing import Any, TypeGuard

MAX_ID_LENGTH = 255
# JSON Schema's pattern dialect and Python's agree on this one.
# (Surrogates, also refused, cannot reach the API: they have no UTF-8 encoding.)
ID_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
_ID = re.compile("[^\x00-\x1f\x7f-\x9f\ud800-\udfff]{1,255}")


def is_valid_id(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and _ID.fullmatch(value) is not None
