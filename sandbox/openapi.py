"""The OpenAPI 3.1 document of the sandbox, built from the stored JSON Schemas.

One table, :data:`OPERATIONS`, says for every URL rule and method what the
request body is, which query parameters it reads and what it answers. The
document served at ``/_sandbox/openapi.json`` is made from it, and the test
suite checks every response it receives against the same table, so the
document, the schemas and the behaviour cannot drift apart unnoticed.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sandbox import __version__, errors, schemas
from sandbox.domain.rules import ACTIONS, PAYMENT_OUTCOMES
from sandbox.web import listing

HAL = "application/hal+json"
JSON = "application/json"
HTML = "text/html"
PDF = "application/pdf"
FORM = "application/x-www-form-urlencoded"

# Errors every mirrored call can answer: a bad Sandbox-Session or
# Sandbox-Force (400), credentials (401, 403), and any of them forced.
MIRRORED = (400, 401, 403, 404, 500)
CONTROL = (400, 401, 500)  # 401: the control plane locked by an admin token
BODY = (413, 415)


@dataclass(frozen=True)
class Operation:
    """What one method of one URL rule takes and answers."""

    method: str
    rule: str
    summary: str
    # Success status -> response schema name, or a media type for non-JSON.
    ok: dict[int, str]
    body: str | None = None
    query: tuple[str, ...] = ()
    errors: tuple[int, ...] = MIRRORED
    action: str | None = None
    auth: str = "api"  # api, public or control
    form: bool = False  # also takes a dashboard form post (answers 303)
    body_required: bool = True
    tags: tuple[str, ...] = field(default=())

    @property
    def path(self) -> str:
        """The OpenAPI path: ``/orders/{uid}`` for ``/orders/<uid>``."""
        return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", self.rule)

    def statuses(self) -> dict[int, str | None]:
        """Every status this operation can answer, with its schema or media type."""
        out: dict[int, str | None] = dict(self.ok)
        codes = set(self.errors) | (set(BODY) if self.body else set())
        if self.form:
            out[303] = None
        for code in sorted(codes):
            out.setdefault(code, f"error_{code}")
        return out


# The query parameters each list accepts are the views' own (web.listing).
EVENT_FILTERS = (*listing.EVENT_FILTERS, "page")
PRODUCT_FILTERS = (*listing.PRODUCT_FILTERS, "page")
ORDER_FILTERS = (*listing.ORDER_FILTERS, "page")
BILL_QUERY = listing.BILL_QUERY
STOREFRONT_QUERY = listing.STOREFRONT_QUERY

Op = Operation
OPERATIONS: tuple[Operation, ...] = (
    # -- the mirrored API -----------------------------------------------------
    Op(
        "GET",
        "/",
        "Root: links to every collection",
        {200: "response_root"},
        errors=(400, 500),
        auth="public",
    ),
    Op(
        "GET",
        "/status",
        "Health check",
        {200: "response_status"},
        # 400 only for a Sandbox-Force header: nothing can be forced here.
        errors=(400, 500),
        auth="public",
    ),
    Op(
        "GET",
        "/events",
        "List events",
        {200: "response_events"},
        query=EVENT_FILTERS,
        action="events.list",
    ),
    Op(
        "GET",
        "/events/<uid>",
        "One event",
        {200: "response_event"},
        action="events.read",
    ),
    Op(
        "GET",
        "/channels/<uid>",
        "An application's online sales channel and its events on sale",
        {200: "response_channel"},
        action="channels.read",
        auth="public",
    ),
    Op(
        "GET",
        "/products",
        "List products",
        {200: "response_products"},
        query=PRODUCT_FILTERS,
        action="products.list",
    ),
    Op(
        "GET",
        "/products/<uid>",
        "One product",
        {200: "response_product"},
        action="products.read",
    ),
    Op(
        "GET",
        "/payment-methods/<uid>",
        "One payment method",
        {200: "response_payment_method"},
        action="payment_methods.read",
    ),
    Op(
        "GET",
        "/shipping-methods/<uid>",
        "One shipping method",
        {200: "response_shipping_method"},
        action="shipping_methods.read",
    ),
    Op(
        "GET",
        "/storefront",
        "Products, prices and availability of one event",
        {200: "response_storefront"},
        query=STOREFRONT_QUERY,
        action="storefront",
    ),
    Op(
        "POST",
        "/bill",
        "Price an order's payload",
        {200: "response_bill"},
        body="bill",
        action="bill",
    ),
    Op(
        "GET",
        "/bill",
        "Price products given in the query (deprecated form)",
        {200: "response_bill"},
        query=BILL_QUERY,
        action="bill",
    ),
    Op(
        "POST",
        "/baskets",
        "Create a basket",
        {201: "response_basket"},
        body="bill",
        action="baskets.create",
    ),
    Op(
        "GET",
        "/baskets/<uid>",
        "One basket (or a repayment basket)",
        {200: "response_basket"},
        action="baskets.read",
    ),
    Op(
        "PUT",
        "/baskets/<uid>",
        "Change a basket",
        {200: "response_basket"},
        body="bill",
        action="baskets.update",
    ),
    Op(
        "POST",
        "/orders",
        "Create an order: from products, a basket or tickets",
        {201: "response_order"},
        body="order_create",
        errors=MIRRORED + (409,),
        action="orders.create",
    ),
    Op(
        "GET",
        "/orders",
        "List orders",
        {200: "response_orders"},
        query=ORDER_FILTERS,
        action="orders.list",
    ),
    Op(
        "GET",
        "/orders/<uid>",
        "One order",
        {200: "response_order"},
        action="orders.read",
    ),
    Op(
        "PUT",
        "/orders/<uid>",
        "Change the consumer of an order",
        {200: "response_order"},
        body="order_update",
        action="orders.update",
    ),
    Op(
        "POST",
        "/orders/<uid>/repayment",
        "Repay an order whose payment failed",
        {200: "response_repayment"},
        action="orders.repayment",
    ),
    Op(
        "GET",
        "/orders/<uid>/upsell-recommendation",
        "Products to upsell",
        {200: "response_upsell"},
        action="orders.upsell",
    ),
    Op(
        "POST",
        "/orders/refund_access",
        "Mail refund instructions",
        {200: "response_refund_access"},
        body="refund_access",
        action="orders.refund_access",
    ),
    Op(
        "POST",
        "/ordercancellation",
        "Cancel an unpaid order",
        {200: "response_order"},
        body="ordercancellation",
        action="ordercancellation",
    ),
    Op(
        "GET",
        "/tickets/<uid>",
        "One ticket",
        {200: "response_ticket"},
        action="tickets.read",
    ),
    Op(
        "GET",
        "/sales/<uid>",
        "One sale (an upsell shop)",
        {200: "response_sale"},
        action="sales.read",
    ),
    # -- the control plane ----------------------------------------------------
    Op(
        "GET",
        "/_sandbox",
        "Control plane index (HTML for browsers)",
        {200: "response_sandbox"},
        errors=CONTROL,
        auth="control",
    ),
    Op(
        "GET",
        "/_sandbox/openapi.json",
        "This document",
        {200: "response_openapi"},
        errors=(400, 500),
        auth="public",
    ),
    Op(
        "POST",
        "/_sandbox/reset",
        "Reset the session to its fixtures",
        {200: "response_reset"},
        body="reset",
        errors=CONTROL,
        auth="control",
        form=True,
        body_required=False,
    ),
    Op(
        "GET",
        "/_sandbox/scenarios",
        "Named scenarios and the rules armed",
        {200: "response_scenarios"},
        errors=CONTROL,
        auth="control",
    ),
    Op(
        "POST",
        "/_sandbox/scenarios/<name>",
        "Arm a named scenario",
        {201: "response_scenario_armed"},
        errors=CONTROL + (404,),
        auth="control",
        form=True,
    ),
    Op(
        "GET",
        "/_sandbox/rules",
        "The rules armed",
        {200: "response_rules"},
        errors=CONTROL,
        auth="control",
    ),
    Op(
        "POST",
        "/_sandbox/rules",
        "Arm one rule",
        {201: "response_rule"},
        body="rule",
        errors=CONTROL,
        auth="control",
    ),
    Op(
        "DELETE",
        "/_sandbox/rules",
        "Disarm every rule",
        {200: "response_disarmed"},
        errors=CONTROL,
        auth="control",
    ),
    Op(
        "DELETE",
        "/_sandbox/rules/<int:rule_id>",
        "Disarm one rule",
        {200: "response_disarmed"},
        errors=CONTROL + (404,),
        auth="control",
    ),
    Op(
        "POST",
        "/_sandbox/overrides",
        "Override fixtures (stock, rate limits, TTL)",
        {200: "response_overrides"},
        body="overrides",
        errors=CONTROL + (404,),
        auth="control",
    ),
    Op(
        "GET",
        "/_sandbox/orders/<uid>",
        "What only the sandbox knows of an order",
        {200: "response_order_secrets"},
        errors=CONTROL + (404,),
        auth="control",
    ),
    Op(
        "POST",
        "/_sandbox/orders/<uid>/payment",
        "Pay, fail or cancel a payment",
        {200: "response_order_secrets"},
        body="payment",
        errors=CONTROL + (404,),
        auth="control",
    ),
    Op(
        "GET",
        "/_sandbox/clock",
        "The session clock",
        {200: "response_clock"},
        errors=CONTROL,
        auth="control",
    ),
    Op(
        "POST",
        "/_sandbox/clock",
        "Move or freeze the session clock",
        {200: "response_clock"},
        body="clock",
        errors=CONTROL,
        auth="control",
    ),
    Op(
        "GET",
        "/_sandbox/requests",
        "The journal of requests received",
        {200: "response_requests"},
        query=("method", "path"),
        errors=CONTROL,
        auth="control",
    ),
    Op(
        "DELETE",
        "/_sandbox/requests",
        "Empty the journal",
        {200: "response_requests"},
        errors=CONTROL,
        auth="control",
    ),
    Op(
        "GET",
        "/_sandbox/emails",
        "The outbox",
        {200: "response_emails"},
        errors=CONTROL,
        auth="control",
    ),
    Op(
        "GET",
        "/_sandbox/state",
        "Export the session's state",
        {200: "response_state"},
        errors=CONTROL,
        auth="control",
    ),
    Op(
        "PUT",
        "/_sandbox/state",
        "Import a session's state",
        {200: "response_state_imported"},
        body="state",
        errors=CONTROL,
        auth="control",
    ),
    Op(
        "POST",
        "/_sandbox/generate",
        "Place many realistic orders at once",
        {201: "response_generate"},
        body="generate",
        errors=CONTROL + (404,),
        auth="control",
    ),
    # -- pages a consumer's browser opens ---------------------------------------
    Op(
        "GET",
        "/_sandbox/checkout/<uid>",
        "The hosted payment page",
        {200: HTML},
        query=("sandbox_session", "order_token", "channel", "basket"),
        errors=(400, 404, 500),
        auth="public",
    ),
    Op(
        "POST",
        "/_sandbox/checkout/<uid>",
        "Pay, fail or cancel from the page",
        {303: "", 400: HTML},
        query=("sandbox_session", "order_token", "channel", "basket"),
        errors=(400, 404, 415, 500),
        auth="public",
    ),
    Op(
        "GET",
        "/_sandbox/return",
        "The default page a payment returns to",
        {200: HTML},
        query=("order", "outcome", "sandbox_session"),
        errors=(400, 500),
        auth="public",
    ),
    Op(
        "GET",
        "/_sandbox/etickets/<uid>",
        "An order's e-tickets (PDF)",
        {200: PDF},
        query=("order_token", "sandbox_session"),
        errors=(400, 403, 404, 500),
        auth="public",
    ),
)

# Query parameters that take a list (repeated keys or commas).
LIST_QUERY = {"event__in", "status__in", "vouchers", "products"}


def operation(method: str, rule: str) -> Operation | None:
    """The declared operation of a URL rule, or None."""
    return _by_key().get((method.upper(), rule))


@cache
def _by_key() -> dict[tuple[str, str], Operation]:
    return {(op.method, op.rule): op for op in OPERATIONS}


# -- building the document ----------------------------------------------------


def _component(name: str) -> dict[str, Any]:
    """A stored schema as an OpenAPI component: refs point into the document."""
    body = copy.deepcopy(schemas.schema(name))
    body.pop("$schema", None)
    body.pop("$id", None)
    return _rewrite(body, name)  # type: ignore[no-any-return]


def _rewrite(node: Any, owner: str) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out[key] = _target(value, owner)
            else:
                out[key] = _rewrite(value, owner)
        return out
    if isinstance(node, list):
        return [_rewrite(item, owner) for item in node]
    return node


def _target(ref: str, owner: str) -> str:
    """``common.json#/$defs/x`` -> ``#/components/schemas/common/$defs/x``."""
    document, _, pointer = ref.partition("#")
    name = document[: -len(".json")] if document.endswith(".json") else owner
    return f"#/components/schemas/{name}{pointer}"


