"""Orders, their lines, payments, tickets and baskets, as the sandbox stores them.

An order keeps what it is (references to shared catalogue objects, amounts
as Decimal), never its rendered payload: rendering happens in one place,
:mod:`sandbox.web.hal`. Slots keep 100,000 orders small.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.domain.catalogue import PaymentMethod, Product, ShippingMethod
from sandbox.money import ZERO, cents

CONSUMER_FIELDS = (
    "uid",
    "first_name",
    "last_name",
    "date_of_birth",
    "email",
    "gender",
    "phone_number",
    "address",
    "postal_code",
    "city",
    "country",
    "state",
    "language",
    "cognito_user",
    "ip",
)
ADDRESS_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "gender",
    "address",
    "postal_code",
    "city",
    "country",
    "state",
)


class Consumer:
    """A consumer as given: only the fields that were provided are set."""

    __slots__ = CONSUMER_FIELDS
    uid: str | None
    first_name: str | None
    last_name: str | None
    date_of_birth: str | None
    email: str | None
    gender: int | None
    phone_number: str | None
    address: str | None
    postal_code: str | None
    city: str | None
    country: str | None
    state: str | None
    language: str | None
    cognito_user: str | None
    ip: str | None

    def __init__(self, **values: Any) -> None:
        for name in CONSUMER_FIELDS:
            setattr(self, name, values.get(name))

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Consumer:
        values = {k: v for k, v in payload.items() if k in CONSUMER_FIELDS}
        if values.get("gender") is not None:
            values["gender"] = int(values["gender"])
        if values.get("country"):
            values["country"] = values["country"].upper()
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for name in CONSUMER_FIELDS:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out

    def merged(self, changes: dict[str, Any]) -> Consumer:
        return Consumer.from_payload({**self.to_dict(), **changes})


@dataclass(slots=True)
class Line:
    """One product selection line; a combo child has its ``parent``."""

    product: Product
    quantity: int
    unit_price: Decimal
    unit_service_costs: Decimal
    parent: Product | None = None
    consumers: tuple[Consumer | None, ...] = ()

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity

    @property
    def service_costs(self) -> Decimal:
        return self.unit_service_costs * self.quantity


@dataclass(slots=True)
class ExternalPurchase:
    title: dict[str, str]
    product_reference: str
    quantity: int
    unit_price: Decimal
    currency: str

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(slots=True)
class Payment:
    """One attempt to pay an order."""

    attempt: int
    method: str | None
    created: datetime
    status: str = "pending"
    reason: str | None = None
    finished: datetime | None = None


@dataclass(slots=True)
class Ticket:
    uid: str
    code: str
    order: str
    product: Product
    price: Decimal
    service_fee: Decimal
    consumer: Consumer | None
    seat: tuple[str, int] | None
    issued: datetime
    status: str = "valid"
    replaced_by: str | None = None
    replaces: str | None = None
    # The pending transfer order that holds this ticket, if any.
    held_by: str | None = None


@dataclass(slots=True)
class Totals:
    product_total: Decimal
    service_costs: Decimal
    payment_costs: Decimal
    shipping_costs: Decimal
    external_total: Decimal
    donation: Decimal

    @property
    def grand_total(self) -> Decimal:
        return cents(
            self.product_total
            + self.service_costs
            + self.payment_costs
            + self.shipping_costs
            + self.external_total
            + self.donation
        )

    @property
    def free(self) -> bool:
        return self.grand_total == ZERO


def compute_totals(
    lines: list[Line],
    payment_method: PaymentMethod | None,
    shipping_method: ShippingMethod | None,
    external: list[ExternalPurchase],
    donation: Decimal,
) -> Totals:
    """The totals of an order or a bill; payment costs only when there is a due."""
    product_total = cents(sum((line.total for line in lines), ZERO))
    service = cents(sum((line.service_costs for line in lines), ZERO))
    shipping = shipping_method.costs if shipping_method else ZERO
    external_total = cents(sum((e.total for e in external), ZERO))
    due = product_total + service + shipping + external_total + donation
    payment = payment_method.costs if payment_method and due > 0 else ZERO
    return Totals(
        product_total,
        service,
        cents(payment),
        cents(shipping),
        external_total,
        cents(donation),
    )


@dataclass(slots=True)
class Order:
    seq: int
    uid: str
    reference: str
    created: datetime
    status: str
    event: str
    application: str
    lines: list[Line]
    consumer: Consumer | None
    shipping_consumer: Consumer | None
    payment_method: PaymentMethod | None
    shipping_method: ShippingMethod | None
    external_purchases: list[ExternalPurchase]
    external_reference: str | None
    redirect_url: str | None
    donation: Decimal
    vouchers: tuple[str, ...]
    opt_in: bool | None
    currency: str
    order_token: str
    expires_at: datetime | None
    cognito_user: str | None = None
    via_bearer: bool = False
    check_consecutive_seats: bool = True
    payments: list[Payment] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    seats: list[tuple[str, int]] = field(default_factory=list)
    # Tickets of another order this order transfers to a new owner.
    transfer_of: tuple[str, ...] = ()
    # Set by a repayment: the order is a basket again until re-ordered.
    in_basket: bool = False
    cancel_reason: str | None = None
    captcha: str | None = None

    @property
    def payment(self) -> Payment | None:
        return self.payments[-1] if self.payments else None

    @property
    def totals(self) -> Totals:
        return compute_totals(
            self.lines,
            self.payment_method,
            self.shipping_method,
            self.external_purchases,
            self.donation,
        )

    @property
    def repayable(self) -> bool:
        payment = self.payment
        return (
            self.status == "pending"
            and payment is not None
            and payment.status == "failed"
        )

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)


@dataclass(slots=True)
class Basket:
    """Products and order data held before ordering."""

    uid: str
    application: str
    created: datetime
    payload: dict[str, Any]
    ordered_as: str | None = None
