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
from sandbox.domain.clock import EARLIEST, LATEST
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
from sandbox.domain.refs import parse_ref
from sandbox.domain.rules import Rule, RuleBook, family, valid_outcomes
from sandbox.domain.session import Session
from sandbox.domain.shop import Shop
from sandbox.domain.validation import check_references
from sandbox.money import cents, parse_amount
from sandbox.timeutil import isoformat, parse_datetime, utcnow

VERSION = 1


def _t(value: datetime | None) -> str | None:
    return isoformat(value)


def _at(value: str) -> datetime:
    """A datetime that must be there."""
    return parse_datetime(value)


def _pt(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


def _money(value: Decimal) -> str:
    """An amount as the schema wants it, two decimals even from "5" in fixtures."""
    return str(cents(value))


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
                "unit_price": _money(ln.unit_price),
                "unit_service_costs": _money(ln.unit_service_costs),
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
                "unit_price": _money(e.unit_price),
                "currency": e.currency,
            }
            for e in o.external_purchases
        ],
        "external_reference": o.external_reference,
        "redirect_url": o.redirect_url,
        "donation": _money(o.donation),
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
        "price": _money(t.price),
        "service_fee": _money(t.service_fee),
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
    """Replace the session's state with an export; nothing changes if it fails.

    ``data`` has passed the ``state`` schema; :func:`check_export` then finds
    what the schema cannot see (unknown uids, broken links between orders and
    tickets, amounts, moments) before anything is built.
    """
    try:
        check_export(session.cat, data)
        built = _build(session, data)
        # A request body's decimals arrive as Decimal, which timedelta refuses.
        offset = timedelta(seconds=float(data["clock"]["offset_seconds"]))
        frozen_at = _pt(data["clock"]["frozen_at"])
    except (KeyError, ValueError, TypeError, IndexError, OverflowError) as exc:
        # Only data that did not pass the schema first gets here.
        raise errors.BadRequest(
            f"The state cannot be imported: {exc!r}.",
            [{"path": "$", "message": "is not an export of GET /_sandbox/state"}],
        ) from None
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


# -- checking an export before anything is built ------------------------------

# Every moment a session records comes from its clock, bounded to
# EARLIEST..LATEST; an expiry may lie one order TTL (at most a year) beyond.
LAST_RECORDED = LATEST + timedelta(days=366)
MAX_PROBLEMS = 50


def check_export(cat: Catalogue, data: dict[str, Any]) -> None:
    """BadRequest listing every problem of a schema-valid export, by JSON path."""
    check = _Check(cat, data)
    check.random_states()
    check.clock()
    check.stock()
    check.seats()
    check.orders()
    check.tickets()
    check.baskets()
    check.outbox()
    check.rates()
    check.rules()
    found = check.problems
    if found:
        first = found[0]
        raise errors.BadRequest(
            f"The state cannot be imported: {first['path']} {first['message']}.",
            found[:MAX_PROBLEMS],
        )