def _error_schemas() -> dict[str, Any]:
    """One error schema per status, its ``type`` limited to the codes it can carry."""
    by_status: dict[int, list[str]] = {}
    for code, cls in errors.ERRORS.items():
        by_status.setdefault(cls.status, []).append(code)
    out = {}
    for status in sorted(by_status):
        out[f"error_{status}"] = {
            "description": f"The error envelope of a {status}",
            "allOf": [{"$ref": "#/components/schemas/response_error"}],
            "properties": {"type": {"enum": sorted(by_status[status])}},
        }
    return out


def _query_parameter(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if name == "page":
        schema = {"type": "integer", "minimum": 1}
    param: dict[str, Any] = {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
    }
    if name in LIST_QUERY:
        param["schema"] = {"type": "array", "items": {"type": "string"}}
        param["style"], param["explode"] = "form", True
        param["description"] = "Repeat the key, or separate values by commas."
    return param


def _path_parameter(name: str, rule: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 64}
    if f"<int:{name}>" in rule:
        schema = {"type": "integer", "minimum": 0, "maximum": 2**31}
    elif name == "name":
        schema = {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$", "maxLength": 64}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _security(op: Operation) -> list[dict[str, list[str]]]:
    if op.auth == "control":
        return [{}, {"adminToken": []}]
    if op.auth == "public":
        return [{}]
    return [
        {"basic": []},
        {"bearer": []},
        {"basic": [], "cognito": []},
        {"bearer": [], "cognito": []},
        {"cognito": []},
        {"orderToken": []},
        {"basic": [], "orderToken": []},
    ]


def _forceable(op: Operation) -> list[str]:
    if op.action is None:
        return []
    return [o for o in ACTIONS[op.action] if o not in PAYMENT_OUTCOMES]


def _operation(op: Operation) -> dict[str, Any]:
    params = [_query_parameter(name) for name in op.query]
    if op.rule != "/status":
        params.append({"$ref": "#/components/parameters/Sandbox-Session"})
    forceable = _forceable(op)
    if forceable:
        params.append(
            {
                "name": "Sandbox-Force",
                "in": "header",
                "required": False,
                "description": "Force this documented error on this request.",
                "schema": {"type": "string", "enum": forceable},
            }
        )
    body: dict[str, Any] = {
        "summary": op.summary,
        "operationId": _operation_id(op),
        "tags": ["control plane" if op.rule.startswith("/_sandbox") else "api"],
        "parameters": params,
        "security": _security(op),
        "responses": {
            str(code): _response(code, target) for code, target in op.statuses().items()
        },
    }
    if op.body:
        content: dict[str, Any] = {
            JSON: {"schema": {"$ref": f"#/components/schemas/{op.body}"}}
        }
        if op.form:
            content[FORM] = {
                "schema": {
                    "type": "object",
                    "properties": {"admin_token": {"type": "string"}},
                }
            }
        body["requestBody"] = {"required": op.body_required, "content": content}
    elif op.form:
        body["requestBody"] = {
            "required": False,
            "content": {
                FORM: {
                    "schema": {
                        "type": "object",
                        "properties": {"admin_token": {"type": "string"}},
                    }
                }
            },
        }
    if op.rule == "/_sandbox/checkout/<uid>" and op.method == "POST":
        body["requestBody"] = {
            "required": True,
            "content": {
                FORM: {
                    "schema": {
                        "type": "object",
                        "required": ["outcome"],
                        "properties": {"outcome": {"enum": list(PAYMENT_OUTCOMES)}},
                    }
                }
            },
        }
    return body


def _operation_id(op: Operation) -> str:
    words = re.sub(r"[^a-z0-9]+", "_", f"{op.method} {op.path}".lower())
    return words.strip("_")


def _response(code: int, target: str | None) -> dict[str, Any]:
    description = _REASONS.get(code, "Answered")
    if not target:
        headers = {"Location": {"schema": {"type": "string"}}}
        return {"description": description, "headers": headers}
    if target in (HTML, PDF):
        content: dict[str, Any] = {target: {"schema": {"type": "string"}}}
        if code >= 400:  # a page's own error; a bad session is still JSON
            content[JSON] = {"schema": {"$ref": f"#/components/schemas/error_{code}"}}
        return {"description": description, "content": content}
    media = JSON if target.startswith("error_") or target in _PLAIN_JSON else HAL
    response: dict[str, Any] = {
        "description": description,
        "content": {media: {"schema": {"$ref": f"#/components/schemas/{target}"}}},
    }
    if code == 201:
        response["headers"] = {"Location": {"schema": {"type": "string"}}}
    if code == 405:
        response["headers"] = {"Allow": {"schema": {"type": "string"}}}
    return response


# Control-plane answers are plain JSON; HAL is for the mirrored resources.
_PLAIN_JSON = {
    "response_reset",
    "response_scenarios",
    "response_scenario_armed",
    "response_rules",
    "response_rule",
    "response_disarmed",
    "response_overrides",
    "response_order_secrets",
    "response_clock",
    "response_requests",
    "response_emails",
    "response_state",
    "response_state_imported",
    "response_openapi",
}
_REASONS = {
    200: "OK",
    201: "Created",
    204: "No content (a CORS preflight)",
    303: "See other (a form post goes back to its page)",
    400: "Bad request",
    401: "Missing or invalid credentials",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Body too large",
    415: "Body not JSON",
    500: "The sandbox failed",
}


def media_type(op: Operation, status: int) -> str | None:
    """The media type an answer of ``op`` with ``status`` has, None for no body."""
    target = op.statuses().get(status)
    if target is None or target == "":
        return None
    if target in (HTML, PDF):
        return target
    return JSON if target.startswith("error_") or target in _PLAIN_JSON else HAL


def _options(path: str, methods: list[str]) -> dict[str, Any]:
    return {
        "summary": "CORS preflight: the methods of this path, no credentials needed",
        "operationId": _operation_id(Op("OPTIONS", path, "", {})),
        "tags": ["cors"],
        "security": [{}],
        "responses": {
            "204": {
                "description": _REASONS[204],
                "headers": {
                    "Allow": {"schema": {"type": "string"}},
                    "Access-Control-Allow-Methods": {"schema": {"type": "string"}},
                    "Access-Control-Allow-Headers": {"schema": {"type": "string"}},
                },
            },
            "404": _response(404, "error_404"),
        },
    }


@cache
def _document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    for path, item in paths.items():
        rule = next(op.rule for op in OPERATIONS if op.path == path)
        item["options"] = _options(rule, sorted(item))
        names = re.findall(r"<(?:[a-z]+:)?([a-z_]+)>", rule)
        if names:  # shared by every method of the path, preflight included
            item["parameters"] = [_path_parameter(name, rule) for name in names]
    components = {name: _component(name) for name in schemas.names()}
    components.update(_error_schemas())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Shopping Sandbox",
            "version": __version__,
            "summary": "A stateful sandbox of the Paylogic Shopping Service API",
            "description": (
                "Every request and response body has a JSON Schema (draft 2020-12). "
                "Every error is the JSON envelope {type, message, errors?}. Paths "
                "answer the same with or without a trailing slash, never by a "
                "redirect; bodies over SANDBOX_MAX_BODY bytes answer 413."
            ),
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": paths,
        "components": {
            "schemas": components,
            "parameters": {
                "Sandbox-Session": {
                    "name": "Sandbox-Session",
                    "in": "header",
                    "required": False,
                    "description": "The isolated session (world) to use; default "
                    "'default'.",
                    "schema": {"type": "string", "maxLength": 100},
                }
            },
            "securitySchemes": {
                "basic": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "An application's key and secret; the "
                    "unencoded key:secret form works too.",
                },
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A front-end application's token.",
                },
                "cognito": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Cognito-Token",
                    "description": "A logged-in user.",
                },
                "orderToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Order-Token",
                    "description": "Opens one order.",
                },
                "adminToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Sandbox-Admin-Token",
                    "description": "Needed by the control plane when "
                    "SANDBOX_ADMIN_TOKEN is set.",
                },
            },
        },
    }


def document(base_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI document, with ``base_url`` as its server when given."""
    doc = copy.deepcopy(_document())
    if base_url:
        doc["servers"] = [{"url": base_url}]
    return doc
