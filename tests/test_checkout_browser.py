"""The hosted payment page, clicked through in a real headless Chromium.

The browser talks only to the loopback ``live_server``: each order's
``redirect_url`` is the sandbox's own return page. Without a browser these
tests are skipped, unless ``SANDBOX_REQUIRE_BROWSER`` is set (``.ci/run``
sets it), in which case a missing browser fails them.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.browser import TIMEOUT
from tests.helpers import BACKSTAGE, CREDITCARD, PARTNER, WEEKEND, order_body


class Client:
    """requests against the live server, on a session of this test's own."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.headers = {"Sandbox-Session": f"browser-{uuid.uuid4().hex[:12]}"}

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        auth: dict[str, str] | None = PARTNER,
        **headers: str,
    ) -> Any:
        url = path if path.startswith("http") else self.base + path
        sent = {**self.headers, **(auth or {}), **headers}
        return requests.request(method, url, json=body, headers=sent, timeout=TIMEOUT)

    def order(self, uid: str) -> dict[str, Any]:
        answer = self.call("GET", f"/orders/{uid}")
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    def availability(self, product: str) -> int:
        found: int = self.call("GET", f"/products/{product}").json()["availability"]
        return found


@pytest.fixture
def client(live_server: str) -> Client:
    return Client(live_server)


def place(client: Client, *selections: tuple[str, int]) -> dict[str, Any]:
    body = order_body(*selections, redirect_url=f"{client.base}/_sandbox/return")
    answer = client.call("POST", "/orders", body)
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def choose(
    browser: Any, client: Client, order: dict[str, Any], button: str, grand_total: str
) -> dict[str, list[str]]:
    """Open the order's payment link, click a button; the return page's query."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    href = order["_links"]["payment"]["href"]
    assert href.startswith(f"{client.base}/_sandbox/checkout/{order['uid']}?")
    browser.get(href)
    assert browser.find_element(By.ID, "order-status").text == "pending"
    assert browser.find_element(By.ID, "payment-status").text == "pending"
    assert browser.find_element(By.ID, "grand-total").text == f"{grand_total} EUR"
    assert order["reference"] in browser.title
    browser.find_element(By.ID, button).click()
    WebDriverWait(browser, TIMEOUT).until(ready.url_contains("/_sandbox/return"))
    WebDriverWait(browser, TIMEOUT).until(
        ready.presence_of_element_located((By.ID, "outcome"))
    )
    url = urlsplit(browser.current_url)
    assert f"{url.scheme}://{url.netloc}" == client.base
    query = parse_qs(url.query)
    assert browser.find_element(By.ID, "order").text == order["uid"]
    assert browser.find_element(By.ID, "outcome").text == query["outcome"][0]
    return query


def test_fail_in_the_browser_then_repay_and_pay(browser, client):
    order = place(client, (WEEKEND, 2))
    uid = order["uid"]
    query = choose(browser, client, order, "fail", "12.90")
    assert query["order"] == [uid]
    assert query["outcome"] == ["failed"]

    order = client.order(uid)
    assert order["status"] == "pending"
    assert order["payment"]["status"] == "failed"
    assert order["payment"]["reason"]
    repayment = order["_links"]["shop:repayment"]["href"]
    assert repayment == f"{client.base}/orders/{uid}/repayment"
    assert "payment" not in order["_links"]

    answer = client.call("POST", repayment)
    assert answer.status_code == 200, answer.text
    checkout = parse_qs(urlsplit(answer.json()["checkout_url"]).query)
    token = checkout["order_token"][0]
    basket = checkout["basket"][0]
    assert basket == f"{client.base}/baskets/{uid}"
    assert checkout["channel"][0].startswith(f"{client.base}/channels/")

    again = client.call(
        "POST",
        "/orders",
        {"basket": basket, "payment_method": CREDITCARD},
        auth=None,
        **{"Order-Token": token},
    )
    assert again.status_code == 201, again.text
    assert again.json()["uid"] == uid
    assert again.json()["payment"] == {"status": "pending", "reason": None}
    assert again.json()["payment_method"]["uid"] == CREDITCARD

    paid = client.call(
        "POST", f"/_sandbox/orders/{uid}/payment", {"outcome": "paid"}, auth=None
    )
    assert paid.status_code == 200, paid.text
    order = client.order(uid)
    assert order["status"] == "completed"
    assert order["payment"] == {"status": "paid", "reason": None}
    assert Decimal(str(order["grand_total"]["amount"])) == Decimal("13.40")
    issued = order["_embedded"]["shop:ticket"]
    assert len(issued) == 2
    for ticket in issued:
        read = client.call("GET", f"/tickets/{ticket['uid']}")
        assert read.status_code == 200
        assert read.json()["code"] == ticket["code"]
        assert read.json()["status"] == "valid"

    pdf = requests.get(order["_links"]["shop:etickets"]["href"], timeout=TIMEOUT)
    assert pdf.status_code == 200
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert b"SANDBOX" in pdf.content
    for ticket in issued:
        assert ticket["code"].encode() in pdf.content


def test_pay_in_the_browser(browser, client):
    order = place(client, (WEEKEND, 1))
    query = choose(browser, client, order, "pay", "6.95")
    assert query["order"] == [order["uid"]]
    assert query["outcome"] == ["paid"]
    order = client.order(order["uid"])
    assert order["status"] == "completed"
    assert order["payment"] == {"status": "paid", "reason": None}
    assert len(order["_embedded"]["shop:ticket"]) == 1
    assert "shop:etickets" in order["_links"]

    # Back on the page, nothing is left to pay.
    from selenium.webdriver.common.by import By

    browser.get(
        f"{client.base}/_sandbox/checkout/{order['uid']}?sandbox_session="
        + client.headers["Sandbox-Session"]
    )
    assert browser.find_element(By.ID, "order-status").text == "completed"
    assert browser.find_elements(By.ID, "pay") == []
    assert browser.find_element(By.ID, "not-payable")


def test_cancel_in_the_browser_gives_stock_back(browser, client):
    order = place(client, (BACKSTAGE, 2))
    assert client.availability(BACKSTAGE) == 3
    query = choose(browser, client, order, "cancel", "53.00")
    assert query["outcome"] == ["canceled"]
    order = client.order(order["uid"])
    assert order["status"] == "canceled"
    assert order["payment"]["status"] == "canceled"
    assert client.availability(BACKSTAGE) == 5
