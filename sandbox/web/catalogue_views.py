"""Root, status, events, products, methods, storefront and bill."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from sandbox import errors
from sandbox.domain.catalogue import Application, Event, Product, i18n
from sandbox.domain.refs import parse_ref
from sandbox.money import parse_amount
from sandbox.web import listing
from sandbox.web.context import (
    apply_force,
    current_session,
    principal,
    renderer,
    sandbox,
    self_href,
)
from sandbox.web.hal import CURIES, profile
from sandbox.web.listing import hal

bp = Blueprint("catalogue", __name__)

# Every filter /events accepts, and nothing else: the list is listing's.
EVENT_SEARCH = "{?" + ",".join((*listing.EVENT_FILTERS, "page")) + "}"
PRODUCT_SEARCH = (
    "{?event,name,name__startswith,price,price__lt,price__gt,is_soldout,page}"
)
ORDER_SEARCH = (
    "{?event,event__in,external_reference,status,status__ne,status__in,"
    "created__lt,created__lte,created__gt,created__gte,page}"
)


@bp.get("/")
def root() -> Response:
    r = renderer()

    def templated(path: str) -> dict[str, Any]:
        return {"href": r.uri(path), "templated": True}

    links = {
        "self": {"href": r.uri("/")},
        "profile": profile("index"),
        "curies": CURIES,
        "help": {
            "href": "https://shopping-api-docs.paylogic.com/",
            "type": "text/html",
        },
        "shop:status": {"href": r.uri("/status")},
        "shop:event": templated("/events" + EVENT_SEARCH),
        "shop:product": templated("/products" + PRODUCT_SEARCH),
        "shop:storefront": templated("/storefront{?event,vouchers,country}"),
        "shop:bill": templated(
            "/bill{?products,payment_method,shipping_method,country,"
            "external_purchase_amount,donation_amount}"
        ),
        "shop:basket": {"href": r.uri("/baskets")},
        "shop:order": templated("/orders" + ORDER_SEARCH),
        "shop:ordercancellation": {"href": r.uri("/ordercancellation")},
        "shop:ticket": templated("/tickets/{uid}"),
        "shop:payment_method": templated("/payment-methods/{uid}"),
        "shop:shipping_method": templated("/shipping-methods/{uid}"),
        "sandbox": {"href": r.uri("/_sandbox"), "type": "text/html"},
    }
    return hal({"_links": links})


@bp.get("/status")
def status() -> Response:
    r = renderer()
    return hal(
        {
            "_links": {
                "self": {"href": r.uri("/status")},
                "profile": profile("status"),
            },
            "status": "OK",
        }
    )


def _app() -> Application:
    return principal().require_app()


def _visible_event(uid: str, app: Application) -> Event:
    event = sandbox().cat.events.get(uid)
    if event is None or uid not in app.events:
        raise errors.NotFound(f"Event {uid} does not exist.")
    return event


@bp.get("/events")
def events() -> Response:
    app = _app()
    apply_force("events.list")
    listing.check_known(listing.EVENT_FILTERS)
    session, cat = current_session(), sandbox().cat
    now = session.now()
    found = [e for uid, e in cat.events.items() if uid in app.events]
    # Upstream: without a sale_start or sale_end filter, only what is on sale.
    if not any(name.startswith(("sale_start", "sale_end")) for name in request.args):
        found = [e for e in found if e.on_sale(now)]
    for name, pick in _EVENT_TEXT.items():
        wanted = listing.single(name)
        if wanted is not None:
            found = [e for e in found if wanted.lower() in pick(e).lower()]
    for name in listing.EVENT_MOMENTS:
        for lookup, compare in listing.LOOKUPS.items():
            bound = listing.moment(name + lookup)
            if bound is not None:
                found = [e for e in found if compare(getattr(e, name), bound)]
    found.sort(key=lambda e: (e.event_start, e.uid))
    return _collection(
        "/events",
        "shop:event",
        "events",
        EVENT_SEARCH,
        found,
        lambda e: renderer().event(e),
    )


def _title(event: Event) -> str:
    return " ".join(event.title.values())


_EVENT_TEXT = {
    "title": _title,
    "subtitle": lambda e: " ".join(e.subtitle.values()),
    "merchant_name": lambda e: sandbox().cat.merchants[e.merchant].name,
    "location.name": lambda e: e.location.get("name", ""),
    "location_name": lambda e: e.location.get("name", ""),
    "location.city": lambda e: e.location.get("city", ""),
    "location_city": lambda e: e.location.get("city", ""),
    "location.country": lambda e: e.location.get("country", ""),
    "location_country": lambda e: e.location.get("country", ""),
    "location.postal_code": lambda e: e.location.get("postal_code", ""),
    "location_postal_code": lambda e: e.location.get("postal_code", ""),
    # Any language: one string per language, joined where no word spans two.
    "artist": lambda e: "\n".join(e.artists.values()),
}


@bp.get("/events/<uid>")
def event(uid: str) -> Response:
    app = _app()
    apply_force("events.read")
    return hal(renderer().event(_visible_event(uid, app)))


@bp.get("/channels/<uid>")
def channel(uid: str) -> Response:
    """An application's online sales channel; upstream asks no credentials."""
    cat = sandbox().cat
    app = cat.application_by_channel(uid)
    apply_force("channels.read", {"application": app.key if app else None})
    if app is None:
        raise errors.NotFound(f"Channel {uid} does not exist.")
    now, r = current_session().now(), renderer()
    on_sale = sorted(
        (e for key, e in cat.events.items() if key in app.events and e.on_sale(now)),
        key=lambda e: (e.event_start, e.uid),
    )
    return hal(
        {
            "_links": r.links(r.uri(f"/channels/{uid}"), "channel"),
            "uid": uid,
            "title": i18n(
                {
                    "en": f"Online sales of {app.name}",
                    "nl": f"Online verkoop van {app.name}",
                }
            ),
            "type": "online",
            "item_count": len(on_sale),
            "_embedded": {"shop:event": [r.event(e) for e in on_sale]},
        }
    )


