"""Orders: create (three ways), read, list, change, repay, cancel; tickets."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from sandbox import errors
from sandbox.domain import ordering
from sandbox.domain.access import check_read
from sandbox.domain.catalogue import channel_uid
from sandbox.domain.model import Order
from sandbox.domain.query import STATUSES, OrderQuery
from sandbox.domain.refs import parse_ref
from sandbox.web import body, listing
from sandbox.web.catalogue_views import ORDER_SEARCH
from sandbox.web.context import (
    apply_force,
    current_session,
    force_for,
    principal,
    renderer,
    sandbox,
    self_href,
)
from sandbox.web.listing import hal

bp = Blueprint("orders", __name__)


def render_order(order: Order, status: int = 200, created: bool = False) -> Response:
    r = renderer()
    shop = current_session().shop
    headers = {"Location": r.uri(f"/orders/{order.uid}")} if created else None
    return hal(r.order(order, shop.availability), status, headers)


def rule_fields(payload: dict[str, Any]) -> dict[str, Any]:
    """What a rule's ``match`` can compare, taken from the request."""
    consumer = payload.get("consumer")
    selections = payload.get("products")
    # Read before validation: anything that is not the expected shape matches
    # nothing, and validation then says what is wrong.
    products = {
        parse_ref(p.get("product"), "products")
        for p in (selections if isinstance(selections, list) else [])
        if isinstance(p, dict)
    }
    app = principal().app
    return {
        "external_reference": _text(payload.get("external_reference")),
        "email": _text(consumer.get("email")) if isinstance(consumer, dict) else None,
        "product": {p for p in products if p},
        "application": app.key if app else None,
        "event": {
            sandbox().cat.products[p].event
            for p in products
            if p in sandbox().cat.products
        },
    }


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@bp.post("/orders")
def create_order() -> Response:
    payload = body.json_object()
    who = principal()
    has_products, has_tickets = "products" in payload, "tickets" in payload
    if has_products and has_tickets:
        raise errors.BothTicketsAndProductsProvided(
            errors=[{"path": "$", "message": "give either products or tickets"}]
        )
    shop = current_session().shop
    force = force_for("orders.create", rule_fields(payload))
    if "basket" in payload and not has_tickets:
        return _from_basket(payload, force)
    if has_tickets:
        body.validate(payload, "order_create", _transfer_classifier())
        return render_order(ordering.transfer(shop, payload, who, force), 201, True)
    if not has_products:
        raise errors.NoTicketsOrProductsProvided(
            errors=[{"path": "$", "message": "give products, tickets or a basket"}]
        )
    if payload["products"] == []:
        raise errors.EmptyBasket(errors=[{"path": "$.products", "message": "is empty"}])
    who.require_permission("orders.create")
    body.validate(payload, "order_create", body.order_classifier())
    order = ordering.place_from_products(shop, payload, who, force)
    return render_order(order, 201, True)


def _transfer_classifier() -> body.Classifier:
    """A transfer's consumer is the tickets' new holder: missing, it is
    NO_CONSUMER_URI_OR_INFO_PROVIDED; malformed, TICKET_CONSUMER_ERROR."""
    named = body.order_classifier("NO_CONSUMER_URI_OR_INFO_PROVIDED")

    def classify(path: str, error: Any) -> str | None:
        kind = named(path, error)
        if kind is None and path.startswith("$.consumer."):
            return "TICKET_CONSUMER_ERROR"
        return kind

    return classify


def _from_basket(payload: dict[str, Any], force: Any) -> Response:
    body.validate(payload, "order_from_basket", body.order_classifier())
    shop, who = current_session().shop, principal()
    basket, reset_order = ordering.find_basket(shop, payload["basket"])
    if reset_order is not None:
        order = ordering.reorder_repayment(shop, reset_order, who, payload)
        return render_order(order, 201, True)
    assert basket is not None
    merged = ordering.basket_payload(basket, who, payload)
    merged.pop("basket", None)
    if not merged.get("products"):
        raise errors.EmptyBasket("The basket holds no products.")
    body.validate(merged, "order_create", body.order_classifier())
    order = ordering.place_from_products(shop, merged, who, force)
    basket.ordered_as = order.uid
    return render_order(order, 201, True)


def readable_order(uid: str, action: str = "orders.read") -> Order:
    """The order, if these credentials may read it (401/403/404 otherwise)."""
    who = principal()
    if who.anonymous:
        raise errors.Unauthorized("Reading an order needs credentials.")
    order = current_session().shop.order(uid)
    check_read(who, order, sandbox().cat)
    apply_force(
        action,
        {
            "order": order.uid,
            "external_reference": order.external_reference,
            "event": order.event,
            "application": who.app.key if who.app else None,
        },
    )
    return order


@bp.get("/orders/<uid>")
def read_order(uid: str) -> Response:
    return render_order(readable_order(uid))


@bp.put("/orders/<uid>")
def update_order(uid: str) -> Response:
    payload = body.json_object()
    who = principal()
    who.require_app()
    order = current_session().shop.order(uid)
    apply_force("orders.update", {"order": uid})
    body.validate(payload, "order_update")
    if not payload:
        raise errors.BadRequest(
            "Give consumer and/or shipping_consumer.",
            [{"path": "$", "message": "nothing to change"}],
        )
    ordering.update_consumer(current_session().shop, order, who, payload)
    return render_order(order)


