"""A request's JSON object, refused in a sentence when it is not one.

Python's JSON parser recurses once per nesting level: a body of a few thousand ``[``
raised RecursionError, a 500 (issue #17). The page never sends more than a few levels,
so anything deeper than ``MAX_DEPTH`` is refused before any code walks it.
"""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest

from device.errors import VigKitError

MAX_DEPTH = 32  # the page's deepest body (a case's consent) is 3 levels


def json_object(refusal: type[VigKitError]) -> dict[str, Any]:
    """The body as a JSON object, or ``refusal`` (a 400 error class) with a sentence."""
    try:
        body = request.get_json(force=True, silent=False, cache=True)
    except BadRequest:
        body = None
    except RecursionError:
        raise refusal(_too_deep()) from None
    if not isinstance(body, dict):
        raise refusal("the page sent something that is not a JSON object")
    if _depth_over(body, MAX_DEPTH):
        raise refusal(_too_deep())
    return body


def _too_deep() -> str:
    return f"the page sent data nested more than {MAX_DEPTH} levels deep"


def _depth_over(value: Any, limit: int) -> bool:
    """True if ``value`` nests deeper than ``limit`` (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, dict | list):
            stack.extend((child, depth + 1) for child in children)
    return False
