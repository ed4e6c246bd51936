"""Export a session's whole state as JSON, and import it into a session.

A session exported and imported answers every read identically, and keeps
making the same uids: the random sources' states travel with it.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox import errors
from sandbox.domain.catalogue import Catalogue, RateLimit
from sandbox.domain.model import (
    Basket,
    Consumer,
    ExternalPurchase,
    Line,
    Order,
    Payment,
    Ticket,
)
from sandbox.domain.query import OrderIndex
from sandbox.domain.rules import Rule, RuleBook
from sandbox.domain.session import Session
from sandbox.domain.shop import Shop
from sandbox.timeutil import isoformat, parse_datetime

VERSION = 1


def _t(value: datetime | None) -> str | None:
    return isoformat(value)


def _at(value: str) -> datetime:
    """A datetime that must be there."""
    return parse_datetime(value)


def _pt(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


def _random_state(state: tuple[Any, ...]) -> list[Any]:
    return [state[0], list(state[1]), state[2]]


def _random_from(value: list[Any]) -> tuple[Any, ...]:
    gauss_next = None if value[2] is None else float(value[2])
    return (value[0], tuple(value[1]), gauss_next)


def export_session(session: Session) -> dict[str, Any]:
    shop = session.shop
    return {
        "version": VERSION,
        "session": session.name,
        "seed": session.seed,
        "random": _random_state(session.rng.getstate()),
        "faker_random": _random_state(shop.faker.random.getstate()),
        "clock": {
            "offset_seconds": session.clock.offset.total_seconds(),
            "frozen_at": _t(session.clock.frozen_at),
        },
        "order_ttl_seconds": shop.order_ttl.total_seconds(),
        "seq": shop._seq,
        "stock": dict(shop.stock),
        "seats": {
            uid: sorted([row, n] for row, n in m.taken)
            for uid, m in shop.seatmaps.items()
        },
        "orders": [_order_out(o) for o in shop.orders.values()],
        "tickets": [_ticket_out(t) for t in shop.tickets.values()],
        "baskets": [
            {
                "uid": b.uid,
                "application": b.application,
                "created": _t(b.created),
                "payload": b.payload,
                "ordered_as": b.ordered_as,
            }
            for b in shop.baskets.values()
        ],
        "outbox": [{**m, "sent_at": _t(m["sent_at"])} for m in shop.outbox],
        "rate_log": {k: [_t(t) for t in v] for k, v in shop.rate_log.items()},
        "rate_limits": {
            k: ({"orders": v.orders, "window_seconds": v.window_seconds} if v else None)
            for k, v in shop.rate_limits.items()
        },
        "rules": [_rule_out(r) for r in session.rules.rules],
        "next_rule_id": session.rules._next_id,
        "scenarios": list(session.scenarios),
        "journal": list(session.journal),
    }


def _order_out(o: Order) -> dict[str, Any]:
    return {
        "seq": o.seq,
        "uid": o.uid,
        "reference": o.reference,
        "created": _t(o.created),
        "status": o.status,
        "event": o.event,
        "application": o.application,
        "lines": [
            {
                "product": ln.product.uid,
                "quantity": ln.quantity,
                "unit_price": str(ln.unit_price),
                "unit_service_costs": str(ln.unit_service_costs),
                "parent": ln.parent.uid if ln.parent else None,
                "consumers": [c.to_dict() if c else None for c in ln.consumers],
            }
            for ln in o.lines
        ],
        "consumer": o.consumer.to_dict() if o.consumer else None,
        "shipping_consumer": o.shipping_consumer.to_dict()
        if o.shipping_consumer
        else None,
        "payment_method": o.payment_method.uid if o.payment_method else None,
        "shipping_method": o.shipping_method.uid if o.shipping_method else None,
        "external_purchases": [
            {
                "title": e.title,
                "product_reference": e.product_reference,
                "quantity": e.quantity,
                "unit_price": str(e.unit_price),
                "currency": e.currency,
            }
            for e in o.external_purchases
        ],
        "external_reference": o.external_reference,
        "redirect_url": o.redirect_url,
        "donation": str(o.donation),
        "vouchers": list(o.vouchers),
        "opt_in": o.opt_in,
        "currency": o.currency,
        "order_token": o.order_token,
        "expires_at": _t(o.expires_at),
        "cognito_user": o.cognito_user,
        "via_bearer": o.via_bearer,
        "check_consecutive_seats": o.check_consecutive_seats,
        "payments": [
            {
                "attempt": p.attempt,
                "method": p.method,
                "created": _t(p.created),
                "status": p.status,
                "reason": p.reason,
                "finished": _t(p.finished),
            }
            for p in o.payments
        ],
        "tickets": [t.uid for t in o.tickets],
        "seats": [list(s) for s in o.seats],
        "transfer_of": list(o.transfer_of),
        "in_basket": o.in_basket,
        "cancel_reason": o.cancel_reason,
        "captcha": o.captcha,
    }


def _ticket_out(t: Ticket) -> dict[str, Any]:
    return {
        "uid": t.uid,
        "code": t.code,
        "order": t.order,
        "product": t.product.uid,
        "price": str(t.price),
        "service_fee": str(t.service_fee),
        "consumer": t.consumer.to_dict() if t.consumer else None,
        "seat": list(t.seat) if t.seat else None,
        "issued": _t(t.issued),
        "status": t.status,
        "replaced_by": t.replaced_by,
        "replaces": t.replaces,
        "held_by": t.held_by,
    }


def _rule_out(r: Rule) -> dict[str, Any]:
    return {
        "id": r.id,
        "action": r.action,
        "outcome": r.outcome,
        "times": r.times,
        "match": r.match,
        "created": _t(r.created),
        "source": r.source,
        "used": r.used,
    }


def import_session(session: Session, data: dict[str, Any]) -> None:
    """Replace the session's state with an export; nothing changes if it fails."""
    try:
        built = _build(session, data)
        # A request body's decimals arrive as Decimal, which timedelta refuses.
        offset = timedelta(seconds=float(data["clock"]["offset_seconds"]))
        frozen_at = _pt(data["clock"]["frozen_at"])
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise errors.BadRequest(f"The state cannot be imported: {exc!r}.") from None
    session.reset(data["seed"])
    shop, rules = built
    session.shop = shop
    session.rng = shop.rng
    session.clock.offset = offset
    session.clock.frozen_at = frozen_at
    session.rules = rules
    session.scenarios = list(data.get("scenarios", []))
    session.journal.clear()
    session.journal.extend(data.get("journal", []))