class _Check:
    """The referential checks of one export; each kind has its method."""

    def __init__(self, cat: Catalogue, data: dict[str, Any]) -> None:
        self.cat = cat
        self.data = data
        self.problems: list[dict[str, str]] = []
        self.orders_by_uid = {o["uid"]: o for o in data["orders"]}
        self.tickets_by_uid = {t["uid"]: t for t in data["tickets"]}

    def add(self, path: str, message: str) -> None:
        self.problems.append({"path": path, "message": message})

    # -- values ---------------------------------------------------------------

    def moment(
        self, path: str, value: str | None, last: datetime = LAST_RECORDED
    ) -> None:
        if value is None:
            return
        try:
            moment = parse_datetime(value)
        except ValueError:
            self.add(path, "is not an ISO 8601 datetime")
            return
        if not EARLIEST <= moment <= last:
            self.add(path, f"is not between {EARLIEST:%Y-%m-%d} and {last:%Y-%m-%d}")

    def amount(self, path: str, value: str) -> None:
        try:
            parse_amount(value)
        except ValueError as exc:
            self.add(path, str(exc))

    def known(
        self, path: str, uid: str | None, where: dict[str, Any], what: str
    ) -> bool:
        if uid is None or uid in where:
            return True
        self.add(path, f"no such {what}")
        return False

    def unique(self, path: str, value: Any, seen: set[Any], what: str) -> None:
        if value in seen:
            self.add(path, f"{what} {value!r} is listed more than once")
        seen.add(value)

    def seat(self, path: str, event_uid: str, seat: list[Any]) -> None:
        event = self.cat.events[event_uid]
        rows = {row.name: row.seats for row in event.rows}
        row, number = seat
        if number > rows.get(row, 0):
            self.add(path, f"{row}{number} is not a seat of event {event_uid}")

    # -- kinds ----------------------------------------------------------------

    def random_states(self) -> None:
        for key in ("random", "faker_random"):
            try:
                random.Random().setstate(_random_from(self.data[key]))
            except (ValueError, TypeError, OverflowError):
                self.add(f"$.{key}", "is not the state of a random generator")

    def clock(self) -> None:
        clock = self.data["clock"]
        if clock["frozen_at"] is not None:
            self.moment("$.clock.frozen_at", clock["frozen_at"], LATEST)
            return
        now = utcnow() + timedelta(seconds=float(clock["offset_seconds"]))
        if not EARLIEST <= now <= LATEST:
            self.add(
                "$.clock.offset_seconds",
                f"puts the session clock at {now:%Y-%m-%d}, not between "
                f"{EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}",
            )

    def stock(self) -> None:
        for uid in self.data["stock"]:
            self.known(f"$.stock.{uid}", uid, self.cat.products, "product")

    def seats(self) -> None:
        for uid, taken in self.data["seats"].items():
            event = self.cat.events.get(uid)
            if event is None or not event.seated:
                self.add(f"$.seats.{uid}", "no such seated event")
                continue
            for index, seat in enumerate(taken):
                self.seat(f"$.seats.{uid}[{index}]", uid, seat)

    def orders(self) -> None:
        uids: set[str] = set()
        seqs: set[int] = set()
        references: set[str] = set()
        tokens: set[str] = set()
        for index, order in enumerate(self.data["orders"]):
            path = f"$.orders[{index}]"
            self.unique(f"{path}.uid", order["uid"], uids, "order")
            self.unique(f"{path}.seq", order["seq"], seqs, "seq")
            self.unique(
                f"{path}.reference", order["reference"], references, "reference"
            )
            self.unique(f"{path}.order_token", order["order_token"], tokens, "token")
            if order["seq"] > self.data["seq"]:
                self.add(f"{path}.seq", "is beyond the export's seq")
            self.order(path, order)
        self.live_seats()

    def order(self, path: str, order: dict[str, Any]) -> None:
        cat = self.cat
        event_known = self.known(f"{path}.event", order["event"], cat.events, "event")
        self.known(
            f"{path}.application", order["application"], cat.applications, "application"
        )
        for key, methods in (
            ("payment_method", cat.payment_methods),
            ("shipping_method", cat.shipping_methods),
        ):
            self.known(f"{path}.{key}", order[key], methods, key.replace("_", " "))
        for key in ("created", "expires_at"):
            self.moment(f"{path}.{key}", order[key])
        self.amount(f"{path}.donation", order["donation"])
        for index, code in enumerate(order["vouchers"]):
            if code.strip().upper() not in cat.vouchers:
                self.add(f"{path}.vouchers[{index}]", "no such voucher")
        for index, line in enumerate(order["lines"]):
            self.line(f"{path}.lines[{index}]", line, order["event"])
        for index, item in enumerate(order["external_purchases"]):
            self.amount(
                f"{path}.external_purchases[{index}].unit_price", item["unit_price"]
            )
        for index, payment in enumerate(order["payments"]):
            self.payment(f"{path}.payments[{index}]", payment)
        self.order_tickets(path, order)
        if event_known:
            self.order_seats(path, order)

    def line(self, path: str, line: dict[str, Any], event: str) -> None:
        products = self.cat.products
        if self.known(f"{path}.product", line["product"], products, "product"):
            if products[line["product"]].event != event:
                self.add(f"{path}.product", "is not a product of the order's event")
        self.known(f"{path}.parent", line["parent"], products, "product")
        for key in ("unit_price", "unit_service_costs"):
            self.amount(f"{path}.{key}", line[key])

    def payment(self, path: str, payment: dict[str, Any]) -> None:
        methods = self.cat.payment_methods
        self.known(f"{path}.method", payment["method"], methods, "payment method")
        for key in ("created", "finished"):
            self.moment(f"{path}.{key}", payment[key])

    def order_tickets(self, path: str, order: dict[str, Any]) -> None:
        for index, uid in enumerate(order["tickets"]):
            ticket = self.tickets_by_uid.get(uid)
            if ticket is None:
                self.add(f"{path}.tickets[{index}]", "no such ticket")
            elif ticket["order"] != order["uid"]:
                self.add(f"{path}.tickets[{index}]", "is a ticket of another order")
        for index, uid in enumerate(order["transfer_of"]):
            self.known(
                f"{path}.transfer_of[{index}]", uid, self.tickets_by_uid, "ticket"
            )

    def order_seats(self, path: str, order: dict[str, Any]) -> None:
        event = self.cat.events[order["event"]]
        if order["seats"] and not event.seated:
            self.add(f"{path}.seats", "the order's event has no seats")
            return
        for index, seat in enumerate(order["seats"]):
            self.seat(f"{path}.seats[{index}]", order["event"], seat)

    def live_seats(self) -> None:
        """A seat is held by one live order at most, and taken on the map."""
        holders: dict[tuple[str, str, int], str] = {}
        for index, order in enumerate(self.data["orders"]):
            if order["status"] == "canceled" or order["event"] not in self.cat.events:
                continue
            taken = {tuple(s) for s in self.data["seats"].get(order["event"], [])}
            for number, seat in enumerate(order["seats"]):
                path = f"$.orders[{index}].seats[{number}]"
                key = (order["event"], seat[0], seat[1])
                if key in holders:
                    self.add(path, f"is held by {holders[key]} too")
                holders[key] = f"order {order['uid']}"
                if tuple(seat) not in taken:
                    self.add(path, "is not taken on the event's seat map")

    def tickets(self) -> None:
        uids: set[str] = set()
        for index, ticket in enumerate(self.data["tickets"]):
            path = f"$.tickets[{index}]"
            self.unique(f"{path}.uid", ticket["uid"], uids, "ticket")
            self.ticket(path, ticket)

    def ticket(self, path: str, ticket: dict[str, Any]) -> None:
        self.known(f"{path}.product", ticket["product"], self.cat.products, "product")
        order = self.orders_by_uid.get(ticket["order"])
        if order is None:
            self.add(f"{path}.order", "no such order")
        elif ticket["uid"] not in order["tickets"]:
            self.add(f"{path}.order", "the order does not list this ticket")
        elif ticket["seat"] is not None:
            if (
                order["event"] in self.cat.events
                and self.cat.events[order["event"]].seated
            ):
                self.seat(f"{path}.seat", order["event"], ticket["seat"])
            else:
                self.add(f"{path}.seat", "the order's event has no seats")
        for key in ("price", "service_fee"):
            self.amount(f"{path}.{key}", ticket[key])
        self.moment(f"{path}.issued", ticket["issued"])
        for key in ("replaced_by", "replaces"):
            self.known(f"{path}.{key}", ticket[key], self.tickets_by_uid, "ticket")
        self.known(f"{path}.held_by", ticket["held_by"], self.orders_by_uid, "order")

    def baskets(self) -> None:
        uids: set[str] = set()
        for index, basket in enumerate(self.data["baskets"]):
            path = f"$.baskets[{index}]"
            self.unique(f"{path}.uid", basket["uid"], uids, "basket")
            self.known(
                f"{path}.application",
                basket["application"],
                self.cat.applications,
                "application",
            )
            self.moment(f"{path}.created", basket["created"])
            ordered_as = basket.get("ordered_as")
            self.known(f"{path}.ordered_as", ordered_as, self.orders_by_uid, "order")
            self.basket_payload(f"{path}.payload", basket["payload"])

    def basket_payload(self, path: str, payload: dict[str, Any]) -> None:
        for index, selection in enumerate(payload.get("products") or []):
            uid = parse_ref(selection.get("product"), "products")
            if uid not in self.cat.products:
                self.add(f"{path}.products[{index}].product", "no such product")
        try:
            check_references(payload, self.cat)
        except errors.ApiError as exc:
            for problem in exc.errors or [{"path": "$", "message": exc.message}]:
                self.add(path + problem["path"][1:], problem["message"])

    def outbox(self) -> None:
        uids: set[str] = set()
        for index, mail in enumerate(self.data["outbox"]):
            path = f"$.outbox[{index}]"
            self.unique(f"{path}.uid", mail["uid"], uids, "mail")
            self.known(f"{path}.order", mail["order"], self.orders_by_uid, "order")
            self.moment(f"{path}.sent_at", mail["sent_at"])

    def rates(self) -> None:
        apps = self.cat.applications
        for key, log in self.data["rate_log"].items():
            self.known(f"$.rate_log.{key}", key, apps, "application")
            for index, moment in enumerate(log):
                self.moment(f"$.rate_log.{key}[{index}]", moment)
        for key in self.data["rate_limits"]:
            self.known(f"$.rate_limits.{key}", key, apps, "application")

    def rules(self) -> None:
        ids: set[int] = set()
        for index, rule in enumerate(self.data["rules"]):
            path = f"$.rules[{index}]"
            self.unique(f"{path}.id", rule["id"], ids, "rule")
            if rule["id"] >= self.data["next_rule_id"]:
                self.add(f"{path}.id", "is not below next_rule_id")
            if not family(rule["action"]):
                self.add(f"{path}.action", "no such action")
            elif rule["outcome"] not in valid_outcomes(rule["action"]):
                self.add(f"{path}.outcome", f"{rule['action']} cannot give it")
            self.moment(f"{path}.created", rule["created"])


# -- building the session's objects from a checked export ---------------------


def _build(session: Session, data: dict[str, Any]) -> tuple[Shop, RuleBook]:
    cat = session.cat
    rng = random.Random()
    rng.setstate(_random_from(data["random"]))
    shop = Shop(
        cat, rng, 0, lambda: session.clock.now(), int(data["order_ttl_seconds"])
    )
    shop.faker.random.setstate(_random_from(data["faker_random"]))
    shop._seq = int(data["seq"])
    shop.stock.update({k: int(v) for k, v in data["stock"].items()})
    for uid, taken in data["seats"].items():
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
        price=parse_amount(t["price"]),
        service_fee=parse_amount(t["service_fee"]),
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
                parse_amount(ln["unit_price"]),
                parse_amount(ln["unit_service_costs"]),
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
                parse_amount(e["unit_price"]),
                e["currency"],
            )
            for e in o["external_purchases"]
        ],
        external_reference=o["external_reference"],
        redirect_url=o["redirect_url"],
        donation=parse_amount(o["donation"]),
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