@bp.get("/products")
def products() -> Response:
    app = _app()
    apply_force("products.list")
    listing.check_known(listing.PRODUCT_FILTERS)
    shop, cat = current_session().shop, sandbox().cat
    found = [p for p in cat.products.values() if p.event in app.events]
    event_ref = listing.single("event")
    if event_ref is not None:
        uid = parse_ref(event_ref, "events")
        if uid is None:
            raise listing.bad_filter("event", "is not an event URI or uid")
        found = [p for p in found if p.event == uid]
    found = _filter_products(found, shop)
    found.sort(key=lambda p: (p.event, p.viewing_order, p.uid))
    return _collection(
        "/products",
        "shop:product",
        "products",
        PRODUCT_SEARCH,
        found,
        lambda p: renderer().product(p, shop.availability(p.uid)),
    )


def _filter_products(found: list[Product], shop: Any) -> list[Product]:
    name = listing.single("name")
    if name is not None:
        found = [
            p for p in found if name.lower() in (v.lower() for v in p.name.values())
        ]
    prefix = listing.single("name__startswith")
    if prefix is not None:
        found = [
            p
            for p in found
            if any(v.lower().startswith(prefix.lower()) for v in p.name.values())
        ]
    for suffix, compare in listing.LOOKUPS.items():
        op = f"price{suffix}"
        bound = listing.resolve_filter(op, parse_amount)
        if bound is not None:
            found = [p for p in found if compare(p.price, bound)]
    soldout = listing.single("is_soldout")
    if soldout is not None:
        wanted = soldout.lower() in ("true", "1")
        found = [p for p in found if (shop.availability(p.uid) <= 0) == wanted]
    return found


@bp.get("/products/<uid>")
def product(uid: str) -> Response:
    app = _app()
    apply_force("products.read")
    found = sandbox().cat.products.get(uid)
    if found is None or found.event not in app.events:
        raise errors.NotFound(f"Product {uid} does not exist.")
    return hal(renderer().product(found, current_session().shop.availability(uid)))


@bp.get("/payment-methods/<uid>")
def payment_method(uid: str) -> Response:
    _app()
    apply_force("payment_methods.read")
    method = sandbox().cat.payment_methods.get(uid)
    if method is None:
        raise errors.NotFound(f"Payment method {uid} does not exist.")
    r = renderer()
    return hal(
        r.method_resource(r.payment_method(method), request.path, "payment_method")
    )


@bp.get("/shipping-methods/<uid>")
def shipping_method(uid: str) -> Response:
    _app()
    apply_force("shipping_methods.read")
    method = sandbox().cat.shipping_methods.get(uid)
    if method is None:
        raise errors.NotFound(f"Shipping method {uid} does not exist.")
    r = renderer()
    return hal(
        r.method_resource(r.shipping_method(method), request.path, "shipping_method")
    )


def _collection(
    path: str, rel: str, page_doc: str, search: str, items: list[Any], render: Any
) -> Response:
    size = sandbox().settings.page_size
    page, pages, chosen = listing.slice_page(items, size)
    return hal(
        renderer().collection(
            path,
            listing.kept_query(),
            page,
            pages,
            len(items),
            rel,
            [render(item) for item in chosen],
            search,
            page_doc,
            self_href(),
        )
    )
