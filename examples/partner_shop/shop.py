"""Place an order, send the consumer to pay, read the order and its tickets."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

HAL = "application/hal+json"


class ShopError(Exception):
    """An error answer of the Shopping Service: its ``type``, status and body."""

    def __init__(self, response: requests.Response) -> None:
        try:
            self.body: dict[str, Any] = response.json()
        except ValueError:
            self.body = {"type": "HTTP_ERROR", "message": response.text[:200]}
        self.type = self.body.get("type", "HTTP_ERROR")
        self.status = response.status_code
        super().__init__(f"{self.status} {self.type}: {self.body.get('message')}")


class TicketShop:
    """The partner's shop, speaking to the Shopping Service as one application."""

    def __init__(
        self,
        api_url: str,
        key: str,
        secret: str,
        http: requests.Session | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.auth = (key, secret)
        # The tests hand in a session that carries the Sandbox-Session header;
        # in production it is a plain requests.Session.
        self.http = http or requests.Session()

    def _send(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("auth", self.auth)
        headers = {"Accept": HAL, **kwargs.pop("headers", {})}
        response = self.http.request(method, url, headers=headers, timeout=10, **kwargs)
        if response.status_code >= 400:
            raise ShopError(response)
        answer: dict[str, Any] = response.json()
        return answer

    def place_order(
        self,
        products: dict[str, int],
        consumer: dict[str, str],
        payment_method: str,
        **extra: Any,
    ) -> dict[str, Any]:
        """Order ``{product uid: quantity}`` for the consumer; the pending order."""
        body = {
            "products": [
                {"product": f"{self.api_url}/products/{uid}", "quantity": n}
                for uid, n in products.items()
            ],
            "consumer": consumer,
            "payment_method": f"{self.api_url}/payment-methods/{payment_method}",
            **extra,
        }
        return self._send("POST", f"{self.api_url}/orders", json=body)

    def payment_url(self, order: dict[str, Any]) -> str:
        """Where to send the consumer's browser to pay the order."""
        href: str = order["_links"]["payment"]["href"]
        return href

    def read_order(self, uid: str) -> dict[str, Any]:
        """The order as the API has it now."""
        return self._send("GET", f"{self.api_url}/orders/{uid}")

    def tickets(self, uid: str) -> list[dict[str, Any]]:
        """The tickets of a completed order, each with its barcode in ``code``."""
        tickets: list[dict[str, Any]] = self.read_order(uid)["_embedded"]["shop:ticket"]
        return tickets

    def request_repayment(self, uid: str) -> str:
        """After a failed payment: the checkout URL that pays the order again."""
        answer = self._send("POST", f"{self.api_url}/orders/{uid}/repayment")
        url: str = answer["checkout_url"]
        return url

    def order_again(self, checkout_url: str) -> dict[str, Any]:
        """Turn the repayment's basket back into a pending order with a payment.

        The checkout URL carries the basket and the Order token; the orders
        page's repayment example posts the basket with that token.
        """
        query = parse_qs(urlsplit(checkout_url).query)
        return self._send(
            "POST",
            f"{self.api_url}/orders",
            json={"basket": query["basket"][0]},
            headers={"Order-Token": query["order_token"][0]},
            auth=None,
        )


def follow_payment_link(
    url: str, outcome: str = "paid", http: requests.Session | None = None
) -> str:
    """What the consumer's browser does on the hosted payment page: choose
    ``paid``, ``failed`` or ``canceled``; the shop's return URL it is sent to.

    The sandbox's page is a form with one button per outcome. The redirect
    back to the shop is returned, not followed: that is the shop's own page.
    """
    http = http or requests.Session()
    response = http.post(
        url, data={"outcome": outcome}, allow_redirects=False, timeout=10
    )
    if response.status_code != 303:
        raise ShopError(response)
    location: str = response.headers["Location"]
    return location
