"""What a shop calls around an order: baskets, bill, storefront, upsell, refunds."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from sandbox import errors
from sandbox.domain import ordering
from sandbox.domain.access import check_read, token_may_access
from sandbox.domain.model import Basket, Order
from sandbox.domain.refs import parse_ref
from sandbox.domain.validation import Draft, check_references, resolve
from sandbox.money import amount_string, parse_amount
from sandbox.timeutil import isoformat
from sandbox.web import body, listing
from sandbox.web.context import (
    apply_force,
    current_session,
    principal,
    renderer,
    sandbox,
    self_href,
)
from sandbox.web.listing import hal

bp = Blueprint("shop", __name__)


# -- baskets ------------------------------------------------------------------


def _basket_draft(payload: dict[str, Any]) -> Draft | None:
    """Check a basket's content like an order's; None while it holds no products."""
    shop = current_session().shop
    if not payload.get("products"):
        check_references(payload, shop.cat)
        return None
    draft = resolve(payload, shop.cat, principal().app, shop.now())
    shop.check_stock(draft)
    return draft


def _render_basket(
    basket: Basket, status: int = 200, created: bool = False
) -> Response:
    r = renderer()
    draft = _basket_draft(basket.payload)
    content = (
        r.draft(draft)
        if draft
        else {"product_selection": [], "consumer": basket.payload.get("consumer")}
    )
    headers = {"Location": r.uri(f"/baskets/{basket.uid}")} if created else None
    return hal(r.basket(basket, content), status, headers)


def _render_reset_order(order: Order) -> Response:
    """A repayment basket: the order's content, with its uid."""
    r = renderer()
    body_ = r.order(order, current_session().shop.availability)
    for key in ("_embedded", "legal_info", "status", "payment", "reference"):
        body_.pop(key, None)
    body_["_links"] = r.links(
        r.uri(f"/baskets/{order.uid}"),
        "baskets",
        **{"shop:order": {"href": r.uri(f"/orders/{order.uid}")}},
    )
    body_["status"] = "repayment"
    return hal(body_)


@bp.post("/baskets")
def create_basket() -> Response:
    payload = body.json_object()
    app = principal().require_permission("orders.create")
    apply_force("baskets.create", {"application": app.key})
    body.validate(payload, "bill", body.order_classifier())
    _basket_draft(payload)
    basket = current_session().shop.new_basket(app.key, payload)
    return _render_basket(basket, 201, created=True)


def _basket(uid: str) -> tuple[Basket | None, Order | None]:
    shop = current_session().shop
    order = shop.orders.get(uid)
    who = principal()
    if order is not None and order.in_basket:
        if (
            not (who.app and who.app.key == order.application)
            and who.order_token != order.order_token
        ):
            raise errors.Forbidden("This basket belongs to another application.")
        return None, order
    basket = shop.baskets.get(uid)
    if basket is None:
        raise errors.NotFound(f"Basket {uid} does not exist.")
    app = principal().require_app()
    if basket.application != app.key:
        raise errors.Forbidden("This basket belongs to another application.")
    return basket, None


@bp.get("/baskets/<uid>")
def read_basket(uid: str) -> Response:
    who = principal()
    if who.anonymous:
        raise errors.Unauthorized("Reading a basket needs credentials.")
    apply_force("baskets.read", {"order": uid})
    basket, order = _basket(uid)
    if order is not None:
        return _render_reset_order(order)
    assert basket is not None
    return _render_basket(basket)


@bp.put("/baskets/<uid>")
def update_basket(uid: str) -> Response:
    payload = body.json_object()
    who = principal()
    if who.anonymous:
        raise errors.Unauthorized("Changing a basket needs credentials.")
    apply_force("baskets.update", {"order": uid})
    basket, order = _basket(uid)
    body.validate(payload, "bill", body.order_classifier())
    if order is not None:
        ordering.reorder_repayment_basket(current_session().shop, order, payload)
        return _render_reset_order(order)
    assert basket is not None
    if basket.ordered_as:
        raise errors.BadRequest(f"Basket {uid} was ordered already.")
    merged = {**basket.payload, **payload}
    _basket_draft(merged)
    basket.payload = merged
    return _render_basket(basket)


# -- bill ---------------------------------------------------------------------


