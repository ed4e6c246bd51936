"""The HTML dashboard at GET /_sandbox, used in a real headless Chromium.

A browser sends no ``Sandbox-Session`` or ``Sandbox-Admin-Token`` header: the
page carries both in its query string, and its buttons post forms that come
back to it. Without a browser these tests are skipped, unless
``SANDBOX_REQUIRE_BROWSER`` is set, in which case a missing browser fails them.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from sandbox.config import Settings
from sandbox.web.app import create_app
from tests.browser import TIMEOUT
from tests.helpers import PARTNER, SEED_PENDING, WEEKEND, order_body

ADMIN_TOKEN = "dashboard-lock-0b1e"


@pytest.fixture(scope="module")
def locked_server() -> Iterator[str]:
    """A real server whose control plane needs the admin token."""
    app = create_app(Settings(seed=1, admin_token=ADMIN_TOKEN))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


class Session:
    """One sandbox session on a real server, driven over HTTP like a CI job."""

    def __init__(self, base: str, admin_token: str | None = None) -> None:
        self.base = base
        self.name = f"dash-{uuid.uuid4().hex[:12]}"
        self.headers = {"Sandbox-Session": self.name}
        if admin_token:
            self.headers["Sandbox-Admin-Token"] = admin_token

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        auth: dict[str, str] | None = None,
    ) -> Any:
        answer = requests.request(
            method,
            self.base + path,
            json=body,
            headers={**self.headers, **(auth or {})},
            timeout=TIMEOUT,
        )
        assert answer.status_code < 400, answer.text
        return answer.json()

    def dashboard(self, admin_token: str | None = None) -> str:
        query = f"?sandbox_session={self.name}"
        return (
            self.base
            + "/_sandbox"
            + query
            + (f"&admin_token={admin_token}" if admin_token else "")
        )


def rows(browser: Any, table: str) -> list[str]:
    from selenium.webdriver.common.by import By

    return [
        row.text for row in browser.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr")
    ]


def click_and_wait(browser: Any, element_id: str) -> None:
    """Click a button and wait until the dashboard is back."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    # Mark the current document; the form's redirect loads a new one. Waiting
    # on the mark rather than on the old button's staleness avoids chromedriver
    # answering "Node ... does not belong to the document" mid-navigation.
    browser.execute_script("window.sandboxOldPage = true;")
    browser.find_element(By.ID, element_id).click()
    WebDriverWait(browser, TIMEOUT).until(
        lambda b: b.execute_script("return window.sandboxOldPage === undefined;")
    )
    WebDriverWait(browser, TIMEOUT).until(
        expected_conditions.presence_of_element_located((By.ID, "session-name"))
    )


def test_dashboard_shows_the_session_and_its_buttons_work(browser, live_server):
    session = Session(live_server)
    order = session.call(
        "POST",
        "/orders",
        order_body((WEEKEND, 1), external_reference="<i>D-1</i>"),
        auth=PARTNER,
    )
    session.call("GET", f"/orders/{SEED_PENDING}", auth=PARTNER)
    session.call(
        "POST",
        "/_sandbox/rules",
        {"action": "orders.read", "error": "NOT_FOUND", "times": 3},
    )

    browser.get(session.dashboard())

    from selenium.webdriver.common.by import By

    assert browser.find_element(By.ID, "session-name").text == session.name
    mine = [r for r in rows(browser, "orders") if order["uid"] in r]
    # Shown as the text it is, never as markup.
    assert len(mine) == 1 and "pending" in mine[0] and "<i>D-1</i>" in mine[0]
    assert any("completed" in r for r in rows(browser, "orders"))
    assert any(
        "orders.read" in r and "NOT_FOUND" in r and " 3 " in f" {r} "
        for r in rows(browser, "rules")
    )
    requests_seen = rows(browser, "requests")
    assert any("POST" in r and "/orders" in r and "201" in r for r in requests_seen)
    assert any(f"GET /orders/{SEED_PENDING} 200" in r for r in requests_seen)
    assert any(f"Your order {order['reference']}" in r for r in rows(browser, "outbox"))

    click_and_wait(browser, "arm-10mer")

    assert f"sandbox_session={session.name}" in browser.current_url
    assert any("10MER" in r and "scenario:10mer" in r for r in rows(browser, "rules"))
    armed = session.call("GET", "/_sandbox/scenarios")["armed"]
    assert [r["source"] for r in armed] == ["rule", "scenario:10mer"]

    click_and_wait(browser, "reset")

    assert f"sandbox_session={session.name}" in browser.current_url
    assert not any(order["uid"] in r for r in rows(browser, "orders"))
    assert rows(browser, "rules") == ["No rules armed."]
    assert session.call("GET", "/_sandbox/scenarios")["armed"] == []
    # The buttons acted on this session only, never on the default one.
    assert (
        requests.get(live_server + "/_sandbox/scenarios", timeout=TIMEOUT).json()[
            "armed_scenarios"
        ]
        == []
    )


def test_dashboard_pay_page_link_keeps_the_session(browser, live_server):
    from selenium.webdriver.common.by import By

    session = Session(live_server)
    order = session.call("POST", "/orders", order_body((WEEKEND, 1)), auth=PARTNER)
    browser.get(session.dashboard())
    row = browser.find_element(By.CSS_SELECTOR, f"tr[data-uid='{order['uid']}']")

    row.find_element(By.LINK_TEXT, "pay page").click()

    assert f"/_sandbox/checkout/{order['uid']}" in browser.current_url
    assert browser.find_element(By.ID, "order-status").text == "pending"


def test_dashboard_with_the_admin_token(browser, locked_server):
    session = Session(locked_server, admin_token=ADMIN_TOKEN)
    session.call("POST", "/orders", order_body((WEEKEND, 1)), auth=PARTNER)

    browser.get(session.dashboard())
    assert "UNAUTHORIZED" in browser.page_source

    browser.get(session.dashboard(ADMIN_TOKEN))
    click_and_wait(browser, "arm-10mer")

    assert f"admin_token={ADMIN_TOKEN}" in browser.current_url
    assert any("scenario:10mer" in r for r in rows(browser, "rules"))
    assert session.call("GET", "/_sandbox/scenarios")["armed_scenarios"] == ["10mer"]
