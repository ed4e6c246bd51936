"""Tickets of a completed order transferred to a new order and owner."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.helpers import (
    BEARER,
    ETICKET,
    IDEAL,
    PARTNER_B,
    SEED_COMPLETED,
    SEED_TICKETS,
    WEEKEND,
    amount,
    consumer,
    order_body,
)

HOST = "http://localhost"
SEED_TOKEN = {"Order-Token": "seed-order-token-completed"}
NEW_OWNER = consumer(40, first_name="Nieuwe", last_name="Eigenaar")

# The orders page's examples, verbatim: both end lists with a trailing comma.
PAGE_TRANSFER = """{
"tickets": [
"https://shopping-api.paylogic.com/tickets/a2e37ee17474417a87259b02b674da9a",
"https://shopping-api.paylogic.com/tickets/12365478654238976585643567854323",
],
"consumer": {
"first_name": "John",
"last_name": "Doe",
"date_of_birth": "1986-12-30",
"email": "john.doe@paylogic.eu",
"gender": "1",
"address": "Nieuwe Boteringestraat 28",
"postal_code": "9716 JJ",
"city": "Groningen",
"country": "NL",
"ip": "192.168.1.1"
},
"payment_method": "ghr57d5h3gd162fb35c5a3db57ghrydg",
"shipping_method": "87a5quvndhe162fb357alt872705zr2j",
}"""
PAGE_FROM_BASKET = """{
"basket": "https://shopping-api.paylogic.com/basket/d2e37ee17474417a87259b02b674da9b",
"payment_method": "ghr57d5h3gd162fb35c5a3db57ghrydg",
"shipping_method": "87a5quvndhe162fb357alt872705zr2j",
}"""


def read(api: Any, uid: str, **kw: Any) -> dict[str, Any]:
    answer = api.get(f"/orders/{uid}", **kw)
    assert answer.status == 200, answer
    return answer.json  # type: ignore[no-any-return]


def tickets(order: dict[str, Any]) -> list[dict[str, Any]]:
    return order["_embedded"]["shop:ticket"]  # type: ignore[no-any-return]


def transfer(
    api: Any, uids: Any, headers: dict[str, str] | None = None, **extra: Any
) -> Any:
    body = {"tickets": list(uids), "consumer": NEW_OWNER, **extra}
    return api.create(body, headers=SEED_TOKEN if headers is None else headers)


def paid_order(api: Any, quantity: int = 2, **headers: str) -> dict[str, Any]:
    """An order created (with these extra headers) and paid; as read back."""
    created = api.create(order_body((WEEKEND, quantity)), headers=headers or None)
    assert created.status == 201, created
    assert api.pay(created.json["uid"]).status == 200
    return read(api, created.json["uid"])


def refused(answer: Any, status: int, kind: str) -> None:
    assert (answer.status, answer.json["type"]) == (status, kind), answer


def check_transferred(api: Any, old: list[dict[str, Any]], new_uid: str) -> None:
    """The new order holds new valid tickets; the old ones are invalid."""
    new = read(api, new_uid)
    assert new["status"] == "completed"
    fresh = tickets(new)
    assert len(fresh) == len(old)
    assert {t["uid"] for t in fresh}.isdisjoint(t["uid"] for t in old)
    assert {t["code"] for t in fresh}.isdisjoint(t["code"] for t in old)
    assert len({t["code"] for t in fresh}) == len(fresh)
    assert {t["status"] for t in fresh} == {"valid"}
    assert [t["consumer"] for t in fresh] == [NEW_OWNER] * len(old)
    assert "shop:etickets" in new["_links"]
    for ticket in old:
        again = api.get(f"/tickets/{ticket['uid']}").json
        assert again["status"] == "invalid"
        assert again["code"] == ticket["code"]


def test_transfer_the_seeded_completed_order(api):
    origin = read(api, SEED_COMPLETED, headers=SEED_TOKEN)
    # The order of the orders page: 3 weekend tickets, a day ticket and its
    # parking voucher; the transfer example names the first two.
    assert len(tickets(origin)) == 5
    old = tickets(origin)[:2]
    assert [t["uid"] for t in old] == list(SEED_TICKETS)
    assert {t["status"] for t in old} == {"valid"}

    answer = transfer(api, SEED_TICKETS)
    assert answer.status == 201, answer
    new_uid = answer.json["uid"]
    assert answer.headers["Location"] == f"{HOST}/orders/{new_uid}"
    assert new_uid != SEED_COMPLETED
    # The tickets themselves cost the new owner nothing: a free order.
    assert amount(answer.json["grand_total"]) == Decimal("0.00")
    assert answer.json["payment"] is None
    assert answer.json["consumer"] == NEW_OWNER
    check_transferred(api, old, new_uid)

    origin = read(api, SEED_COMPLETED)
    assert origin["status"] == "completed"
    statuses = [t["status"] for t in tickets(origin)]
    assert statuses == ["invalid", "invalid", "valid", "valid", "valid"]
    # Three tickets are still the consumer's: the e-tickets stay downloadable.
    assert "shop:etickets" in origin["_links"]

    refused(transfer(api, SEED_TICKETS), 400, "TICKET_NOT_AVAILABLE")
    refused(transfer(api, SEED_TICKETS[:1]), 400, "TICKET_NOT_AVAILABLE")


def test_transfer_a_created_and_paid_order_with_its_order_token(api):
    origin = paid_order(api, 3)
    token = api.secrets(origin["uid"])["order_token"]
    old = tickets(origin)
    answer = transfer(api, [t["uid"] for t in old[:2]], {"Order-Token": token})
    assert answer.status == 201, answer
    check_transferred(api, old[:2], answer.json["uid"])
    assert [t["status"] for t in tickets(read(api, origin["uid"]))] == [
        "invalid",
        "invalid",
        "valid",
    ]

    refused(
        transfer(api, [old[0]["uid"]], {"Order-Token": token}),
        400,
        "TICKET_NOT_AVAILABLE",
    )
    # The new owner's tickets can move on again, with the new order's token.
    new_token = api.secrets(answer.json["uid"])["order_token"]
    moved = tickets(read(api, answer.json["uid"]))
    onward = transfer(api, [t["uid"] for t in moved], {"Order-Token": new_token})
    assert onward.status == 201, onward


def test_transfer_with_the_cognito_token_of_the_buyer(api):
    origin = paid_order(api, **{"Cognito-Token": "cognito-user-1"})
    uids = [t["uid"] for t in tickets(origin)]
    refused(transfer(api, uids, {"Cognito-Token": "cognito-user-2"}), 403, "FORBIDDEN")
    answer = transfer(api, uids, {"Cognito-Token": "cognito-user-1"})
    assert answer.status == 201, answer
    check_transferred(api, tickets(origin), answer.json["uid"])


def test_transfer_with_costs_waits_for_payment(api):
    old = tickets(read(api, SEED_COMPLETED))[:2]
    answer = transfer(api, SEED_TICKETS, payment_method=IDEAL, shipping_method=ETICKET)
    assert answer.status == 201, answer
    uid = answer.json["uid"]
    order = read(api, uid)
    assert order["status"] == "pending"
    assert amount(order["product_total"]) == Decimal("0.00")
    assert amount(order["grand_total"]) == Decimal("1.50")  # Eticket 0.50 + iDeal
    assert tickets(order) == []
    # Held by the pending transfer: not transferable twice, still valid meanwhile.
    refused(transfer(api, SEED_TICKETS), 400, "TICKET_NOT_AVAILABLE")
    assert api.get(f"/tickets/{SEED_TICKETS[0]}").json["status"] == "valid"

    assert api.pay(uid).status == 200
    check_transferred(api, old, uid)


def test_canceled_transfer_frees_the_tickets(api):
    answer = transfer(api, SEED_TICKETS, payment_method=IDEAL, shipping_method=ETICKET)
    assert answer.status == 201, answer
    canceled = api.post("/ordercancellation", {"order": answer.json["uid"]})
    assert canceled.status == 200, canceled
    assert read(api, answer.json["uid"])["status"] == "canceled"
    assert {t["status"] for t in tickets(read(api, SEED_COMPLETED))} == {"valid"}
    again = transfer(api, SEED_TICKETS)
    assert again.status == 201, again


def test_tickets_of_two_orders_are_refused(api):
    other = paid_order(api, 1)
    uids = [SEED_TICKETS[0], tickets(other)[0]["uid"]]
    refused(transfer(api, uids), 400, "CONSTRAINT_VIOLATION")
    refused(
        transfer(api, [SEED_TICKETS[0], SEED_TICKETS[0]]), 400, "CONSTRAINT_VIOLATION"
    )


@pytest.mark.parametrize(
    "change, status, kind",
    [
        ({"tickets": ["0" * 32]}, 400, "TICKET_NOT_AVAILABLE"),
        ({"tickets": [f"{HOST}/tickets/{'0' * 32}"]}, 400, "TICKET_NOT_AVAILABLE"),
        ({"tickets": ["not a ticket"]}, 400, "TICKET_NOT_AVAILABLE"),
        ({"consumer": None}, 400, "NO_CONSUMER_URI_OR_INFO_PROVIDED"),
        ({"consumer": {}}, 400, "NO_CONSUMER_URI_OR_INFO_PROVIDED"),
        ({"consumer": {"first_name": "Only"}}, 400, "NO_CONSUMER_URI_OR_INFO_PROVIDED"),
        ({"consumer": "someone"}, 400, "NO_CONSUMER_URI_OR_INFO_PROVIDED"),
        (
            {"consumer": {**NEW_OWNER, "email": "not-an-email"}},
            400,
            "TICKET_CONSUMER_ERROR",
        ),
        ({"consumer": {**NEW_OWNER, "gender": "x"}}, 400, "TICKET_CONSUMER_ERROR"),
        (
            {"consumer": {**NEW_OWNER, "date_of_birth": "30-12-1986"}},
            400,
            "TICKET_CONSUMER_ERROR",
        ),
        (
            {"products": [{"product": WEEKEND, "quantity": 1}]},
            400,
            "BOTH_TICKETS_AND_PRODUCTS_PROVIDED",
        ),
        ({"payment_method": "0" * 32}, 404, "NOT_FOUND"),
    ],
)
def test_transfer_refusals(api, change, status, kind):
    body = {"tickets": list(SEED_TICKETS), "consumer": NEW_OWNER}
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    before = api.get("/orders").json["item_count"]
    refused(api.create(body, headers=SEED_TOKEN), status, kind)
    assert api.get("/orders").json["item_count"] == before
    assert {t["status"] for t in tickets(read(api, SEED_COMPLETED))} == {"valid"}


@pytest.mark.parametrize(
    "auth, headers, status, kind",
    [
        ("default", {}, 403, "FORBIDDEN"),  # no token at all
        ("default", {"Order-Token": "seed-order-token-pending"}, 403, "FORBIDDEN"),
        ("default", {"Cognito-Token": "cognito-user-1"}, 403, "FORBIDDEN"),
        (BEARER, SEED_TOKEN, 403, "FORBIDDEN"),  # Basic is required
        (None, SEED_TOKEN, 401, "UNAUTHORIZED"),
        ("default", {"Order-Token": "no-such-token"}, 401, "UNAUTHORIZED"),
    ],
)
def test_transfer_needs_basic_and_access_to_the_order(api, auth, headers, status, kind):
    answer = api.create(
        {"tickets": list(SEED_TICKETS), "consumer": NEW_OWNER},
        auth=auth,
        headers=headers,
    )
    refused(answer, status, kind)
    assert {t["status"] for t in tickets(read(api, SEED_COMPLETED))} == {"valid"}


def test_transfer_by_another_application_with_the_token(api):
    # partner-b may transfer, and the Order token opens the order: allowed,
    # as the orders page puts it ("the Order token ... must have access").
    answer = api.create(
        {"tickets": list(SEED_TICKETS), "consumer": NEW_OWNER},
        auth=PARTNER_B,
        headers=SEED_TOKEN,
    )
    assert answer.status == 201, answer


@pytest.mark.parametrize(
    "text, line, column, closing",
    [
        (PAGE_TRANSFER, 4, 77, "]"),
        (PAGE_FROM_BASKET, 4, 54, "}"),
    ],
)
def test_page_examples_with_trailing_commas_say_where(api, text, line, column, closing):
    answer = api.post(
        "/orders", data=text, content_type="application/json", headers=SEED_TOKEN
    )
    refused(answer, 400, "BAD_REQUEST")
    assert answer.json["line"] == line
    assert answer.json["column"] == column
    message = answer.json["message"]
    assert (
        f"trailing comma at line {line}, column {column}, before '{closing}'" in message
    )
    assert text.splitlines()[line - 1][column - 1] == ","
    assert {t["status"] for t in tickets(read(api, SEED_COMPLETED))} == {"valid"}


def test_page_transfer_example_once_its_commas_are_fixed(api):
    fixed = PAGE_TRANSFER.replace('",\n],', '"\n],').replace('",\n}', '"\n}')
    answer = api.post(
        "/orders", data=fixed, content_type="application/json", headers=SEED_TOKEN
    )
    assert answer.status == 201, answer
    order = read(api, answer.json["uid"])
    assert order["status"] == "pending"
    assert order["consumer"]["email"] == "john.doe@paylogic.eu"
    assert amount(order["grand_total"]) == Decimal("1.50")