def _bill(payload: dict[str, Any], country: str | None) -> Response:
    shop = current_session().shop
    app = principal().require_app()
    if not payload.get("products"):
        raise errors.EmptyBasket(errors=[{"path": "$.products", "message": "is empty"}])
    draft = resolve(payload, shop.cat, app, shop.now())
    shop.check_stock(draft)
    r = renderer()
    consumer = payload.get("consumer") or {}
    country = (
        country or consumer.get("country") or draft.event.location.get("country", "NL")
    ).upper()
    cat = sandbox().cat
    bill = {
        "_links": r.links(r.uri("/bill"), "bill"),
        **r.draft(draft),
        "country": country,
        "available_payment_methods": [
            r.payment_method(m) for m in cat.payment_methods.values()
        ],
        "available_shipping_methods": [
            r.shipping_method(m) for m in cat.shipping_methods.values()
        ],
    }
    bill["_links"]["self"] = {"href": self_href()}
    return hal(bill)


@bp.post("/bill")
def post_bill() -> Response:
    payload = body.json_object()
    principal().require_app()
    apply_force("bill")
    body.validate(payload, "bill", body.order_classifier())
    return _bill(payload, None)


@bp.get("/bill")
def get_bill() -> Response:
    """The deprecated GET form: ``products=<URI>,<quantity>`` repeated."""
    principal().require_app()
    apply_force("bill")
    listing.check_known(listing.BILL_QUERY)
    payload: dict[str, Any] = {
        "products": [_product_pair(v) for v in request.args.getlist("products")]
    }
    for name in ("payment_method", "shipping_method"):
        value = listing.single(name)
        if value is not None:
            payload[name] = value
    external = listing.resolve_filter("external_purchase_amount", _currency_amount)
    if external is not None:
        payload["external_purchases"] = [
            {
                "product_reference": "external purchase",
                "quantity": 1,
                "unit_price": external,
            }
        ]
    donation = listing.resolve_filter("donation_amount", _currency_amount)
    if donation is not None:
        payload["donation_amount"] = donation
    vouchers = listing.values("vouchers")
    if vouchers:
        payload["vouchers"] = vouchers
    body.validate(payload, "bill", body.order_classifier())
    return _bill(payload, listing.single("country"))


def _product_pair(value: str) -> dict[str, Any]:
    ref, _, quantity = value.rpartition(",")
    if not ref or not quantity.strip().isdigit():
        raise listing.bad_filter(
            "products", f"{value!r} is not '<product URI>,<quantity>'"
        )
    return {"product": ref.strip(), "quantity": int(quantity)}


def _currency_amount(text: str) -> dict[str, Any]:
    """``EUR350.75``, the query-string form of an Amount."""
    currency, amount = text[:3].upper(), text[3:]
    if not currency.isalpha():
        raise ValueError(f"{text!r} is not CURRENCYAMOUNT, such as EUR350.75")
    return {"currency": currency, "amount": str(parse_amount(amount))}


# -- storefront and sales -----------------------------------------------------


@bp.get("/storefront")
def storefront() -> Response:
    app = principal().require_app()
    apply_force("storefront")
    listing.check_known(listing.STOREFRONT_QUERY)
    ref = listing.single("event")
    if ref is None:
        raise listing.bad_filter("event", "is required: ?event=<event URI>")
    uid = parse_ref(ref, "events")
    cat, shop = sandbox().cat, current_session().shop
    if uid is None or uid not in cat.events or uid not in app.events:
        raise errors.NotFound(
            "Give the event of the storefront: ?event=<event URI>.",
            [{"path": "query.event", "message": "unknown event"}],
        )
    event = cat.events[uid]
    vouchers = {v.upper() for v in (listing.values("vouchers") or [])}
    for code in vouchers:
        if code not in cat.vouchers:
            raise errors.VoucherInvalid(f"Voucher code {code!r} is invalid.")
    products = [
        p
        for p in cat.products_of(uid)
        if not p.requires_voucher or p.requires_voucher.upper() in vouchers
    ]
    r = renderer()
    items = [r.product(p, shop.availability(p.uid), 1) for p in products]
    body_ = {
        "_links": r.links(self_href(), "storefront"),
        "generated_on": _now_iso(),
        "country": (listing.single("country") or event.location.get("country", "NL")),
        "should_display_service_costs": True,
        "uses_vouchers": any(v.event == uid for v in cat.vouchers.values()),
        "min_per_order": event.min_quantity_per_order,
        "max_per_order": event.max_quantity_per_order,
        "captcha": {
            "provider": cat.captcha_provider,
            "public_key": cat.captcha_public_key,
        },
        "categories": [
            {
                "name": None,
                "items": [
                    _category_item(p, r) for p in products if p.separately_saleable
                ],
            }
        ],
        "_embedded": {
            "shop:event": r.event(event),
            "shop:product": items,
            "shop:bill": _cheapest_bill(products, shop, r),
        },
    }
    return hal(body_)


