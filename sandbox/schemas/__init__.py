"""JSON Schemas (draft 2020-12) for fixtures, requests and responses."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

HERE = Path(__file__).parent


@cache
def schema(name: str) -> dict[str, Any]:
    """The schema stored as ``<name>.json`` beside this module."""
    with open(HERE / f"{name}.json", encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


def names() -> list[str]:
    return sorted(path.stem for path in HERE.glob("*.json"))


@cache
def registry() -> Registry:
    """Every stored schema by its ``$id``, so that they can refer to each other."""
    resources = [(f"{name}.json", Resource.from_contents(schema(name)))
                 for name in names()]
    return Registry().with_resources(resources)


@cache
def validator(name: str) -> Draft202012Validator:
    """A checked validator for one stored schema; a broken schema raises."""
    body = schema(name)
    Draft202012Validator.check_schema(body)
    return Draft202012Validator(
        body, registry=registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def check_all() -> None:
    """Check every stored schema; a broken one is our bug, fatal at start."""
    for name in names():
        validator(name)


def json_path(parts: Any) -> str:
    """``$.products[0].quantity`` from a jsonschema error path."""
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out
