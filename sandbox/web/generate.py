"""``POST /_sandbox/generate``: many realistic orders in one call.

Filling a session with 100,000 orders through ``POST /orders`` takes far too
long for a benchmark or a paging test; this places them through the same
domain path (see :mod:`sandbox.domain.generate`).
"""

from __future__ import annotations

from flask import Blueprint, Response

from sandbox import errors
from sandbox.domain import generate as domain
from sandbox.domain.refs import parse_ref
from sandbox.web import body
from sandbox.web.context import current_session, renderer
from sandbox.web.control import admin_only
from sandbox.web.listing import hal

bp = Blueprint("generate", __name__, url_prefix="/_sandbox")
bp.before_request(admin_only)


@bp.post("/generate")
def generate() -> Response:
    payload = body.json_object()
    body.validate(payload, "generate", default=errors.BadRequest)
    product = payload.get("product")
    uid = parse_ref(product, "products") if product is not None else None
    if product is not None and uid is None:
        raise errors.BadRequest(
            f"{product!r} is not a product URI or uid.",
            [{"path": "$.product", "message": "not a product"}],
        )
    shop = current_session().shop
    orders = domain.generate(
        shop,
        payload["orders"],
        payload.get("status", "completed"),
        uid,
        payload.get("application"),
        payload.get("quantity", 1),
    )
    r = renderer()
    return hal(
        {
            "_links": {
                "self": {"href": r.uri("/_sandbox/generate")},
                "first": {"href": r.uri(f"/orders/{orders[0].uid}")},
                "last": {"href": r.uri(f"/orders/{orders[-1].uid}")},
            },
            "generated": len(orders),
            "orders": len(shop.orders),
            "first": orders[0].uid,
            "last": orders[-1].uid,
        },
        201,
    )