def _now_iso() -> str | None:
    return isoformat(current_session().now())


def _category_item(product: Any, r: Any) -> dict[str, Any]:
    """A choice: the price of one unit, and the total of the fewest one may buy.

    Service costs are in both, as ``should_display_service_costs`` says.
    """
    unit = product.price + product.service_costs
    return {
        "product": r.uri(f"/products/{product.uid}"),
        "unit_price": amount_string(unit),
        "total": amount_string(unit * (product.min_per_order or 1)),
    }


def _cheapest_bill(products: list[Any], shop: Any, r: Any) -> dict[str, Any] | None:
    """The bill of the cheapest selection: one product, the cheapest methods."""
    saleable = [
        p for p in products if p.separately_saleable and shop.availability(p.uid)
    ]
    if not saleable:
        return None
    cheapest = min(saleable, key=lambda p: (p.price + p.service_costs, p.viewing_order))
    cat = shop.cat
    payload: dict[str, Any] = {
        "products": [
            {"product": cheapest.uid, "quantity": cheapest.min_per_order or 1}
        ],
        "payment_method": min(cat.payment_methods.values(), key=lambda m: m.costs).uid,
        "shipping_method": min(
            cat.shipping_methods.values(), key=lambda m: m.costs
        ).uid,
    }
    draft = resolve(payload, cat, None, shop.now())
    return {
        "_links": {
            "profile": {
                "href": r.links("", "bill")["profile"]["href"],
                "type": "text/html",
            }
        },
        **r.draft(draft),
    }


@bp.get("/sales/<uid>")
def sale(uid: str) -> Response:
    app = principal().require_app()
    apply_force("sales.read")
    cat = sandbox().cat
    upsell = cat.sales.get(uid)
    if upsell is None or upsell.event not in app.events:
        raise errors.NotFound(f"Sale {uid} does not exist.")
    r = renderer()
    shop = current_session().shop
    return hal(
        {
            "_links": r.links(
                r.uri(f"/sales/{uid}"),
                "sale",
                **{
                    "shop:event": {"href": r.uri(f"/events/{upsell.event}")},
                    "shop:shop": {"href": upsell.shop_url, "type": "text/html"},
                },
            ),
            "uid": uid,
            "type": "upsell",
            "_embedded": {
                "shop:product": [
                    r.product(cat.products[p], shop.availability(p))
                    for p in upsell.products
                ]
            },
        }
    )


# -- upsell and refund access -------------------------------------------------


@bp.get("/orders/<uid>/upsell-recommendation")
def upsell(uid: str) -> Response:
    who = principal()
    if not who.basic:
        raise errors.Unauthorized(
            "Upsell recommendations need Basic authentication, "
            "plus an Order-Token or Cognito-Token."
        )
    shop = current_session().shop
    order = shop.order(uid)
    # The token must be this order's: Basic alone would otherwise let any
    # token of the session through for an order the application may read.
    if not token_may_access(who, order):
        raise errors.Forbidden(
            "Add the order's Order-Token or the Cognito-Token of its creator."
        )
    check_read(who, order, sandbox().cat)
    apply_force("orders.upsell", {"order": uid})
    cat, r = sandbox().cat, renderer()
    config = cat.upsell.get(order.event)
    links = {"self": {"href": self_href()}, "curies": r.links("", "orders")["curies"]}
    if config is None:
        return hal({"_links": links, "show_images": False, "products": []})
    links["shop:upsell_sale"] = {"href": r.uri(f"/sales/{config.sale}")}
    links["upsell_shop"] = {"href": config.shop_url}
    products = [
        r.product(cat.products[p], shop.availability(p), 1) for p in config.products
    ]
    return hal(
        {"_links": links, "show_images": config.show_images, "products": products}
    )


@bp.post("/orders/refund_access")
def refund_access() -> Response:
    payload = body.json_object()
    app = principal().require_app()
    apply_force("orders.refund_access", {"email": payload.get("email")})
    body.validate(payload, "refund_access", default=errors.BadRequest)
    ordering.refund_access(
        current_session().shop, app, payload["email"], str(payload["order_id"])
    )
    return hal(
        {
            "_links": {"self": {"href": self_href()}},
            "message": "If the order can be refunded, an email with instructions "
            "has been sent to its consumer.",
        }
    )
