"""The three ways to create an order, and the order actions after creation.

Each function takes the session's :class:`Shop` and the caller's
:class:`Principal`; the web layer has validated the body's shape already.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sandbox import errors
from sandbox.domain.access import Principal, app_may_access, token_may_access
from sandbox.domain.catalogue import Application, PaymentMethod
from sandbox.domain.model import Basket, Consumer, Line, Order
from sandbox.domain.refs import parse_ref
from sandbox.domain.shop import Force, Shop, no_force
from sandbox.domain.validation import Draft, draft_for, resolve
from sandbox.money import ZERO


def check_payable(draft: Draft) -> None:
    """A non-free order needs a payment method, and the fields it requires."""
    if draft.totals.free:
        return
    method = draft.payment_method
    if method is None:
        raise errors.PaymentMethodMissing(
            "A payment method is needed for an order of "
            f"{draft.totals.grand_total} EUR; a bill lists the available ones.",
            [{"path": "$.payment_method", "message": "is a required property"}],
        )
    check_consumer_fields(method, draft.consumer)


def check_consumer_fields(method: PaymentMethod, consumer: Consumer | None) -> None:
    """The consumer fields that the payment method requires are all given."""
    given = consumer.to_dict() if consumer else {}
    missing = [f for f in method.required_consumer_fields if f not in given]
    if missing:
        raise errors.ConsumerMissing(
            f"consumer.{missing[0]} is required by the payment method.",
            [
                {
                    "path": f"$.consumer.{f}",
                    "message": "is required by the payment method",
                }
                for f in missing
            ],
        )


def place_from_products(
    shop: Shop, payload: dict[str, Any], principal: Principal, force: Force = no_force
) -> Order:
    app = principal.require_permission("orders.create")
    shop.check_captcha(principal, payload.get("captcha"))
    draft = resolve(payload, shop.cat, app, shop.now())
    check_payable(draft)
    shop.check_ten_mer(draft)
    return shop.place(draft, principal, force)


# -- from a basket ------------------------------------------------------------

REPAYMENT_CHANGES = {"basket", "payment_method", "consumer"}


def find_basket(shop: Shop, ref: Any) -> tuple[Basket | None, Order | None]:
    """The basket a reference names: a stored one, or an order reset by repayment."""
    uid = parse_ref(ref, "baskets", "basket")
    order = shop.orders.get(uid) if uid else None
    if order is not None and order.in_basket:
        return None, order
    if order is not None:
        # The basket of a repayment is gone once the order expired, was
        # canceled or was ordered again: the orders page answers 400 then.
        raise errors.BadRequest(
            f"Order {order.uid} is {order.status} and no longer a basket; "
            "retrying its payment is not possible now.",
            [{"path": "$.basket", "message": "not a repayment basket (any more)"}],
        )
    basket = shop.baskets.get(uid) if uid else None
    if basket is None:
        raise errors.NotFound(
            f"Basket {ref!r} does not exist.",
            [{"path": "$.basket", "message": "no such basket"}],
        )
    return basket, None


def basket_payload(
    basket: Basket, principal: Principal, payload: dict[str, Any]
) -> dict[str, Any]:
    """The basket's data overwritten by the request's, for a new order."""
    app = principal.require_permission("orders.create")
    if basket.application != app.key:
        raise errors.Forbidden("The basket belongs to another application.")
    if basket.ordered_as is not None:
        raise errors.BadRequest(
            f"Basket {basket.uid} was ordered already as order {basket.ordered_as}."
        )
    changes = {k: v for k, v in payload.items() if k != "basket"}
    return {**basket.payload, **changes}


def reorder_repayment(
    shop: Shop, order: Order, principal: Principal, payload: dict[str, Any]
) -> Order:
    """A basket made by a repayment: only payment method and consumer change."""
    if principal.order_token is None and principal.cognito_user is None:
        raise errors.Unauthorized("Ordering a repayment basket needs its Order-Token.")
    if not token_may_access(principal, order):
        raise errors.Forbidden("The Order-Token is not the one of this basket.")
    reorder_repayment_basket(shop, order, payload)
    shop.reorder_for_payment(order)
    return order


def reorder_repayment_basket(shop: Shop, order: Order, payload: dict[str, Any]) -> None:
    """Change a repayment basket: its payment method and consumer, nothing else."""
    for key, value in payload.items():
        if key not in REPAYMENT_CHANGES and not _unchanged(order, key, value):
            raise errors.BadRequest(
                f"Only the payment method and the consumer may change after a "
                f"repayment; {key!r} cannot.",
                [{"path": f"$.{key}", "message": "cannot change after a repayment"}],
            )
    method, consumer = order.payment_method, order.consumer
    if "payment_method" in payload:
        draft_method = parse_ref(payload["payment_method"], "payment-methods")
        method = shop.cat.payment_methods.get(draft_method or "")
        if method is None:
            raise errors.NotFound(
                f"Payment method {payload['payment_method']!r} does not exist.",
                [{"path": "$.payment_method", "message": "not found"}],
            )
    if "consumer" in payload:
        consumer = Consumer.from_payload(payload["consumer"])
    # Checked before anything changes: nothing is stored when a request fails.
    if method is not None and not order.totals.free:
        check_consumer_fields(method, consumer)
    order.payment_method, order.consumer = method, consumer


def _unchanged(order: Order, key: str, value: Any) -> bool:
    if key == "shipping_method":
        uid = value.get("uid") if isinstance(value, dict) else value
        current = order.shipping_method.uid if order.shipping_method else None
        return parse_ref(uid, "shipping-methods") == current
    if key in ("external_reference", "redirect_url"):
        return bool(getattr(order, key) == value)
    return False


# -- transferring tickets -----------------------------------------------------


def transfer(
    shop: Shop, payload: dict[str, Any], principal: Principal, force: Force = no_force
) -> Order:
    """Move tickets of one completed order to a new order and owner."""
    app = principal.require_app()
    if not principal.basic:
        raise errors.Forbidden("Transferring tickets needs Basic authentication.")
    if not app.may("orders.transfer"):
        raise errors.Forbidden(f"The application {app.key!r} may not transfer tickets.")
    tickets = _transferable(shop, payload["tickets"])
    origin = shop.order(tickets[0].order)
    if not token_may_access(principal, origin):
        raise errors.Forbidden(
            "Transferring tickets needs the Order-Token or Cognito-Token of "
            "their order."
        )
    consumer = payload.get("consumer")
    if not isinstance(consumer, dict) or set(consumer) <= {"uid"}:
        raise errors.NoConsumerUriOrInfoProvided(
            "The new owner's consumer data is missing or names no known consumer.",
            [{"path": "$.consumer", "message": "consumer data is required"}],
        )
    draft = _transfer_draft(shop, payload, tickets, origin)
    check_payable(draft)
    order = shop.place(
        draft, principal, force, transfer_of=tuple(t.uid for t in tickets)
    )
    if order.status == "pending":
        for ticket in tickets:
            ticket.held_by = order.uid
    return order


def _transferable(shop: Shop, refs: list[Any]) -> list[Any]:
    tickets = []
    for index, ref in enumerate(refs):
        uid = parse_ref(ref, "tickets")
        ticket = shop.tickets.get(uid or "")
        if ticket is None or ticket.status != "valid" or ticket.held_by is not None:
            raise errors.TicketNotAvailable(
                f"Ticket {ref!r} is not valid or not found.",
                [{"path": f"$.tickets[{index}]", "message": "not available"}],
            )
        tickets.append(ticket)
    if len({t.uid for t in tickets}) != len(tickets):
        raise errors.ConstraintViolation(
            "A ticket is listed more than once.",
            [{"path": "$.tickets", "message": "duplicate ticket"}],
        )
    if len({t.order for t in tickets}) > 1:
        raise errors.ConstraintViolation(
            "All tickets to transfer must belong to the same order.",
            [{"path": "$.tickets", "message": "tickets of more than one order"}],
        )
    return tickets


def _transfer_draft(
    shop: Shop, payload: dict[str, Any], tickets: list[Any], origin: Order
) -> Draft:
    # The new owner pays nothing for the tickets themselves; payment and
    # shipping costs apply when a method is given.
    counts = Counter(t.product.uid for t in tickets)
    lines = [Line(shop.cat.products[uid], n, ZERO, ZERO) for uid, n in counts.items()]
    draft = draft_for(payload, shop.cat, shop.cat.events[origin.event], lines)
    draft.check_consecutive_seats = False
    return draft


# -- after creation -----------------------------------------------------------


def repayment(shop: Shop, order: Order, principal: Principal) -> Order:
    """Reset an order whose payment failed to a basket with the same uid."""
    _same_creator(principal, order)
    if order.in_basket:
        return order
    if not order.repayable:
        state = order.payment.status if order.payment else "none"
        raise errors.BadRequest(
            f"Retrying the payment is not possible: the order is {order.status} "
            f"and its payment {state}."
        )
    order.in_basket = True
    return order


def _same_creator(principal: Principal, order: Order) -> None:
    """ "The same authentication as when you created the order"."""
    if principal.app is None and principal.cognito_user is None:
        raise errors.Unauthorized(
            "This call needs the credentials that created the order."
        )
    by_app = principal.app is not None and principal.app.key == order.application
    by_user = principal.cognito_user is not None and (
        principal.cognito_user == order.cognito_user
    )
    if not (by_app or by_user):
        raise errors.Forbidden(
            "Only the credentials that created the order may do this."
        )


def cancel(shop: Shop, order: Order, principal: Principal, reason: str | None) -> Order:
    app = principal.require_app()
    if not app.may("cancel"):
        raise errors.Forbidden(
            f"The application {app.key!r} lacks the 'cancel' permission."
        )
    if order.application != app.key:
        raise errors.Forbidden(
            "Only the application that created the order may cancel it."
        )
    if order.status != "pending":
        raise errors.BadRequest(
            f"Order {order.uid} is {order.status}: only an unpaid order can be "
            "cancelled; a paid one is refunded instead."
        )
    return shop.cancel(order, reason)


def update_consumer(
    shop: Shop, order: Order, principal: Principal, payload: dict[str, Any]
) -> Order:
    """A merchant changes the consumer data of a completed order."""
    app = principal.require_app()
    if not principal.basic:
        raise errors.Forbidden("Changing an order needs Basic authentication.")
    if not (app.is_merchant and app.may("orders.update")):
        raise errors.Forbidden(
            "Only an application with the 'merchant' role may change an order."
        )
    if not app_may_access(app, order, shop.cat, bearer=False):
        raise errors.Forbidden("The application has no access to this order.")
    if order.status != "completed":
        raise errors.OrderCannotBeModified(
            f"Order {order.uid} is {order.status}; only a completed order can be "
            "changed."
        )
    if "consumer" in payload:
        base = order.consumer or Consumer()
        order.consumer = base.merged(payload["consumer"])
    if "shipping_consumer" in payload:
        base = order.shipping_consumer or Consumer.from_payload(
            {
                k: v
                for k, v in (order.consumer.to_dict() if order.consumer else {}).items()
                if k in ("address", "postal_code", "city", "country", "state")
            }
        )
        order.shipping_consumer = base.merged(payload["shipping_consumer"])
    return order


def refund_access(shop: Shop, app: Application, email: str, reference: str) -> None:
    """Mail refund instructions when the order is refundable; say nothing else."""
    order = shop.by_reference(reference)
    if order is None or order.consumer is None or not order.consumer.email:
        return
    if order.consumer.email.lower() != email.strip().lower():
        return
    if not app_may_access(app, order, shop.cat, bearer=False):
        return
    event = shop.cat.events[order.event]
    if order.status != "completed" or not event.refundable:
        return
    shop.send_email(
        order.consumer.email,
        f"Request a refund for order {order.reference}",
        f"Dear {order.consumer.first_name or 'customer'},\n\nYou can request a refund "
        f"for order {order.reference} ({event.title['en']}) with the link below. "
        "It carries your Order token.\n\n{refund_link}\n",
        "refund_access",
        order,
        {"refund_link": f"/orders/{order.uid}?order_token={order.order_token}"},
    )
