"""Every response the suite receives, checked against the OpenAPI document.

The check is keyed by method, URL rule and status: the operation must be in
:data:`sandbox.openapi.OPERATIONS`, the status among those it declares, the
media type the declared one and the body valid under the declared schema. An
unknown endpoint or status fails the test; nothing passes silently.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map

from sandbox import openapi

DOC_URI = "urn:shopping-sandbox:openapi"


@cache
def _registry() -> Registry:
    doc = openapi.document()
    return Registry().with_resource(
        DOC_URI, Resource.from_contents(doc, default_specification=DRAFT202012)
    )


@cache
def _validator(component: str) -> Draft202012Validator:
    return Draft202012Validator(
        {"$ref": f"{DOC_URI}#/components/schemas/{component}"}, registry=_registry()
    )


def _path(url: str) -> str:
    """The path the sandbox routes: no host, no query, no trailing slash."""
    path = urlsplit(url).path or "/"
    return path.rstrip("/") or "/"


def check(
    url_map: Map,
    method: str,
    url: str,
    status: int,
    mimetype: str,
    text: str,
    headers: Any,
) -> None:
    """Fail the running test unless this answer is what the document declares."""
    method = method.upper()
    path = _path(url)
    where = f"{method} {path} -> {status}"
    adapter = url_map.bind("localhost")
    if method == "OPTIONS" and status == 204:
        assert "Allow" in headers, f"{where}: a preflight answers Allow"
        return
    try:
        rule, _ = adapter.match(
            path, method="GET" if method == "HEAD" else method, return_rule=True
        )
    except NotFound:
        return _check_error(where, 404, status, mimetype, text)
    except MethodNotAllowed:
        assert "Allow" in headers, f"{where}: a 405 lists the Allow-ed methods"
        return _check_error(where, 405, status, mimetype, text)
    op = openapi.operation("GET" if method == "HEAD" else method, rule.rule)
    if op is None:
        pytest.fail(
            f"{where}: {method} {rule.rule} is not in sandbox.openapi "
            "OPERATIONS (declare it, with its schemas)"
        )
    declared = op.statuses()
    if status not in declared:
        pytest.fail(
            f"{where}: status {status} is not declared for {method} "
            f"{rule.rule} (declared: {sorted(declared)}); body {text[:300]}"
        )
    target = declared[status]
    expected = openapi.media_type(op, status)
    if method == "HEAD" or expected is None:
        return
    if (
        mimetype == "application/json"
        and expected in (openapi.HTML, openapi.PDF)
        and status >= 400
    ):
        return _check_error(where, status, status, mimetype, text)
    assert mimetype == expected, f"{where}: media type {mimetype}, not {expected}"
    if expected in (openapi.HTML, openapi.PDF):
        return
    _validate(where, str(target), text)


def _check_error(
    where: str, expected: int, status: int, mimetype: str, text: str
) -> None:
    assert status == expected, f"{where}: expected {expected}"
    assert mimetype == "application/json", f"{where}: an error is JSON ({mimetype})"
    _validate(where, f"error_{status}", text)


def _validate(where: str, component: str, text: str) -> None:
    try:
        body = json.loads(text, parse_float=Decimal)
    except ValueError:
        pytest.fail(f"{where}: the body is not JSON: {text[:200]!r}")
    problems = sorted(
        _validator(component).iter_errors(_plain(body)),
        key=lambda e: list(e.absolute_path),
    )
    if problems:
        listed = "\n".join(
            f"  {'/'.join(map(str, p.absolute_path)) or '$'}: {p.message[:200]}"
            for p in problems[:10]
        )
        pytest.fail(f"{where}: the body breaks schema {component}:\n{listed}")


def _plain(value: Any) -> Any:
    """Decimals as floats, for the JSON Schema ``number`` checks only."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
