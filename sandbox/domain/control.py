"""What the control plane does to a session, in domain terms."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sandbox import errors
from sandbox.domain.catalogue import RateLimit
from sandbox.domain.model import Order
from sandbox.domain.rules import (
    ACTIONS,
    PAYMENT_OUTCOMES,
    Rule,
    family,
    valid_outcomes,
)
from sandbox.domain.session import Session
from sandbox.timeutil import isoformat, parse_datetime, parse_duration, utcnow

log = logging.getLogger("sandbox.control")


def arm_rule(session: Session, spec: dict[str, Any], source: str = "rule") -> Rule:
    """Arm one rule after checking its action and outcome."""
    action = spec["action"]
    if not family(action):
        raise errors.BadRequest(
            f"Unknown action {action!r}.",
            [{"path": "$.action", "message": "valid: " + ", ".join(ACTIONS)}],
            valid=list(ACTIONS),
        )
    if "outcome" in spec and "error" in spec and spec["outcome"] != spec["error"]:
        raise errors.BadRequest(
            "Give the rule one outcome: 'error', or 'outcome' for a payment.",
            [{"path": "$", "message": "both error and outcome given"}],
        )
    outcome = spec.get("outcome") or spec.get("error")
    allowed = valid_outcomes(action)
    field = "outcome" if action == "payment" else "error"
    if outcome not in allowed:
        raise errors.BadRequest(
            f"{action} cannot give {outcome!r}.",
            [{"path": f"$.{field}", "message": "valid: " + ", ".join(allowed)}],
            valid=list(allowed),
        )
    match = dict(spec.get("match") or {})
    for key in ("product", "order", "event"):
        if key in match:
            match[key] = _uid(match[key])
    return session.rules.arm(
        action, outcome, spec.get("times", 1), match, session.now(), source
    )


def _uid(value: str) -> str:
    return value.rstrip("/").rsplit("/", 1)[-1]


def rule_view(rule: Rule) -> dict[str, Any]:
    key = "outcome" if rule.action == "payment" else "error"
    return {
        "id": rule.id,
        "action": rule.action,
        key: rule.outcome,
        "times": rule.times,
        "used": rule.used,
        "left": rule.left,
        "match": rule.match,
        "source": rule.source,
        "created": isoformat(rule.created),
    }


MAX_ORDER_TTL = timedelta(days=365)


def apply_overrides(session: Session, overrides: dict[str, Any]) -> None:
    """Fixture overrides for this session only: stock, rate limits, order TTL.

    Everything is checked before anything changes: a refused override
    leaves the session as it was.
    """
    shop = session.shop
    for uid in overrides.get("stock", {}):
        if uid not in shop.stock:
            raise errors.NotFound(
                f"Product {uid} does not exist.",
                [{"path": f"$.stock.{uid}", "message": "no such product"}],
            )
    for key in overrides.get("rate_limits", {}):
        if key not in shop.cat.applications:
            raise errors.NotFound(
                f"Application {key!r} does not exist.",
                [{"path": f"$.rate_limits.{key}", "message": "no such application"}],
            )
    ttl = _order_ttl(overrides["order_ttl"]) if "order_ttl" in overrides else None

    shop.stock.update(overrides.get("stock", {}))
    for key, limit in overrides.get("rate_limits", {}).items():
        shop.rate_limits[key] = (
            RateLimit(limit["orders"], limit["window_seconds"]) if limit else None
        )
    if ttl is not None:
        shop.order_ttl = ttl


def _order_ttl(text: str) -> timedelta:
    try:
        ttl = parse_duration(text)
    except ValueError as exc:
        raise errors.BadRequest(
            str(exc), [{"path": "$.order_ttl", "message": str(exc)}]
        ) from None
    if not timedelta() < ttl <= MAX_ORDER_TTL:
        message = "must be a positive duration of at most a year (P365D)"
        raise errors.BadRequest(
            f"order_ttl {message}.", [{"path": "$.order_ttl", "message": message}]
        )
    return ttl


def arm_scenario(session: Session, scenario: dict[str, Any]) -> list[Rule]:
    apply_overrides(session, scenario.get("overrides", {}))
    armed = [
        arm_rule(session, spec, source=f"scenario:{scenario['name']}")
        for spec in scenario["rules"]
    ]
    session.scenarios.append(scenario["name"])
    return armed


def move_clock(session: Session, spec: dict[str, Any]) -> None:
    # Moved on a copy first, so that a refused move changes nothing.
    clock = session.clock.copy()
    try:
        if "freeze" in spec:
            clock.freeze(bool(spec["freeze"]))
        if "now" in spec:
            clock.set(parse_datetime(spec["now"]))
        if "advance" in spec:
            clock.advance(parse_duration(spec["advance"]))
    except (ValueError, OverflowError) as exc:
        raise errors.BadRequest(
            str(exc), [{"path": "$", "message": str(exc)}]
        ) from None
    session.clock.offset, session.clock.frozen_at = clock.offset, clock.frozen_at
    session.shop.expire_due()


def clock_view(session: Session) -> dict[str, Any]:
    clock = session.clock
    return {
        "now": isoformat(clock.now()),
        "offset_seconds": int((clock.now() - utcnow()).total_seconds()),
        "frozen": clock.frozen_at is not None,
    }


def pay(session: Session, order: Order, outcome: str) -> Order:
    """The payment outcome, unless an armed ``payment`` rule says otherwise."""
    if outcome not in PAYMENT_OUTCOMES:
        raise errors.BadRequest(
            f"outcome must be one of {', '.join(PAYMENT_OUTCOMES)}.",
            [{"path": "$.outcome", "message": "unknown outcome"}],
        )
    shop = session.shop
    shop.expire_due()
    _check_payable(order)
    fields = {
        "order": order.uid,
        "external_reference": order.external_reference,
        "email": order.consumer.email if order.consumer else None,
        "application": order.application,
        "event": order.event,
        "product": {line.product.uid for line in order.lines},
    }
    rule = session.take_rule("payment", fields)
    if rule is not None:
        log.info(
            "forced payment %s on order %s by rule %s", rule.outcome, order.uid, rule.id
        )
    return shop.pay(order, outcome, rule.outcome if rule else None)


def _check_payable(order: Order) -> None:
    payment = order.payment
    waiting = order.in_basket or (payment is not None and payment.status == "pending")
    if order.status != "pending" or not waiting:
        state = payment.status if payment else "none"
        raise errors.BadRequest(
            f"Order {order.uid} has no payment waiting: it is {order.status}, its "
            f"payment {state}."
            + (" Ask for a repayment first." if state == "failed" else "")
        )


def order_secrets(session: Session, order: Order) -> dict[str, Any]:
    """What only the sandbox knows of an order."""
    return {
        "uid": order.uid,
        "reference": order.reference,
        "status": order.status,
        "order_token": order.order_token,
        "expires_at": isoformat(order.expires_at),
        "in_basket": order.in_basket,
        "application": order.application,
        "cognito_user": order.cognito_user,
        "cancel_reason": order.cancel_reason,
        "seats": [{"row": row, "seat": seat} for row, seat in order.seats],
        "payment_attempts": [
            {
                "attempt": p.attempt,
                "status": p.status,
                "reason": p.reason,
                "payment_method": p.method,
                "created": isoformat(p.created),
                "finished": isoformat(p.finished),
            }
            for p in order.payments
        ],
        "tickets": [
            {
                "uid": t.uid,
                "barcode": t.code,
                "status": t.status,
                "seat": {"row": t.seat[0], "seat": t.seat[1]} if t.seat else None,
                "replaced_by": t.replaced_by,
                "replaces": t.replaces,
            }
            for t in order.tickets
        ],
        "transfer_of": list(order.transfer_of),
    }