def _build(session: Session, data: dict[str, Any]) -> tuple[Shop, RuleBook]:
    cat = session.cat
    rng = random.Random()
    rng.setstate(_random_from(data["random"]))
    shop = Shop(
        cat, rng, 0, lambda: session.clock.now(), int(data["order_ttl_seconds"])
    )
    shop.faker.random.setstate(_random_from(data["faker_random"]))
    shop._seq = int(data["seq"])
    shop.stock.update(
        {k: int(v) for k, v in data["stock"].items() if k in cat.products}
    )
    for uid, taken in data["seats"].items():
        if uid in shop.seatmaps:
            shop.seatmaps[uid].taken = {(row, int(n)) for row, n in taken}
    tickets = {t["uid"]: _ticket_in(t, cat) for t in data["tickets"]}
    shop.tickets = tickets
    shop.index = OrderIndex()
    for raw in sorted(data["orders"], key=lambda o: o["seq"]):
        order = _order_in(raw, cat, tickets)
        shop._store(order)
        if order.status == "pending" and order.expires_at is not None:
            heapq.heappush(shop._expiry, (order.expires_at, order.seq))
    shop.baskets = {
        b["uid"]: Basket(
            b["uid"],
            b["application"],
            _at(b["created"]),
            b["payload"],
            b.get("ordered_as"),
        )
        for b in data["baskets"]
    }
    shop.outbox = [{**m, "sent_at": _at(m["sent_at"])} for m in data["outbox"]]
    shop.rate_log = {k: deque(_at(t) for t in v) for k, v in data["rate_log"].items()}
    shop.rate_limits = {
        k: RateLimit(v["orders"], v["window_seconds"]) if v else None
        for k, v in data["rate_limits"].items()
    }
    rules = RuleBook()
    for r in data["rules"]:
        rule = Rule(
            r["id"],
            r["action"],
            r["outcome"],
            r["times"],
            r["match"],
            _at(r["created"]),
            r.get("source", "rule"),
            r.get("used", 0),
        )
        rules.rules.append(rule)
    rules._next_id = int(data["next_rule_id"])
    return shop, rules


