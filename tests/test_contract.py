"""The OpenAPI document and the schemas it is built from."""

from __future__ import annotations

import json

import pytest
from _pytest.outcomes import Failed
from openapi_spec_validator import validate

from sandbox import openapi, schemas
from tests import contract


def test_served_document_is_valid_openapi_3_1(api):
    answer = api.get("/_sandbox/openapi.json", auth=None)
    assert answer.status == 200
    doc = json.loads(answer.text)
    validate(doc)
    assert doc["openapi"].startswith("3.1")
    assert doc["servers"] == [{"url": "http://localhost"}]


def test_every_url_rule_and_method_is_declared(app):
    routed = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    declared = {(op.method, op.rule) for op in openapi.OPERATIONS}
    assert routed - declared == set(), "routes missing from sandbox.openapi"
    assert declared - routed == set(), "declared operations with no route"


def test_every_error_type_and_header_is_in_the_document():
    doc = openapi.document()
    text = json.dumps(doc)
    from sandbox import errors

    for code in errors.ERRORS:
        assert f'"{code}"' in text, code
    for header in (
        "Sandbox-Session",
        "Sandbox-Force",
        "Cognito-Token",
        "Order-Token",
        "Sandbox-Admin-Token",
    ):
        assert f'"{header}"' in text, header
    # Authorization is a security scheme: OpenAPI ignores it as a parameter.
    assert doc["components"]["securitySchemes"]["basic"]["scheme"] == "basic"


def test_every_stored_schema_is_valid_draft_2020_12():
    schemas.check_all()
    schemas.check_refs()


def test_a_broken_schema_stops_the_start(monkeypatch, make_app):
    broken = dict(
        schemas.schema("payment"),
        properties={"outcome": {"$ref": "common.json#/$defs/no_such_definition"}},
    )
    stored = schemas.schema
    monkeypatch.setattr(
        schemas, "schema", lambda name: broken if name == "payment" else stored(name)
    )
    monkeypatch.setattr(schemas, "registry", schemas.registry.__wrapped__)
    with pytest.raises(ValueError, match="does not resolve"):
        make_app()


@pytest.mark.parametrize(
    "method, url, status, mimetype, text, problem",
    [
        (
            "GET",
            "/orders/x",
            200,
            "application/hal+json",
            '{"uid": 1}',
            "breaks schema",
        ),
        ("GET", "/orders/x", 418, "application/json", "{}", "not declared"),
        ("GET", "/status", 200, "text/html", "<html>", "media type"),
        ("GET", "/nowhere", 404, "text/html", "<html>", "an error is JSON"),
        (
            "GET",
            "/orders",
            400,
            "application/json",
            '{"type": "NOPE", "message": "x"}',
            "breaks schema",
        ),
    ],
)
def test_the_contract_check_bites(app, method, url, status, mimetype, text, problem):
    with pytest.raises((Failed, AssertionError), match=problem):
        contract.check(app.url_map, method, url, status, mimetype, text, {})
