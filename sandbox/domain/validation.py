"""Turn an order-shaped payload into a priced draft, or the upstream error.

The payload has passed its JSON Schema already (see :mod:`sandbox.web.body`);
what is checked here needs the catalogue: that products exist, belong to
one event on sale, respect their limits, and that methods and vouchers exist.
Orders, bills and baskets share it, so a bill's totals are an order's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox import errors
from sandbox.domain.catalogue import (
    Application,
    Catalogue,
    Event,
    PaymentMethod,
    Product,
    ShippingMethod,
    Voucher,
)
from sandbox.domain.model import (
    Consumer,
    ExternalPurchase,
    Line,
    Totals,
    compute_totals,
)
from sandbox.domain.refs import parse_ref
from sandbox.money import ZERO, cents, parse_amount

TRUE_STRINGS = {"true", "1", "yes"}


def as_bool(value: Any, default: bool) -> bool:
    """Booleans, and the ``"true"`` strings the orders page's examples send."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in TRUE_STRINGS
    return bool(value)


@dataclass(slots=True)
class Draft:
    """A payload resolved against the catalogue, with its price."""

    event: Event
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
    check_consecutive_seats: bool
    captcha: str | None

    @property
    def totals(self) -> Totals:
        return compute_totals(
            self.lines,
            self.payment_method,
            self.shipping_method,
            self.external_purchases,
            self.donation,
        )

    def demand(self) -> Counter[str]:
        """Units of stock per product uid, combo children included."""
        wanted: Counter[str] = Counter()
        for line in self.lines:
            wanted[line.product.uid] += line.quantity
        return wanted


def resolve(
    payload: dict[str, Any], cat: Catalogue, app: Application | None, now: datetime
) -> Draft:
    """Check ``payload`` (with ``products``) against the catalogue and price it."""
    vouchers = _vouchers(payload.get("vouchers") or [], cat)
    selections = payload.get("products") or []
    if not selections:
        raise errors.EmptyBasket()
    products = [_product(s, i, cat, app) for i, s in enumerate(selections)]
    event = _one_event(products, cat)
    _check_vouchers_event(vouchers, event)
    lines = _lines(selections, products, event, vouchers, now, cat)
    return draft_for(payload, cat, event, lines, tuple(v.code for v in vouchers))


def check_references(payload: dict[str, Any], cat: Catalogue) -> None:
    """What a payload without products names must exist: methods, vouchers."""
    _vouchers(payload.get("vouchers") or [], cat)
    _method(
        payload.get("payment_method"),
        "payment-methods",
        cat.payment_methods,
        "payment_method",
    )
    _shipping(payload.get("shipping_method"), cat)


def draft_for(
    payload: dict[str, Any],
    cat: Catalogue,
    event: Event,
    lines: list[Line],
    vouchers: tuple[str, ...] = (),
) -> Draft:
    """A draft of ``lines`` with the payload's consumer, methods and extras."""
    payment_method = _method(
        payload.get("payment_method"),
        "payment-methods",
        cat.payment_methods,
        "payment_method",
    )
    shipping_method, shipping_consumer = _shipping(payload.get("shipping_method"), cat)
    consumer = payload.get("consumer")
    return Draft(
        event=event,
        lines=lines,
        consumer=Consumer.from_payload(consumer)
        if isinstance(consumer, dict)
        else None,
        shipping_consumer=shipping_consumer,
        payment_method=payment_method,
        shipping_method=shipping_method,
        external_purchases=_external(payload.get("external_purchases") or []),
        external_reference=payload.get("external_reference"),
        redirect_url=payload.get("redirect_url"),
        donation=_donation(payload.get("donation_amount")),
        vouchers=vouchers,
        opt_in=as_bool(payload["opt_in"], False) if "opt_in" in payload else None,
        currency=(payload.get("currency") or "EUR").upper(),
        check_consecutive_seats=as_bool(payload.get("check_consecutive_seats"), True),
        captcha=payload.get("captcha"),
    )


def _vouchers(codes: list[str], cat: Catalogue) -> list[Voucher]:
    found = []
    for index, code in enumerate(codes):
        voucher = cat.vouchers.get(str(code).strip().upper())
        if voucher is None:
            raise errors.VoucherInvalid(
                f"Voucher code {code!r} is invalid.",
                [{"path": f"$.vouchers[{index}]", "message": "unknown voucher code"}],
            )
        found.append(voucher)
    return found


def _check_vouchers_event(vouchers: list[Voucher], event: Event) -> None:
    for index, voucher in enumerate(vouchers):
        if voucher.event != event.uid:
            raise errors.VoucherInvalid(
                f"Voucher code {voucher.code!r} is not valid for this event.",
                [
                    {
                        "path": f"$.vouchers[{index}]",
                        "message": "not valid for this event",
                    }
                ],
            )


def _product(
    selection: dict[str, Any], index: int, cat: Catalogue, app: Application | None
) -> Product:
    path = f"$.products[{index}].product"
    uid = parse_ref(selection.get("product"), "products")
    product = cat.products.get(uid) if uid else None
    if product is None:
        raise errors.NotFound(
            f"Product {selection.get('product')!r} does not exist.",
            [{"path": path, "message": "no such product"}],
        )
    if app is not None and product.event not in app.events:
        raise errors.Forbidden(
            f"The application may not sell product {product.uid}.",
            [
                {
                    "path": path,
                    "message": "product of an event the application cannot sell",
                }
            ],
        )
    return product


