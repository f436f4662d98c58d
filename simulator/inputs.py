"""What the service accepts from a client before the engine or the database sees it, and
how what is stored is made servable again.

Every value a client sends is stored (the config as sent, a profile's data) and served back
later, so it must be something PostgreSQL's jsonb can hold and a JSON response can carry:
strings of valid Unicode without NUL, numbers a 64-bit field can hold, bounded lengths
and nesting. Anything else is a 400 naming the path here, at the boundary,
rather than a 500 from the database at submit, or a job whose result can never be read.
"""

from __future__ import annotations

import math
from typing import Any

# A name (of a job, a player, a profile) is at most this long, as in the engine.
MAX_NAME_LENGTH = 100
# Free text the engine ignores but stores: long enough for a paragraph, not a payload.
MAX_TEXT_LENGTH = 2000
FREE_TEXT_FIELDS = frozenset({"description", "notes", "title"})
# Every other string in a config is a chart code, a rule ("3:2", "any"), a rank or a
# profile name: far shorter. The bound also keeps digit strings ("111...1") small enough
# that the engine's int() and float() of them cannot overflow.
MAX_STRING_LENGTH = 200
# The deepest real config (a player with an inline strategy whose parent is inline) is
# about 10 levels; 32 leaves room without letting a 10,000-deep document in.
MAX_DEPTH = 32
# Numbers beyond a signed 64-bit value mean nothing in a config (the seed is the largest
# field, below 2^63). The bound holds for floats too: jsonb keeps a number as a decimal
# and prints it without an exponent, so 1e20 is read back as the integer
# 100000000000000000000, and 1e308 as 309 digits the engine refuses as too large. Below
# 2^63 every float is read back as the same decimal number, an integer a 64-bit field holds
# when it has no fraction (the largest, 2^63 - 1024, as 9223372036854775000).
MAX_INTEGER = 2**63 - 1
TOO_LARGE = "a number too large (its size must be below 2^63)"

Problems = list[tuple[str, str]]


def _key_path(path: str, key: str) -> str:
    if key.isidentifier():
        return f"{path}.{key}" if path else key
    quoted = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'{path}["{quoted}"]'


def _string_problem(text: str, limit: int) -> str | None:
    if "\x00" in text:
        return "contains a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (a lone surrogate)"
    if len(text) > limit:
        return f"longer than {limit} characters"
    return None


def json_problems(value: Any, path: str = "", max_depth: int = MAX_DEPTH) -> Problems:
    """Every reason `value` (a parsed JSON document) cannot be stored and served back,
    as (path, reason) pairs like the engine's; empty when it can.

    Iterative, so a document nested deeper than Python's recursion limit is reported, not
    crashed on. The walk stops at the first depth problem of a branch.
    """
    problems: Problems = []
    stack: list[tuple[Any, str, int, int]] = [(value, path, 0, MAX_STRING_LENGTH)]
    while stack:
        item, at, depth, limit = stack.pop()
        shown = at or "(config)"
        if isinstance(item, dict):
            if depth >= max_depth:
                problems.append((shown, f"nested deeper than {max_depth} levels"))
                continue
            for key, child in item.items():
                key = str(key)
                reason = _string_problem(key, MAX_STRING_LENGTH)
                child_path = _key_path(at, key) if reason is None else at
                if reason is not None:
                    problems.append((shown, f"a field name {reason}"))
                    continue
                if key == "name":
                    child_limit = MAX_NAME_LENGTH
                elif key in FREE_TEXT_FIELDS:
                    child_limit = MAX_TEXT_LENGTH
                else:
                    child_limit = MAX_STRING_LENGTH
                stack.append((child, child_path, depth + 1, child_limit))
        elif isinstance(item, list):
            if depth >= max_depth:
                problems.append((shown, f"nested deeper than {max_depth} levels"))
                continue
            stack.extend(
                (child, f"{at}[{i}]", depth + 1, MAX_STRING_LENGTH) for i, child in enumerate(item)
            )
        elif isinstance(item, str):
            reason = _string_problem(item, limit)
            if reason is not None:
                problems.append((shown, reason))
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if abs(item) > MAX_INTEGER:
                problems.append((shown, TOO_LARGE))
        elif isinstance(item, float):
            if not math.isfinite(item):
                problems.append((shown, "not a finite number"))
            elif abs(item) > MAX_INTEGER:
                problems.append((shown, TOO_LARGE))
        else:
            problems.append((shown, f"not a JSON value ({type(item).__name__})"))
    # The walk is depth first from the end; report in document order like the engine.
    problems.reverse()
    return problems


def servable(value: Any) -> Any:
    """`value` as something a JSON response can always carry: lone surrogates and NUL
    replaced, non-finite numbers as null.

    The read path of rows stored before the boundary checks existed (or by anything that
    bypasses them): an old row must be served as best it can, never answered with a 500
    on every read.
    """
    if isinstance(value, dict):
        return {servable(str(k)): servable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [servable(v) for v in value]
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "\ufffd")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "replace").decode("utf-8")
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
