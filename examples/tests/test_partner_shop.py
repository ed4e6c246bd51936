"""The partner shop against the sandbox, through the ``sandbox`` fixture only.

Each test has a fresh Sandbox-Session of its own: no reset, no ordering
between tests, safe under pytest-xdist.
"""

from __future__ import annotations

import pytest
from partner_shop import ShopError, TicketShop, follow_payment_link

# Uids of the sandbox's default fixtures (the orders page's own).
WEEKEND = "12365478654238976585643567854323"
STALLS = "5ea7ed005ea7ed005ea7ed005ea7ed00"
IDEAL = "ghr57d5h3gd162fb35c5a3db57ghrydg"
BUYER = {
    "email": "jan.koper@example.com",
    "first_name": "Jan",
    "last_name": "Koper",
    "country": "NL",
}


@pytest.fixture
def shop(sandbox):
    key, secret = sandbox.credentials.partner
    return TicketShop(sandbox.url, key, secret, http=sandbox.http)


def test_order_paid_on_the_payment_page_gets_its_tickets(shop, sandbox):
    order = shop.place_order({WEEKEND: 2}, BUYER, IDEAL, external_reference="A-1")
    assert order["status"] == "pending"

    back = follow_payment_link(shop.payment_url(order), "paid", sandbox.http)

    assert f"order={order['uid']}" in back and "outcome=paid" in back
    assert shop.read_order(order["uid"])["status"] == "completed"
    tickets = shop.tickets(order["uid"])
    assert len(tickets) == 2
    assert all(t["status"] == "valid" and t["code"] for t in tickets)
    mails = [m for m in sandbox.control.emails() if m["order"] == order["uid"]]
    assert mails and all(m["to"] == BUYER["email"] for m in mails)


def test_order_paid_through_the_control_client(shop, sandbox):
    order = shop.place_order({WEEKEND: 1}, BUYER, IDEAL)

    secrets = sandbox.control.pay(order["uid"], "paid")

    assert [t["barcode"] for t in secrets["tickets"]] == [
        t["code"] for t in shop.tickets(order["uid"])
    ]


@pytest.mark.sandbox_scenario("insufficient-consecutive-seats")
def test_no_consecutive_seats_is_a_409_and_the_order_is_canceled(shop, sandbox):
    with pytest.raises(ShopError) as refused:
        shop.place_order({STALLS: 4}, BUYER, IDEAL, check_consecutive_seats=True)

    assert (refused.value.status, refused.value.type) == (
        409,
        "INSUFFICIENT_CONSECUTIVE_SEATS",
    )
    canceled = shop.read_order(refused.value.body["order"])
    assert canceled["status"] == "canceled"
    # The scenario fires once: the next try gets its seats.
    again = shop.place_order({STALLS: 4}, BUYER, IDEAL, check_consecutive_seats=True)
    assert again["status"] == "pending"


def test_failed_payment_then_repayment_completes(shop, sandbox):
    order = shop.place_order({WEEKEND: 1}, BUYER, IDEAL)
    follow_payment_link(shop.payment_url(order), "failed", sandbox.http)
    failed = shop.read_order(order["uid"])
    assert failed["status"] == "pending"
    assert failed["payment"]["status"] == "failed"
    assert "shop:repayment" in failed["_links"]

    checkout_url = shop.request_repayment(order["uid"])
    again = shop.order_again(checkout_url)

    assert again["uid"] == order["uid"]
    assert again["payment"]["status"] == "pending"
    follow_payment_link(shop.payment_url(again), "paid", sandbox.http)
    assert shop.read_order(order["uid"])["status"] == "completed"
    assert len(shop.tickets(order["uid"])) == 1


@pytest.mark.sandbox_scenario("payment-fails-then-repayment")
def test_scenario_fails_the_first_payment_only(shop, sandbox):
    order = shop.place_order({WEEKEND: 1}, BUYER, IDEAL)

    back = follow_payment_link(shop.payment_url(order), "paid", sandbox.http)

    assert "outcome=failed" in back
    again = shop.order_again(shop.request_repayment(order["uid"]))
    sandbox.control.pay(again["uid"], "paid")
    assert shop.read_order(order["uid"])["status"] == "completed"


def test_forced_error_reaches_the_shop_and_the_journal_shows_it(shop, sandbox):
    sandbox.control.arm_rule(
        "orders.create", error="10MER", match={"external_reference": "A-2"}
    )

    with pytest.raises(ShopError) as refused:
        shop.place_order({WEEKEND: 1}, BUYER, IDEAL, external_reference="A-2")

    assert refused.value.type == "10MER"
    seen = sandbox.control.requests(method="POST", path="/orders")
    assert [entry["status"] for entry in seen] == [refused.value.status]


@pytest.mark.parametrize("run", [1, 2])
def test_each_test_has_its_own_session(shop, sandbox, run):
    assert sandbox.control.requests() == []
    shop.place_order({WEEKEND: 1}, BUYER, IDEAL, external_reference="same-in-both")
    assert len(sandbox.control.requests(method="POST")) == 1
