"""Many realistic orders at once, for load tests and long lists.

``POST /_sandbox/generate`` calls :func:`generate`. Each order goes through
the shop's own path (:meth:`Shop.place`, then :meth:`Shop.pay` or
:meth:`Shop.cancel`), with a consumer from the session's faker, so a
generated order is read, listed and changed like any other.

Three departures keep 100,000 orders fast and small, on purpose:

- consumers come from a pool of at most :data:`POOL` fake people, shared by
  the orders that drew them (a consumer change makes a new one, never edits
  a shared one);
- generated orders leave availability, the captcha rate limit and the
  outbox as they were, so that any number fits and a test placing an order
  afterwards is not refused because of them;
- they share their product lines, which nothing changes after placing.
"""

from __future__ import annotations

from dataclasses import replace

from sandbox import errors
from sandbox.domain.access import Principal
from sandbox.domain.catalogue import Application
from sandbox.domain.model import Order
from sandbox.domain.shop import Shop
from sandbox.domain.validation import Draft, resolve

MAX_ORDERS = 200_000
POOL = 1000
OUTCOMES = {
    "pending": None,
    "completed": "paid",
    "failed": "failed",
    "canceled": "canceled",
}


def generate(
    shop: Shop,
    count: int,
    status: str,
    product: str | None = None,
    application: str | None = None,
    quantity: int = 1,
) -> list[Order]:
    """Place ``count`` orders of one product and bring them to ``status``."""
    if status not in OUTCOMES:
        raise errors.BadRequest(
            f"Cannot generate orders that are {status!r}.",
            [{"path": "$.status", "message": "one of " + ", ".join(OUTCOMES)}],
        )
    app = _application(shop, application)
    uid = product or _default_product(shop, app)
    chosen = shop.cat.products.get(uid)
    if chosen is None or chosen.seated:
        raise errors.BadRequest(
            f"Product {uid!r} cannot be generated: unknown or seated.",
            [{"path": "$.product", "message": "an unseated product of the fixtures"}],
        )
    payload = {
        "products": [{"product": uid, "quantity": quantity}],
        "payment_method": _cheapest_payment(shop),
    }
    draft = resolve(payload, shop.cat, app, shop.now())
    pool = [shop.fake_consumer() for _ in range(min(count, POOL))]
    orders = [
        _one(shop, replace(draft, consumer=shop.rng.choice(pool)), app, status)
        for _ in range(count)
    ]
    shop.compact_expiry()
    return orders


def _one(shop: Shop, draft: Draft, app: Application, status: str) -> Order:
    demand = draft.demand()
    stock = {uid: shop.stock[uid] for uid in demand}
    log = shop.rate_log.get(app.key)
    logged, mailed = (len(log) if log is not None else 0), len(shop.outbox)
    for uid, wanted in demand.items():
        shop.stock[uid] += wanted
    order = shop.place(draft, Principal(app=app, via="basic"))
    outcome = OUTCOMES[status]
    if outcome is not None and order.status == "pending":
        shop.pay(order, outcome)
    # What the generated order took or logged goes back (see the module's doc).
    shop.stock.update(stock)
    del shop.outbox[mailed:]
    log = shop.rate_log.get(app.key)
    while log is not None and len(log) > logged:
        log.pop()
    return order


def _application(shop: Shop, key: str | None) -> Application:
    if key is None:
        found = next(
            (
                a
                for a in shop.cat.applications.values()
                if a.secret and a.may("orders.create") and not a.is_merchant
            ),
            None,
        )
    else:
        found = shop.cat.applications.get(key)
    if found is None or not found.may("orders.create"):
        raise errors.BadRequest(
            f"No application {key!r} that may create orders.",
            [{"path": "$.application", "message": "an application of the fixtures"}],
        )
    return found


def _default_product(shop: Shop, app: Application) -> str:
    now = shop.now()
    for event in sorted(app.events):
        if not shop.cat.events[event].on_sale(now):
            continue
        for product in shop.cat.products_of(event):
            if (
                product.separately_saleable
                and not product.seated
                and not product.requires_voucher
                and not product.free
            ):
                return product.uid
    raise errors.BadRequest("The application has no product on sale to generate.")


def _cheapest_payment(shop: Shop) -> str:
    return min(shop.cat.payment_methods.values(), key=lambda m: m.costs).uid