def _consumer(value: dict[str, Any] | None) -> Consumer | None:
    return Consumer.from_payload(value) if value else None


def _ticket_in(t: dict[str, Any], cat: Catalogue) -> Ticket:
    return Ticket(
        uid=t["uid"],
        code=t["code"],
        order=t["order"],
        product=cat.products[t["product"]],
        price=Decimal(t["price"]),
        service_fee=Decimal(t["service_fee"]),
        consumer=_consumer(t["consumer"]),
        seat=tuple(t["seat"]) if t["seat"] else None,
        issued=_at(t["issued"]),
        status=t["status"],
        replaced_by=t["replaced_by"],
        replaces=t["replaces"],
        held_by=t["held_by"],
    )


def _order_in(o: dict[str, Any], cat: Catalogue, tickets: dict[str, Ticket]) -> Order:
    products = cat.products
    return Order(
        seq=int(o["seq"]),
        uid=o["uid"],
        reference=o["reference"],
        created=_at(o["created"]),
        status=o["status"],
        event=o["event"],
        application=o["application"],
        lines=[
            Line(
                products[ln["product"]],
                int(ln["quantity"]),
                Decimal(ln["unit_price"]),
                Decimal(ln["unit_service_costs"]),
                products[ln["parent"]] if ln["parent"] else None,
                tuple(_consumer(c) for c in ln["consumers"]),
            )
            for ln in o["lines"]
        ],
        consumer=_consumer(o["consumer"]),
        shipping_consumer=_consumer(o["shipping_consumer"]),
        payment_method=cat.payment_methods[o["payment_method"]]
        if o["payment_method"]
        else None,
        shipping_method=cat.shipping_methods[o["shipping_method"]]
        if o["shipping_method"]
        else None,
        external_purchases=[
            ExternalPurchase(
                e["title"],
                e["product_reference"],
                int(e["quantity"]),
                Decimal(e["unit_price"]),
                e["currency"],
            )
            for e in o["external_purchases"]
        ],
        external_reference=o["external_reference"],
        redirect_url=o["redirect_url"],
        donation=Decimal(o["donation"]),
        vouchers=tuple(o["vouchers"]),
        opt_in=o["opt_in"],
        currency=o["currency"],
        order_token=o["order_token"],
        expires_at=_pt(o["expires_at"]),
        cognito_user=o["cognito_user"],
        via_bearer=bool(o["via_bearer"]),
        check_consecutive_seats=bool(o["check_consecutive_seats"]),
        payments=[
            Payment(
                int(p["attempt"]),
                p["method"],
                _at(p["created"]),
                p["status"],
                p["reason"],
                _pt(p["finished"]),
            )
            for p in o["payments"]
        ],
        tickets=[tickets[uid] for uid in o["tickets"]],
        seats=[(row, int(n)) for row, n in o["seats"]],
        transfer_of=tuple(o["transfer_of"]),
        in_basket=bool(o["in_basket"]),
        cancel_reason=o["cancel_reason"],
        captcha=o.get("captcha"),
    )
