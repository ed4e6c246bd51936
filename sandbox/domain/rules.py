"""Rules armed through the control plane: force an outcome on a later request.

A rule names an action, the error (or payment outcome) it forces, how many
times it fires (0: until disarmed) and what the request must match. Taking a
rule happens under the session lock, so ``times: 1`` fires exactly once
however many requests arrive together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

COMMON = (
    "UNAUTHORIZED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BAD_REQUEST",
    "INTERNAL_SERVER_ERROR",
)
ORDER_CREATE = (
    "PAYMENT_METHOD_MISSING",
    "EMPTY_BASKET",
    "CONSUMER_MISSING",
    "CONSTRAINT_VIOLATION",
    "NO_TICKETS_OR_PRODUCTS_PROVIDED",
    "BOTH_TICKETS_AND_PRODUCTS_PROVIDED",
    "TICKET_ERROR",
    "TICKET_NOT_AVAILABLE",
    "NO_CONSUMER_URI_OR_INFO_PROVIDED",
    "TICKET_CONSUMER_ERROR",
    "INSUFFICIENT_CONSECUTIVE_SEATS",
    "VOUCHER_INVALID",
    "CAPTCHA_INVALID",
    "CAPTCHA_RATE_LIMIT_REACHED",
    "CAPTCHA_INVALID_DOMAIN",
    "10MER",
)
BILL = (
    "PAYMENT_METHOD_MISSING",
    "EMPTY_BASKET",
    "CONSUMER_MISSING",
    "CONSTRAINT_VIOLATION",
    "VOUCHER_INVALID",
    "NO_TICKETS_OR_PRODUCTS_PROVIDED",
)
PAYMENT_OUTCOMES = ("paid", "failed", "canceled")

# Every mirrored call that can fail, with the errors it can give.
ACTIONS: dict[str, tuple[str, ...]] = {
    "orders.create": COMMON + ORDER_CREATE,
    "orders.read": COMMON,
    "orders.list": COMMON,
    "orders.update": COMMON
    + ("ORDER_CANNOT_BE_MODIFIED", "CONSUMER_MISSING", "CONSTRAINT_VIOLATION"),
    "orders.repayment": COMMON,
    "orders.refund_access": COMMON,
    "orders.upsell": COMMON,
    "baskets.create": COMMON + BILL,
    "baskets.read": COMMON,
    "baskets.update": COMMON + BILL,
    "bill": COMMON + BILL,
    "ordercancellation": COMMON,
    "tickets.read": COMMON,
    "storefront": COMMON,
    "events.list": COMMON,
    "events.read": COMMON,
    "products.list": COMMON,
    "products.read": COMMON,
    "payment_methods.read": COMMON,
    "shipping_methods.read": COMMON,
    "sales.read": COMMON,
    "channels.read": COMMON,
    "payment": PAYMENT_OUTCOMES,
}
MATCH_KEYS = ("external_reference", "email", "product", "application", "order", "event")


def family(action: str) -> list[str]:
    """The actions a name covers: itself, or for ``baskets.*`` every basket call."""
    if action.endswith(".*"):
        return [name for name in ACTIONS if name.startswith(action[:-1])]
    return [action] if action in ACTIONS else []


def valid_outcomes(action: str) -> tuple[str, ...]:
    """What every action the name covers can give; KeyError for an unknown one."""
    covered = family(action)
    if not covered:
        raise KeyError(action)
    return tuple(
        o for o in ACTIONS[covered[0]] if all(o in ACTIONS[name] for name in covered)
    )


@dataclass(slots=True)
class Rule:
    id: int
    action: str
    outcome: str
    times: int
    match: dict[str, str]
    created: datetime
    source: str = "rule"
    used: int = 0
    fired_at: list[datetime] = field(default_factory=list)

    @property
    def left(self) -> int | None:
        return None if self.times == 0 else self.times - self.used

    def matches(self, action: str, fields: dict[str, Any]) -> bool:
        if action != self.action and not self._wildcard(action):
            return False
        for key, wanted in self.match.items():
            if not _field_matches(fields.get(key), wanted):
                return False
        return True

    def _wildcard(self, action: str) -> bool:
        return self.action.endswith(".*") and action.startswith(self.action[:-1])


def _field_matches(value: Any, wanted: str) -> bool:
    if value is None:
        return False
    values = value if isinstance(value, (set, frozenset, list, tuple)) else [value]
    return any(str(v).lower() == str(wanted).lower() for v in values)


class RuleBook:
    """The armed rules of one session, in arming order."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self._next_id = 1

    def arm(
        self,
        action: str,
        outcome: str,
        times: int,
        match: dict[str, str],
        now: datetime,
        source: str = "rule",
    ) -> Rule:
        rule = Rule(self._next_id, action, outcome, times, dict(match), now, source)
        self._next_id += 1
        self.rules.append(rule)
        return rule

    def take(self, action: str, fields: dict[str, Any], now: datetime) -> Rule | None:
        """Use up the first armed rule that matches, if any."""
        for rule in self.rules:
            if rule.matches(action, fields):
                rule.used += 1
                rule.fired_at.append(now)
                if rule.times and rule.used >= rule.times:
                    self.rules.remove(rule)
                return rule
        return None

    def disarm(self, rule_id: int | None = None) -> int:
        before = len(self.rules)
        self.rules = [r for r in self.rules if rule_id is not None and r.id != rule_id]
        return before - len(self.rules)