def _one_event(products: list[Product], cat: Catalogue) -> Event:
    events = {p.event for p in products}
    if len(events) > 1:
        raise errors.ConstraintViolation(
            "All products of an order must belong to one event.",
            [{"path": "$.products", "message": f"products of {len(events)} events"}],
        )
    return cat.events[events.pop()]


def _lines(
    selections: list[dict[str, Any]],
    products: list[Product],
    event: Event,
    vouchers: list[Voucher],
    now: datetime,
    cat: Catalogue,
) -> list[Line]:
    codes = {v.code.upper() for v in vouchers}
    discount = max((v.discount_percentage for v in vouchers), default=ZERO)
    problems: list[dict[str, str]] = []
    if not event.on_sale(now):
        problems.append({"path": "$.products", "message": "the event is not on sale"})
    lines: list[Line] = []
    for index, (selection, product) in enumerate(
        zip(selections, products, strict=True)
    ):
        path = f"$.products[{index}]"
        if not product.separately_saleable:
            problems.append(
                {
                    "path": f"{path}.product",
                    "message": "product cannot be bought on its own",
                }
            )
        if product.requires_voucher and product.requires_voucher.upper() not in codes:
            problems.append(
                {
                    "path": f"{path}.product",
                    "message": "product needs a voucher to be bought",
                }
            )
        quantity = selection["quantity"]
        consumers = _ticket_consumers(selection, quantity, path, problems)
        lines.append(_priced(product, quantity, discount, None, consumers))
        for child_uid in product.combo:
            child = cat.products[child_uid]
            lines.append(_priced(child, quantity, discount, product, ()))
    _check_limits(selections, products, event, problems)
    if problems:
        raise errors.ConstraintViolation(
            f"{problems[0]['path']}: {problems[0]['message']}", problems
        )
    return lines


def _priced(
    product: Product,
    quantity: int,
    discount: Decimal,
    parent: Product | None,
    consumers: tuple[Consumer | None, ...],
) -> Line:
    unit = product.price
    if discount:
        unit = cents(unit * (100 - discount) / 100)
    return Line(product, quantity, unit, product.service_costs, parent, consumers)


def _ticket_consumers(
    selection: dict[str, Any], quantity: int, path: str, problems: list[dict[str, str]]
) -> tuple[Consumer | None, ...]:
    given = selection.get("consumers")
    if given is None and isinstance(selection.get("consumer"), dict):
        # The orders page's example gives one ``consumer`` per selection.
        given = [selection["consumer"]] * quantity
    if given is None:
        return ()
    if len(given) != quantity:
        problems.append(
            {
                "path": f"{path}.consumers",
                "message": f"{len(given)} consumers for a quantity of {quantity}",
            }
        )
        return ()
    return tuple(Consumer.from_payload(c) for c in given)


def _check_limits(
    selections: list[dict[str, Any]],
    products: list[Product],
    event: Event,
    problems: list[dict[str, str]],
) -> None:
    per_product: Counter[str] = Counter()
    for selection, product in zip(selections, products, strict=True):
        per_product[product.uid] += selection["quantity"]
    by_uid = {p.uid: p for p in products}
    for uid, quantity in per_product.items():
        product = by_uid[uid]
        low, high = product.min_per_order, product.max_per_order
        if low is not None and quantity < low:
            problems.append(
                {"path": "$.products", "message": f"at least {low} of {uid} per order"}
            )
        if high is not None and quantity > high:
            problems.append(
                {"path": "$.products", "message": f"at most {high} of {uid} per order"}
            )
    total = sum(per_product.values())
    if total > event.max_quantity_per_order:
        problems.append(
            {
                "path": "$.products",
                "message": f"at most {event.max_quantity_per_order} products per order "
                "for this event",
            }
        )


def _method(value: Any, collection: str, table: dict[str, Any], field: str) -> Any:
    if value is None:
        return None
    uid = parse_ref(value, collection)
    method = table.get(uid) if uid else None
    if method is None:
        raise errors.NotFound(
            f"{field.replace('_', ' ').capitalize()} {value!r} does not exist.",
            [{"path": f"$.{field}", "message": "not found"}],
        )
    return method


def _shipping(
    value: Any, cat: Catalogue
) -> tuple[ShippingMethod | None, Consumer | None]:
    if isinstance(value, dict):
        method = _method(
            value.get("uid"),
            "shipping-methods",
            cat.shipping_methods,
            "shipping_method",
        )
        consumer = value.get("consumer")
        return method, Consumer.from_payload(consumer) if consumer else None
    return _method(
        value, "shipping-methods", cat.shipping_methods, "shipping_method"
    ), None


def _external(items: list[dict[str, Any]]) -> list[ExternalPurchase]:
    out = []
    for index, item in enumerate(items):
        price = item["unit_price"]
        title = item.get("title") or {}
        out.append(
            ExternalPurchase(
                title={"en": title} if isinstance(title, str) else title,
                product_reference=item["product_reference"],
                quantity=item["quantity"],
                unit_price=_amount(
                    price["amount"], f"$.external_purchases[{index}].unit_price.amount"
                ),
                currency=price.get("currency", "EUR").upper(),
            )
        )
    return out


def _donation(value: Any) -> Decimal:
    if value is None:
        return ZERO
    amount = value.get("amount") if isinstance(value, dict) else value
    return _amount(amount, "$.donation_amount")


def _amount(value: Any, path: str) -> Decimal:
    try:
        return parse_amount(value)
    except ValueError as exc:
        raise errors.ConstraintViolation(
            f"{path[2:]} {exc}.", [{"path": path, "message": str(exc)}]
        ) from None
