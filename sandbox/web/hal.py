"""Every HAL body the sandbox answers is built here, and only here.

Links are absolute on the sandbox's own base URL, so a client following them
stays in the sandbox. Amounts follow the orders page: strings inside
``product_selection`` and product prices, numbers with two decimals for
totals and method costs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from sandbox import jsonio
from sandbox.domain.catalogue import (
    Catalogue,
    Event,
    PaymentMethod,
    Product,
    ShippingMethod,
    i18n,
)
from sandbox.domain.model import ADDRESS_FIELDS, Basket, Line, Order, Ticket, Totals
from sandbox.domain.validation import Draft
from sandbox.money import amount_number, amount_string
from sandbox.timeutil import isoformat

DOCS = "https://shopping-api-docs.paylogic.com/documentation"
CURIES = [
    {
        "name": "shop",
        "href": DOCS + "/{rel}.html",
        "templated": True,
        "type": "text/html",
    }
]


# Rendered catalogue parts, keyed by (catalogue id, base URL, uid); the entry
# holds its catalogue, so an id is never reused while cached. Bounded, since
# the base URL comes from the request.
_PRODUCTS: dict[tuple[int, str, str], tuple[Catalogue, dict[str, Any]]] = {}
# Legal info per catalogue and merchant; shared, so never changed after.
_LEGAL: dict[tuple[int, str], tuple[Catalogue, Any]] = {}
MAX_CACHED = 4096


def profile(page: str) -> dict[str, str]:
    return {"href": f"{DOCS}/{page}.html", "type": "text/html"}


class Renderer:
    """Renders domain objects for one request's base URL."""

    def __init__(self, base: str, cat: Catalogue, session: str | None = None) -> None:
        self.base = base
        self.cat = cat
        # Browser pages get the session in their query string.
        self.session_query = urlencode({"sandbox_session": session}) if session else ""

    def browser_link(self, path: str) -> str:
        """A path that may hold a query, made absolute, carrying the session."""
        url = self.uri(path)
        if self.session_query:
            url += ("&" if "?" in url else "?") + self.session_query
        return url

    def page(self, path: str, **params: str) -> str:
        """A URI of a page a browser opens, carrying the session."""
        query = urlencode(params)
        if self.session_query:
            query = f"{query}&{self.session_query}" if query else self.session_query
        return self.uri(path) + (f"?{query}" if query else "")

    # -- URIs -----------------------------------------------------------------

    def uri(self, path: str) -> str:
        return self.base + path

    def links(self, self_href: str, page: str, **more: Any) -> dict[str, Any]:
        links: dict[str, Any] = {
            "self": {"href": self_href},
            "profile": profile(page),
            "curies": CURIES,
        }
        links.update({k: v for k, v in more.items() if v is not None})
        return links

    # -- catalogue ------------------------------------------------------------

    def event(self, event: Event) -> dict[str, Any]:
        uri = self.uri(f"/events/{event.uid}")
        merchant = self.cat.merchants[event.merchant]
        return {
            "_links": self.links(
                uri,
                "event",
                **{
                    "shop:products": {
                        "href": self.uri("/products?event=") + quote(uri, safe="")
                    },
                    "shop:storefront": {
                        "href": self.uri("/storefront?event=") + quote(uri, safe="")
                    },
                },
            ),
            "uid": event.uid,
            "reference": event.reference,
            "merchant_name": merchant.name,
            "title": event.title,
            "subtitle": event.subtitle,
            "sale_start": isoformat(event.sale_start),
            "sale_end": isoformat(event.sale_end),
            "event_start": isoformat(event.event_start),
            "event_end": isoformat(event.event_end),
            "personalization_start": None,
            "personalization_end": None,
            "fulfillment_starts_at": None,
            "location": event.location,
            "facilities": {},
            "description": event.description,
            "long_description": event.description,
            "image": event.image,
            "artists": i18n(event.artists),
            "sold_out_text": i18n("Sold out"),
            "seated": event.seated,
            "min_quantity_per_order": event.min_quantity_per_order,
            "max_quantity_per_order": event.max_quantity_per_order,
        }

    def product(
        self, product: Product, availability: int, quantity: int | None = None
    ) -> dict[str, Any]:
        # What never changes is built once per catalogue and base URL; every
        # order body embeds its products, so this is on the GET order path.
        key = (id(self.cat), self.base, product.uid)
        cached = _PRODUCTS.get(key)
        if cached is None or cached[0] is not self.cat:
            if len(_PRODUCTS) >= MAX_CACHED:
                _PRODUCTS.clear()
            cached = _PRODUCTS[key] = (self.cat, self._product(product))
        body = {
            **cached[1],
            "availability": availability,
            "total_availability": product.availability,
            "sold_out": availability <= 0,
        }
        if quantity is not None:
            body["price_breakdown"] = price_breakdown(product, quantity)
        return body

    def _product(self, product: Product) -> dict[str, Any]:
        event = self.cat.events[product.event]
        return {
            "_links": self.links(
                self.uri(f"/products/{product.uid}"),
                "product",
                **{"shop:event": {"href": self.uri(f"/events/{product.event}")}},
            ),
            "uid": product.uid,
            "reference": product.reference,
            "name": product.name,
            "label": None,
            "subtitle": product.subtitle,
            "price": amount_string(product.price),
            "sold_out_text": i18n("Sold out"),
            "sale_start": isoformat(event.sale_start),
            "sale_end": isoformat(event.sale_end),
            "min_per_order": product.min_per_order,
            "max_per_order": product.max_per_order,
            "separately_saleable": product.separately_saleable,
            "additional_information": i18n(None),
            "viewing_order": product.viewing_order,
            "parents": [self.uri(f"/products/{u}") for u in product.parents] or None,
            "combo": [self.uri(f"/products/{u}") for u in product.combo] or None,
            "personalization_required": False,
            "types": list(product.types),
            "requires_membership": False,
            "provides_membership": False,
            "images": [],
        }

    def payment_method(
        self, method: PaymentMethod, full: bool = True
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "uid": method.uid,
            "name": method.name,
            "image": method.image,
            "costs": amount_number(method.costs),
        }
        if full:
            body["required_consumer_fields"] = list(method.required_consumer_fields)
        return body

    def shipping_method(self, method: ShippingMethod) -> dict[str, Any]:
        return {
            "uid": method.uid,
            "name": method.name,
            "costs": amount_number(method.costs),
        }

    def method_resource(
        self, body: dict[str, Any], path: str, page: str
    ) -> dict[str, Any]:
        return {"_links": self.links(self.uri(path), page), **body}

    # -- orders ---------------------------------------------------------------

    def selection(self, lines: list[Line]) -> list[dict[str, Any]]:
        out = []
        for line in lines:
            item: dict[str, Any] = {}
            if line.parent is not None:
                item["parent"] = self.uri(f"/products/{line.parent.uid}")
            item["product"] = self.uri(f"/products/{line.product.uid}")
            item["quantity"] = line.quantity
            item["unit_price"] = amount_string(line.unit_price)
            item["total"] = amount_string(line.total)
            out.append(item)
        return out

    def totals(self, totals: Totals) -> dict[str, Any]:
        return {
            "product_total": amount_number(totals.product_total),
            "service_costs": amount_number(totals.service_costs),
            "grand_total": amount_number(totals.grand_total),
        }

    def order(self, order: Order, availability: Any) -> dict[str, Any]:
        uri = self.uri(f"/orders/{order.uid}")
        payment = order.payment
        links: dict[str, Any] = {}
        if (
            order.status == "pending"
            and not order.in_basket
            and payment is not None
            and payment.status == "pending"
        ):
            links["payment"] = {
                "href": self.page(f"/_sandbox/checkout/{order.uid}"),
                "type": "text/html",
            }
        # Only while a ticket is still valid: transferred ones are not downloadable.
        if order.status == "completed" and any(
            t.status == "valid" for t in order.tickets
        ):
            links["shop:etickets"] = {
                "href": self.page(
                    f"/_sandbox/etickets/{order.uid}", order_token=order.order_token
                ),
                "type": "text/html",
            }
        if order.status == "pending":
            links["shop:ordercancellation"] = {
                "href": self.uri("/ordercancellation"),
                "type": "text/html",
            }
        if order.repayable and not order.in_basket:
            links["shop:repayment"] = {"href": uri + "/repayment"}
        merchant = self.cat.merchants[self.cat.events[order.event].merchant]
        body: dict[str, Any] = {
            "_links": self.links(uri, "orders", **links),
            "uid": order.uid,
            "reference": order.reference,
            "created_date": isoformat(order.created),
            "status": order.status,
            "product_selection": self.selection(order.lines),
            "consumer": order.consumer.to_dict() if order.consumer else None,
            "shipping_consumer": self.shipping_consumer(order),
            "payment": {"status": payment.status, "reason": payment.reason}
            if payment
            else None,
            "payment_method": self.payment_method(order.payment_method, full=False)
            if order.payment_method
            else None,
            "shipping_method": self.shipping_method(order.shipping_method)
            if order.shipping_method
            else {},
            **self.totals(order.totals),
            "external_purchases": self.external(order),
            "external_reference": order.external_reference,
            "redirect_url": order.redirect_url,
            "legal_info": self.legal_info(merchant.key),
            "_embedded": {
                "shop:product": self._order_products(order, availability),
                "shop:ticket": [self.ticket(t) for t in order.tickets],
                "shop:customer_service": {
                    "email": merchant.customer_service.get(
                        "email", self.cat.platform.get("customer_service_email", "")
                    )
                },
            },
        }
        if order.donation:
            body["donation_amount"] = amount_number(order.donation)
        return body

    def _order_products(self, order: Order, availability: Any) -> list[dict[str, Any]]:
        seen: dict[str, Product] = {}
        for line in order.lines:
            seen.setdefault(line.product.uid, line.product)
        return [self.product(p, availability(p.uid)) for p in seen.values()]

    @staticmethod
    def shipping_consumer(order: Order) -> dict[str, Any]:
        source = order.shipping_consumer or order.consumer
        if source is None:
            return {}
        values = source.to_dict()
        fields: tuple[str, ...] = ADDRESS_FIELDS
        if order.shipping_consumer is None:
            fields = ("address", "postal_code", "city", "country", "state")
        return {k: values[k] for k in fields if k in values}

    @staticmethod
    def external(order: Order) -> list[dict[str, Any]]:
        return [
            {
                "title": i18n(e.title),
                "product_reference": e.product_reference,
                "unit_price": amount_number(e.unit_price, e.currency),
                "quantity": e.quantity,
            }
            for e in order.external_purchases
        ]

    def legal_info(self, merchant: str) -> Any:
        """A merchant's legal info; the same for every order, so built once."""
        key = (id(self.cat), merchant)
        cached = _LEGAL.get(key)
        if cached is None or cached[0] is not self.cat:
            cached = _LEGAL[key] = (self.cat, jsonio.frozen(self._legal_info(merchant)))
        return cached[1]

    def _legal_info(self, merchant: str) -> dict[str, Any]:
        info = self.cat.merchants[merchant].legal_info
        platform = dict(self.cat.platform)
        links = platform.pop("links", {})
        platform["_links"] = {
            f"shop:{name}": {
                "href": href,
                **(
                    {"templated": True}
                    if name in ("terms_url", "privacy_url", "cookie_url")
                    else {}
                ),
            }
            for name, href in links.items()
        }
        platform["_links"]["curies"] = CURIES
        body = dict(info)
        body["imprint_additional_info"] = i18n(info.get("imprint_additional_info"))
        body["platform"] = platform
        return body

    def ticket(self, ticket: Ticket) -> dict[str, Any]:
        event = self.cat.events[ticket.product.event]
        seat = ticket.seat
        return {
            "_links": self.links(
                self.uri(f"/tickets/{ticket.uid}"),
                "tickets",
                **{
                    "shop:event": {"href": self.uri(f"/events/{event.uid}")},
                    "shop:product": {
                        "href": self.uri(f"/products/{ticket.product.uid}")
                    },
                    "shop:order": {"href": self.uri(f"/orders/{ticket.order}")},
                },
            ),
            "uid": ticket.uid,
            "code": ticket.code,
            "status": ticket.status,
            "consumer": ticket.consumer.to_dict() if ticket.consumer else None,
            "seating": {"row": seat[0], "seat": seat[1]} if seat else None,
            "subproduct": ticket.product.name,
            "has_valid_subscription": False,
            "needs_personalization": False,
            "personalization_start": None,
            "personalization_end": None,
            "price": amount_number(ticket.price),
            "service_fee_paid": amount_number(ticket.service_fee),
            "fulfillment_starts_at": None,
            "scannable_until": isoformat(event.event_end),
            "issued_date": isoformat(ticket.issued),
        }

    def draft(self, draft: Draft) -> dict[str, Any]:
        """The priced content of a bill or a basket, as an order would have it."""
        totals = draft.totals
        body: dict[str, Any] = {
            "product_selection": self.selection(draft.lines),
            "consumer": draft.consumer.to_dict() if draft.consumer else None,
            "payment_method": self.payment_method(draft.payment_method, full=False)
            if draft.payment_method
            else {},
            "shipping_method": self.shipping_method(draft.shipping_method)
            if draft.shipping_method
            else {},
            "external_purchases": [
                {
                    "title": i18n(e.title),
                    "product_reference": e.product_reference,
                    "unit_price": amount_number(e.unit_price, e.currency),
                    "quantity": e.quantity,
                }
                for e in draft.external_purchases
            ],
            **self.totals(totals),
            "payment_costs": amount_number(totals.payment_costs),
            "shipping_costs": amount_number(totals.shipping_costs),
            "donation_amount": amount_number(totals.donation),
            "vouchers": list(draft.vouchers),
        }
        return body

    def basket(
        self, basket: Basket, draft_body: dict[str, Any] | None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "_links": self.links(self.uri(f"/baskets/{basket.uid}"), "baskets"),
            "uid": basket.uid,
            "created_date": isoformat(basket.created),
            "status": "ordered" if basket.ordered_as else "open",
        }
        if basket.ordered_as:
            body["_links"]["shop:order"] = {
                "href": self.uri(f"/orders/{basket.ordered_as}")
            }
        body.update(draft_body or {})
        return body

    # -- collections ----------------------------------------------------------

    def collection(
        self,
        path: str,
        query: list[tuple[str, str]],
        page: int,
        pages: int,
        total: int,
        rel: str,
        items: list[dict[str, Any]],
        search: str,
        page_doc: str,
        self_href: str,
    ) -> dict[str, Any]:
        """A paginated list whose first/prev/next/last keep every filter.

        As upstream: ``first`` is the collection URL without ``page``;
        ``prev``, ``next`` and ``last`` name their page, ``?page=1`` included.
        """

        def at(number: int | None) -> dict[str, str]:
            params = list(query) + ([("page", str(number))] if number else [])
            return {
                "href": self.uri(path) + ("?" + urlencode(params) if params else "")
            }

        links = self.links(
            self_href,
            page_doc,
            search={"href": self.uri(path) + search, "templated": True},
            first=at(None),
            last=at(pages),
            prev=at(page - 1) if page > 1 else None,
            next=at(page + 1) if page < pages else None,
        )
        return {
            "_links": links,
            "item_count": total,
            "page": page,
            "_embedded": {rel: items},
        }


def price_breakdown(product: Product, quantity: int) -> dict[str, Any]:
    unit, fee = product.price, product.service_costs
    return {
        "unit_price_including_service_costs": amount_string(unit + fee),
        "unit_price_excluding_service_costs": amount_string(unit),
        "unit_price_service_costs": amount_string(fee),
        "total_including_service_costs": amount_string((unit + fee) * quantity),
        "total_excluding_service_costs": amount_string(unit * quantity),
        "total_service_costs": amount_string(fee * quantity),
    }
