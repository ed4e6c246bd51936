"""Query strings of the list endpoints: filters and pagination."""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Response, request

from sandbox import errors, jsonio
from sandbox.timeutil import parse_datetime

# A filter's suffix and the comparison it asks for (``price__lt`` ...).
LOOKUPS: dict[str, Callable[[Any, Any], bool]] = {
    "": operator.eq,
    "__lt": operator.lt,
    "__lte": operator.le,
    "__gt": operator.gt,
    "__gte": operator.ge,
}

# The query parameters each list or resource accepts (``page`` is always one).
# The datetimes of an event take a value, or a bound with a lookup suffix.
EVENT_MOMENTS = ("sale_start", "sale_end", "event_start", "event_end")
EVENT_FILTERS = (
    "merchant_name",
    "title",
    "subtitle",
    *(name + lookup for name in EVENT_MOMENTS for lookup in LOOKUPS),
    "location.name",
    "location.postal_code",
    "location.city",
    "location.country",
    "artist",
    # The old sandbox's spellings, kept working.
    "location_name",
    "location_postal_code",
    "location_city",
    "location_country",
)
PRODUCT_FILTERS = (
    "event",
    "name",
    "name__startswith",
    "price",
    "price__lt",
    "price__lte",
    "price__gt",
    "price__gte",
    "is_soldout",
)
ORDER_FILTERS = (
    "event",
    "event__in",
    "external_reference",
    "status",
    "status__ne",
    "status__in",
    "created__lt",
    "created__lte",
    "created__gt",
    "created__gte",
)
BILL_QUERY = (
    "products",
    "payment_method",
    "shipping_method",
    "country",
    "external_purchase_amount",
    "donation_amount",
    "vouchers",
)
STOREFRONT_QUERY = (
    "event",
    "vouchers",
    "country",
    "currency",
    "cache_allowed",
    "sale",
    "basket",
)


def bad_filter(name: str, message: str) -> errors.ApiError:
    return errors.BadRequest(
        f"Query parameter {name!r} {message}.",
        [{"path": f"query.{name}", "message": message}],
    )


def values(name: str) -> list[str] | None:
    """A list filter: repeated keys and comma-separated values both count."""
    if name not in request.args:
        return None
    found = [
        part.strip() for raw in request.args.getlist(name) for part in raw.split(",")
    ]
    if not found or any(not part for part in found):
        raise bad_filter(name, "has an empty value")
    return found


def single(name: str) -> str | None:
    """A one-value filter; repeating it is refused, never last-wins."""
    given = request.args.getlist(name)
    if not given:
        return None
    if len(given) > 1:
        hint = f"; use {name}__in for a list" if f"{name}__in" in ORDER_FILTERS else ""
        raise bad_filter(name, f"is given {len(given)} times, once is allowed{hint}")
    if not given[0].strip():
        raise bad_filter(name, "is empty")
    return given[0].strip()


def moment(name: str) -> datetime | None:
    text = single(name)
    if text is None:
        return None
    try:
        return parse_datetime(text)
    except ValueError:
        raise bad_filter(name, f"is not an ISO 8601 datetime: {text!r}") from None


def page_number() -> int:
    text = single("page")
    if text is None:
        return 1
    if not text.isdigit() or int(text) < 1:
        raise bad_filter("page", "must be a whole number from 1")
    return min(int(text), 10**9)


def check_known(known: tuple[str, ...]) -> None:
    """An unknown query parameter is refused, so a typo never filters silently."""
    for name in request.args:
        if name not in known and name != "page":
            raise bad_filter(
                name,
                "is not a filter of this list (known: "
                + ", ".join(sorted(known))
                + ")",
            )


def kept_query() -> list[tuple[str, str]]:
    """The request's filters, ``page`` left out, in their order."""
    return [(k, v) for k, v in request.args.items(multi=True) if k != "page"]


def pages_for(total: int, size: int) -> int:
    return max(1, -(-total // size))


def slice_page(items: list[Any], size: int) -> tuple[int, int, list[Any]]:
    """The page asked for (past the end: the last one) of an in-memory list."""
    pages = pages_for(len(items), size)
    page = min(page_number(), pages)
    return page, pages, items[(page - 1) * size : page * size]


def hal(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        jsonio.dumps(body),
        status=status,
        headers=headers,
        mimetype="application/hal+json",
    )


def resolve_filter(name: str, parse: Callable[[str], Any]) -> Any:
    text = single(name)
    if text is None:
        return None
    try:
        return parse(text)
    except ValueError as exc:
        raise bad_filter(name, str(exc)) from None