@bp.post("/orders/<uid>/repayment")
def repayment(uid: str) -> Response:
    who = principal()
    if who.anonymous:
        raise errors.Unauthorized(
            "A repayment needs the credentials that created the order."
        )
    shop = current_session().shop
    order = shop.order(uid)
    apply_force("orders.repayment", {"order": uid})
    ordering.repayment(shop, order, who)
    r = renderer()
    channel = r.uri(f"/channels/{channel_uid(order.application)}")
    return hal(
        {
            "checkout_url": r.page(
                f"/_sandbox/checkout/{order.uid}",
                order_token=order.order_token,
                channel=channel,
                basket=r.uri(f"/baskets/{order.uid}"),
            )
        }
    )


@bp.post("/ordercancellation")
def ordercancellation() -> Response:
    payload = body.json_object()
    who = principal()
    who.require_app()
    body.validate(payload, "ordercancellation", default=errors.BadRequest)
    uid = parse_ref(payload["order"], "orders")
    shop = current_session().shop
    if uid is None:
        raise errors.NotFound(
            f"Order {payload['order']!r} does not exist.",
            [{"path": "$.order", "message": "no such order"}],
        )
    order = shop.order(uid)
    apply_force("ordercancellation", {"order": uid})
    ordering.cancel(shop, order, who, payload.get("reason"))
    return render_order(order)


@bp.get("/orders")
def list_orders() -> Response:
    who = principal()
    query = _visibility(who)
    apply_force("orders.list", {"application": who.app.key if who.app else None})
    _filters(query)
    shop = current_session().shop
    size = sandbox().settings.page_size
    total, _ = shop.index.page(query, 0, 0)
    pages = listing.pages_for(total, size)
    page = min(listing.page_number(), pages)
    _, orders = shop.index.page(query, (page - 1) * size, size)
    r = renderer()
    items = [r.order(o, shop.availability) for o in orders]
    return hal(
        r.collection(
            "/orders",
            listing.kept_query(),
            page,
            pages,
            total,
            "shop:order",
            items,
            ORDER_SEARCH,
            "orders",
            self_href(),
        )
    )


def _visibility(who: Any) -> OrderQuery:
    """Basic: what the application may access; Cognito: the user's own orders."""
    if who.cognito_user is not None:
        return OrderQuery(cognito_user=who.cognito_user)
    if who.app is None:
        if who.order_token:
            raise errors.Forbidden(
                "An Order-Token opens one order; list orders with "
                "Basic or a Cognito-Token."
            )
        raise errors.Unauthorized(
            "Listing orders needs Basic authentication or a Cognito-Token."
        )
    app = who.require_permission("orders.read")
    merchant_events = None
    if app.is_merchant and who.basic:
        cat = sandbox().cat
        merchant_events = frozenset(
            uid for uid, e in cat.events.items() if e.merchant == app.merchant
        )
    readable = {app.key} | (app.order_access if who.basic else frozenset())
    return OrderQuery(applications=frozenset(readable), merchant_events=merchant_events)


def _filters(query: OrderQuery) -> None:
    listing.check_known(listing.ORDER_FILTERS)
    events = None
    one = listing.single("event")
    if one is not None:
        events = {_event_uid("event", one)}
    many = listing.values("event__in")
    if many is not None:
        wanted = {_event_uid("event__in", v) for v in many}
        events = wanted if events is None else events & wanted
    query.events = frozenset(events) if events is not None else None
    statuses = set(STATUSES)
    status = listing.single("status")
    if status is not None:
        statuses &= {_status("status", status)}
    ne = listing.single("status__ne")
    if ne is not None:
        statuses -= {_status("status__ne", ne)}
    within = listing.values("status__in")
    if within is not None:
        statuses &= {_status("status__in", v) for v in within}
    query.statuses = frozenset(statuses)
    query.external_reference = listing.single("external_reference")
    for op in ("lt", "lte", "gt", "gte"):
        moment = listing.moment(f"created__{op}")
        if moment is not None:
            query.created_after.append((op, moment))


def _event_uid(name: str, value: str) -> str:
    uid = parse_ref(value, "events")
    if uid is None:
        raise listing.bad_filter(name, f"{value!r} is not an event URI or uid")
    return uid


def _status(name: str, value: str) -> str:
    lowered = value.lower()
    if lowered == "cancelled":  # the British spelling some upstream pages use
        lowered = "canceled"
    if lowered not in STATUSES:
        raise listing.bad_filter(
            name,
            f"{value!r} is not an order status (one of " + ", ".join(STATUSES) + ")",
        )
    return lowered


@bp.get("/tickets/<uid>")
def ticket(uid: str) -> Response:
    shop = current_session().shop
    found = shop.tickets.get(uid)
    who = principal()
    if who.anonymous:
        raise errors.Unauthorized("Reading a ticket needs credentials.")
    if found is None:
        raise errors.NotFound(f"Ticket {uid} does not exist.")
    check_read(who, shop.order(found.order), sandbox().cat)
    apply_force("tickets.read", {"order": found.order})
    return hal(renderer().ticket(found))
