"""One session's shop: stock, seats, orders, tickets and what happens to them.

Every method runs under the session's lock (see :mod:`sandbox.domain.session`),
so checking and taking stock, seats and rules are one atomic step.
"""

from __future__ import annotations

import heapq
import random
import string
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from faker import Faker

from sandbox import errors
from sandbox.domain.access import Principal
from sandbox.domain.catalogue import Catalogue, RateLimit
from sandbox.domain.model import Basket, Consumer, Order, Payment, Ticket
from sandbox.domain.query import OrderIndex
from sandbox.domain.seating import Seat, SeatMap
from sandbox.domain.validation import Draft

# What the control plane or a rule may force; returns an error type or None.
Force = Callable[[], str | None]
TOKEN_ALPHABET = string.ascii_letters + string.digits


def no_force() -> str | None:
    return None


class Shop:
    """The mutable world of one session, built from the shared catalogue."""

    def __init__(
        self,
        cat: Catalogue,
        rng: random.Random,
        faker_seed: int,
        now: Callable[[], datetime],
        order_ttl: int,
    ) -> None:
        self.cat = cat
        self.rng = rng
        self.now = now
        self.order_ttl = timedelta(seconds=order_ttl)
        self.faker = Faker("en_US")
        self.faker.seed_instance(faker_seed)
        self.stock = {uid: p.availability for uid, p in cat.products.items()}
        self.seatmaps = {uid: SeatMap(e) for uid, e in cat.events.items() if e.seated}
        self.orders: dict[str, Order] = {}
        self.index = OrderIndex()
        self.tickets: dict[str, Ticket] = {}
        self.baskets: dict[str, Basket] = {}
        self.references: dict[str, str] = {}
        self.tokens: dict[str, str] = {}
        self.outbox: list[dict[str, Any]] = []
        self.rate_log: dict[str, deque[datetime]] = {}
        self.rate_limits: dict[str, RateLimit | None] = {}
        self._expiry: list[tuple[datetime, int]] = []
        self._seq = 0

    # -- identifiers, from the session's one seeded random source ------------

    def new_uid(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def new_reference(self) -> str:
        while True:
            reference = str(self.rng.randint(100000, 99999999))
            if reference not in self.references:
                return reference

    def new_token(self) -> str:
        return "".join(self.rng.choices(TOKEN_ALPHABET, k=40))

    def new_barcode(self) -> str:
        return "".join(self.rng.choices(string.digits, k=16))

    def fake_consumer(self) -> Consumer:
        f = self.faker
        first, last = f.first_name(), f.last_name()
        return Consumer(
            first_name=first,
            last_name=last,
            email=f"{first}.{last}@example.com".lower(),
            date_of_birth=f.date_of_birth(minimum_age=18, maximum_age=80).isoformat(),
            gender=self.rng.choice((0, 1, 2, 9)),
            address=f.street_address(),
            postal_code=f.postcode(),
            city=f.city(),
            country="NL",
        )

    # -- reading --------------------------------------------------------------

    def order(self, uid: str) -> Order:
        order = self.orders.get(uid)
        if order is None:
            raise errors.NotFound(f"Order {uid} does not exist in this session.")
        return order

    def by_reference(self, reference: str) -> Order | None:
        uid = self.references.get(reference.strip())
        return self.orders.get(uid) if uid else None

    def availability(self, product_uid: str) -> int:
        product = self.cat.products[product_uid]
        if product.seated:
            return min(self.stock[product_uid], self.seatmaps[product.event].free)
        return self.stock[product_uid]

    # -- placing an order from products ---------------------------------------

    def check_captcha(self, principal: Principal, captcha: str | None) -> None:
        """A given captcha must be valid; past the rate limit one is needed."""
        app = principal.require_app()
        if captcha is not None:
            domain = self.cat.captcha_tokens.get(captcha)
            if domain is None:
                raise errors.CaptchaInvalid(
                    "Captcha token is invalid.",
                    [{"path": "$.captcha", "message": "unknown captcha token"}],
                )
            if domain not in app.captcha_domains:
                raise errors.CaptchaInvalidDomain(
                    errors=[
                        {
                            "path": "$.captcha",
                            "message": f"solved for {domain}, not a domain "
                            "of the application",
                        }
                    ]
                )
            return
        limit = self.rate_limit(app.key)
        if limit is not None and self._recent_orders(app.key, limit) >= limit.orders:
            raise errors.CaptchaRateLimitReached(
                f"More than {limit.orders} orders in {limit.window_seconds} seconds; "
                "resolve a captcha and send its token as 'captcha'.",
                [{"path": "$.captcha", "message": "a captcha token is required"}],
            )

    def rate_limit(self, app_key: str) -> RateLimit | None:
        if app_key in self.rate_limits:
            return self.rate_limits[app_key]
        return self.cat.applications[app_key].rate_limit

    def _recent_orders(self, app_key: str, limit: RateLimit) -> int:
        log = self.rate_log.setdefault(app_key, deque())
        since = self.now() - timedelta(seconds=limit.window_seconds)
        while log and log[0] <= since:
            log.popleft()
        return len(log)

    def check_ten_mer(self, draft: Draft) -> None:
        email = draft.consumer.email if draft.consumer else None
        for rule in self.cat.ten_mer:
            if email and rule.blocks(draft.event.uid, email):
                raise errors.TenMer()

    def check_stock(self, draft: Draft) -> None:
        problems = []
        for uid, wanted in draft.demand().items():
            left = self.availability(uid)
            if wanted > left:
                problems.append(
                    {
                        "path": "$.products",
                        "message": f"{wanted} of {uid} asked, {left} available",
                    }
                )
        if problems:
            raise errors.ConstraintViolation(
                f"Not enough availability: {problems[0]['message']}.", problems
            )

    def place(
        self,
        draft: Draft,
        principal: Principal,
        force: Force = no_force,
        transfer_of: tuple[str, ...] = (),
        fixed: dict[str, str] | None = None,
    ) -> Order:
        """Create the order of a checked draft: take stock and seats, or refuse."""
        app = principal.require_app()
        forced = force()
        if forced is not None and forced != "INSUFFICIENT_CONSECUTIVE_SEATS":
            errors.raise_forced(forced)
        if not transfer_of:
            self.check_stock(draft)
        order = self._new_order(draft, principal, app.key, transfer_of, fixed or {})
        seats = self._seats(order, draft, forced is not None)
        if seats is None:
            return self._refuse_for_seats(order)
        order.seats = seats
        for uid, wanted in draft.demand().items():
            if not transfer_of:
                self.stock[uid] -= wanted
        self._store(order)
        self.rate_log.setdefault(app.key, deque()).append(order.created)
        if order.totals.free:
            self._complete(order)
        else:
            order.payments.append(
                Payment(1, _uid_of(order.payment_method), order.created)
            )
            assert order.expires_at is not None
            heapq.heappush(self._expiry, (order.expires_at, order.seq))
        self._confirmation_email(order)
        return order

    def _new_order(
        self,
        draft: Draft,
        principal: Principal,
        app_key: str,
        transfer_of: tuple[str, ...],
        fixed: dict[str, str],
    ) -> Order:
        now = self.now()
        self._seq += 1
        return Order(
            seq=self._seq,
            uid=fixed.get("uid") or self.new_uid(),
            reference=fixed.get("reference") or self.new_reference(),
            created=now,
            status="pending",
            event=draft.event.uid,
            application=app_key,
            lines=draft.lines,
            consumer=draft.consumer,
            shipping_consumer=draft.shipping_consumer,
            payment_method=draft.payment_method,
            shipping_method=draft.shipping_method,
            external_purchases=draft.external_purchases,
            external_reference=draft.external_reference,
            redirect_url=draft.redirect_url,
            donation=draft.donation,
            vouchers=draft.vouchers,
            opt_in=draft.opt_in,
            currency=draft.currency,
            order_token=fixed.get("order_token") or self.new_token(),
            expires_at=now + self.order_ttl,
            cognito_user=principal.cognito_user,
            via_bearer=principal.via == "bearer",
            check_consecutive_seats=draft.check_consecutive_seats,
            transfer_of=transfer_of,
            captcha=draft.captcha,
        )

    def _seats(self, order: Order, draft: Draft, forced: bool) -> list[Seat] | None:
        seatmap = self.seatmaps.get(draft.event.uid)
        if seatmap is None or order.transfer_of:
            return [] if not forced else None
        if forced:
            return None
        taken: list[Seat] = []
        for line in order.lines:
            if not line.product.seated:
                continue
            found = seatmap.allocate(line.quantity, order.check_consecutive_seats)
            if found is None:
                seatmap.release(taken)
                return None
            taken.extend(found)
        return taken

    def _refuse_for_seats(self, order: Order) -> Order:
        # The orders page: "There are not enough seats available in the same row.
        # The order has been cancelled." The refused order is kept, canceled.
        order.status = "canceled"
        order.expires_at = None
        order.cancel_reason = "INSUFFICIENT_CONSECUTIVE_SEATS"
        self._store(order)
        raise errors.InsufficientConsecutiveSeats(order=order.uid)

    def _store(self, order: Order) -> None:
        self.orders[order.uid] = order
        self.references[order.reference] = order.uid
        self.tokens[order.order_token] = order.uid
        self.index.add(order)

    def set_status(self, order: Order, status: str) -> None:
        old, order.status = order.status, status
        self.index.status_changed(order, old)

    # -- what happens after creation ------------------------------------------

    def pay(self, order: Order, outcome: str, forced: str | None = None) -> Order:
        """Record the outcome of the hosted payment: paid, failed or canceled."""
        self.expire_due()
        if order.in_basket:
            self.reorder_for_payment(order)
        payment = order.payment
        if order.status != "pending" or payment is None or payment.status != "pending":
            raise errors.BadRequest(
                f"Order {order.uid} has no payment waiting (status {order.status}, "
                f"payment {payment.status if payment else None})."
            )
        outcome = forced or outcome
        payment.finished = self.now()
        payment.status = outcome
        if outcome == "paid":
            self._complete(order)
        elif outcome == "failed":
            payment.reason = "The payment service provider declined the payment."
        else:
            payment.reason = "The consumer canceled the payment."
            self.cancel(order, "Payment canceled by the consumer.")
        return order

    def reorder_for_payment(self, order: Order) -> None:
        """A basket made by a repayment becomes a pending order again."""
        order.in_basket = False
        order.payments.append(
            Payment(len(order.payments) + 1, _uid_of(order.payment_method), self.now())
        )

    def _complete(self, order: Order) -> None:
        self.set_status(order, "completed")
        order.expires_at = None
        if order.payment is not None:
            order.payment.status = "paid"
        if order.transfer_of:
            self._finish_transfer(order)
        else:
            self._issue_tickets(order)

    def _issue_tickets(self, order: Order) -> None:
        seats = iter(order.seats)
        for line in order.lines:
            for unit in range(line.quantity):
                consumer = line.consumers[unit] if line.consumers else None
                seat = next(seats, None) if line.product.seated else None
                self._new_ticket(
                    order,
                    line.product,
                    line.unit_price,
                    line.unit_service_costs,
                    consumer,
                    seat,
                )

    def _new_ticket(
        self,
        order: Order,
        product: Any,
        price: Any,
        fee: Any,
        consumer: Consumer | None,
        seat: Seat | None,
        uid: str | None = None,
    ) -> Ticket:
        ticket = Ticket(
            uid=uid or self.new_uid(),
            code=self.new_barcode(),
            order=order.uid,
            product=product,
            price=price,
            service_fee=fee,
            consumer=consumer,
            seat=seat,
            issued=self.now(),
        )
        self.tickets[ticket.uid] = ticket
        order.tickets.append(ticket)
        return ticket

    def _finish_transfer(self, order: Order) -> None:
        for uid in order.transfer_of:
            old = self.tickets[uid]
            new = self._new_ticket(
                order, old.product, old.price, old.service_fee, order.consumer, old.seat
            )
            new.replaces = old.uid
            old.status, old.replaced_by, old.held_by = "invalid", new.uid, None

    def cancel(self, order: Order, reason: str | None) -> Order:
        """Cancel an unpaid order: its stock, seats and held tickets come back."""
        self.set_status(order, "canceled")
        order.cancel_reason = reason
        order.expires_at = None
        order.in_basket = False
        payment = order.payment
        if payment is not None and payment.status == "pending":
            payment.status, payment.reason = "canceled", reason
        if order.transfer_of:
            for uid in order.transfer_of:
                self.tickets[uid].held_by = None
        else:
            for uid, quantity in _demand(order).items():
                self.stock[uid] += quantity
        seatmap = self.seatmaps.get(order.event)
        if seatmap is not None:
            seatmap.release(order.seats)
        return order

    def compact_expiry(self) -> None:
        """Drop the expiry entries of orders no longer pending.

        They wait in the heap until their time comes, which is cheap for a
        few orders and 100 bytes each for 100,000 settled at once.
        """
        pending = [
            (at, seq)
            for at, seq in self._expiry
            if self.index.by_seq[seq].status == "pending"
        ]
        heapq.heapify(pending)
        self._expiry = pending

    def expire_due(self) -> int:
        """Cancel the unpaid orders whose time ran out on the session clock."""
        now, expired = self.now(), 0
        while self._expiry and self._expiry[0][0] <= now:
            _, seq = heapq.heappop(self._expiry)
            order = self.index.by_seq[seq]
            if (
                order.status == "pending"
                and order.expires_at
                and order.expires_at <= now
            ):
                self.cancel(order, "The order expired before it was paid.")
                expired += 1
        return expired

    def send_email(
        self,
        to: str | None,
        subject: str,
        body: str,
        kind: str,
        order: Order | None,
        links: dict[str, str],
    ) -> None:
        self.outbox.append(
            {
                "uid": self.new_uid(),
                "to": to,
                "subject": subject,
                "body": body,
                "kind": kind,
                "order": order.uid if order else None,
                "sent_at": self.now(),
                "links": links,
            }
        )

    def _confirmation_email(self, order: Order) -> None:
        name = order.consumer.first_name if order.consumer else "customer"
        self.send_email(
            order.consumer.email if order.consumer else None,
            f"Your order {order.reference}",
            f"Dear {name},\n\nThank you for your order {order.reference}. Manage it "
            "with the link below; it carries your Order token.\n\n{order_link}\n",
            "order_confirmation",
            order,
            {"order_link": f"/orders/{order.uid}?order_token={order.order_token}"},
        )

    # -- baskets --------------------------------------------------------------

    def new_basket(
        self, app_key: str, payload: dict[str, Any], uid: str | None = None
    ) -> Basket:
        basket = Basket(uid or self.new_uid(), app_key, self.now(), payload)
        self.baskets[basket.uid] = basket
        return basket


def _uid_of(method: Any) -> str | None:
    return method.uid if method is not None else None


def _demand(order: Order) -> dict[str, int]:
    wanted: dict[str, int] = {}
    for line in order.lines:
        wanted[line.product.uid] = wanted.get(line.product.uid, 0) + line.quantity
    return wanted
