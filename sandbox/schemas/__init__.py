"""JSON Schemas (draft 2020-12) for fixtures, requests and responses."""

from __future__ import annotations

import json
import logging
import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from referencing import Registry

# jsonschema is imported when a schema is first used, not with this module:
# its import is a tenth of the start-up time, and /status needs none of it.
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
    from referencing import Registry, Resource

    resources = [
        (f"{name}.json", Resource.from_contents(schema(name))) for name in names()
    ]
    return Registry().with_resources(resources)


@cache
def validator(name: str) -> Draft202012Validator:
    """The validator of one stored schema.

    The schema itself is not checked against the metaschema here: that took
    most of the start-up time. :func:`check_all` does it, in the test suite.
    """
    from jsonschema import Draft202012Validator

    return Draft202012Validator(
        schema(name),
        registry=registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def check_all() -> None:
    """Check every stored schema; a broken one is our bug, caught by the tests."""
    from jsonschema import Draft202012Validator

    for name in names():
        Draft202012Validator.check_schema(schema(name))


def check_refs() -> None:
    """The start-up check: every schema loads and every ``$ref`` resolves.

    Cheap (tens of milliseconds) where the metaschema check of
    :func:`check_all` takes most of a second, so it runs at every start; a
    broken schema stops the app there rather than answering 500 later.
    """
    resolvers = {name: registry().resolver(base_uri=f"{name}.json") for name in names()}
    for name, resolver in resolvers.items():
        if schema(name).get("$id") != f"{name}.json":
            raise ValueError(f"schema {name}.json: its $id must be {name}.json")
        for ref in _refs(schema(name)):
            try:
                resolver.lookup(ref)
            except Exception as exc:  # noqa: BLE001 - any failure is fatal
                raise ValueError(
                    f"schema {name}.json: $ref {ref!r} does not resolve ({exc})"
                ) from None


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def warm() -> None:
    """Check every schema against its metaschema, then run each request validator.

    Runs in the served worker's background, right after it starts answering:
    a broken schema is our bug, so it is logged and ends the process (exit 3
    makes gunicorn stop rather than respawn), never a client's 400 or 500.
    """
    from jsonschema.exceptions import SchemaError

    try:
        check_all()
    except SchemaError as exc:
        logging.getLogger("sandbox").critical(
            "broken JSON Schema, stopping: %s at %s",
            exc.message,
            json_path(exc.absolute_path),
        )
        os._exit(3)
    for name in names():
        if not name.startswith("response_"):
            validator(name).is_valid({})


def json_path(parts: Any) -> str:
    """``$.products[0].quantity`` from a jsonschema error path."""
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out
