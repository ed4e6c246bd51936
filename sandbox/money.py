"""Money as Decimal from input to output, never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


MAXIMUM = Decimal("10000000000")


def cents(value: Decimal | int | str) -> Decimal:
    """The value rounded to the cent, half up, as money is; never ``-0.00``."""
    rounded = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    return rounded if rounded else ZERO


def parse_amount(value: object) -> Decimal:
    """A non-negative amount from JSON (number or numeric string)."""
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
        raise ValueError("amount must be a number")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError("amount must be a finite, non-negative number")
    if amount >= MAXIMUM:
        raise ValueError(f"amount must be below {MAXIMUM}")
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise ValueError("amount has more than two decimals")
    return cents(amount)


def amount_number(value: Decimal, currency: str = "EUR") -> dict[str, object]:
    """An Amount whose amount is a JSON number with two decimals (totals)."""
    return {"amount": cents(value), "currency": currency}


def amount_string(value: Decimal, currency: str = "EUR") -> dict[str, object]:
    """An Amount whose amount is a string (product prices and selections)."""
    return {"amount": str(cents(value)), "currency": currency}
