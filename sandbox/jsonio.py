"""JSON in and out: Decimal amounts, and parse errors that say where."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import simplejson

from sandbox.errors import ApiError, BadRequest

# One encoder for every body, built once. Without namedtuple_as_object the C
# encoder skips an ``_asdict`` lookup on every value, which halves a dump;
# the sandbox renders no namedtuples.
_ENCODER = simplejson.JSONEncoder(
    use_decimal=True, ensure_ascii=False, namedtuple_as_object=False
)


def frozen(value: Any) -> Any:
    """``value`` encoded once, to be embedded as it is in every later answer.

    For the large parts that never change (a merchant's legal info): the
    encoder copies the text instead of walking the structure again.
    """
    return simplejson.RawJSON(_ENCODER.encode(value))


def dumps(value: Any) -> str:
    """JSON text; a Decimal is written as a number with its own digits."""
    return _ENCODER.encode(value)


def _trailing_comma(text: str, pos: int) -> int | None:
    """The position of a comma that stands right before ``]`` or ``}``."""
    if pos >= len(text) or text[pos] not in "]}":
        return None
    back = pos - 1
    while back >= 0 and text[back] in " \t\r\n":
        back -= 1
    return back if back >= 0 and text[back] == "," else None


def _line_column(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def loads(raw: bytes) -> Any:
    """Parse a request body; numbers with decimals become Decimal."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(
            f"The body is not valid UTF-8 (byte {exc.start}).",
            [{"path": "$", "message": "the body must be UTF-8 encoded JSON"}],
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise BadRequest(
            "The request body is empty; send a JSON object.",
            [{"path": "$", "message": "a JSON object is required"}],
        )
    try:
        value = json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise _parse_error(text, exc) from None
    except ValueError as exc:
        raise BadRequest(
            f"The body is not valid JSON: {exc}.",
            [{"path": "$", "message": str(exc)}],
        ) from None
    except RecursionError:
        raise BadRequest(
            "The body is nested too deeply.",
            [{"path": "$", "message": "nesting too deep"}],
        ) from None
    if "\\u" in text and _LONE_SURROGATE.search(text):
        _refuse_lone_surrogates(value)
    return value


# A \uD800-\uDFFF escape: JSON allows it only as half of a pair.
_LONE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _refuse_lone_surrogates(value: Any, path: str = "$") -> None:
    """A lone surrogate cannot be stored or answered as UTF-8: 400, not 500."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadRequest(
                f"{path} holds a lone UTF-16 surrogate escape, which is not text.",
                [{"path": path, "message": "lone surrogate (\\uD800-\\uDFFF)"}],
            ) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_lone_surrogates(key, path)
            _refuse_lone_surrogates(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_lone_surrogates(item, f"{path}[{index}]")


def _no_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not valid JSON", name, 0)


def _parse_error(text: str, exc: json.JSONDecodeError) -> ApiError:
    comma = _trailing_comma(text, exc.pos)
    if comma is not None:
        line, column = _line_column(text, comma)
        closing = text[exc.pos]
        detail = (
            f"trailing comma at line {line}, column {column}, before '{closing}'; "
            "JSON does not allow a comma after the last item"
        )
    else:
        line, column = exc.lineno, exc.colno
        detail = f"{exc.msg} at line {line}, column {column}"
    return BadRequest(
        f"The body is not valid JSON: {detail}.",
        [{"path": "$", "message": detail}],
        line=line,
        column=column,
    )
