"""An order's life after creation: pay, fail, repay, cancel, expire; baskets.

Every journey reads the order back after each state change, and every
refusal is checked with its exact status and ``type``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.helpers import (
    BACKSTAGE,
    CREDITCARD,
    DAY_PARKING,
    ETICKET,
    FESTIVAL,
    FREE,
    GROUP,
    GUEST,
    IDEAL,
    PARKING,
    PARTNER_B,
    POSTAL,
    SEED_BASKET,
    SEED_COMPLETED,
    SEED_FAILED,
    WEEKEND,
    amount,
    consumer,
    order_body,
)

HOST = "http://localhost"
UPSTREAM = "https://shopping-api.paylogic.com"


# -- helpers ------------------------------------------------------------------


def uid_of(href: str) -> str:
    return href.rstrip("/").rsplit("/", 1)[1]


def read(api: Any, uid: str, **kw: Any) -> dict[str, Any]:
    """The order as GET /orders/<uid> shows it now."""
    answer = api.get(f"/orders/{uid}", **kw)
    assert answer.status == 200, answer
    return answer.json  # type: ignore[no-any-return]


def availability(api: Any, product: str) -> int:
    found: int = api.get(f"/products/{product}").json["availability"]
    return found


def rels(order: dict[str, Any]) -> set[str]:
    """The order's links beyond self, profile and curies."""
    return set(order["_links"]) - {"self", "profile", "curies"}


def tickets(order: dict[str, Any]) -> list[dict[str, Any]]:
    return order["_embedded"]["shop:ticket"]  # type: ignore[no-any-return]


def download(api: Any, href: str) -> Any:
    """A browser's GET of a sandbox page (no credentials, no session header)."""
    return api.client.get(href.replace(HOST, ""))


def placed(api: Any, *selections: tuple[str, int], **extra: Any) -> dict[str, Any]:
    answer = api.create(order_body(*selections, **extra))
    assert answer.status == 201, answer
    return answer.json  # type: ignore[no-any-return]


def failed(api: Any, *selections: tuple[str, int]) -> dict[str, Any]:
    """A placed order whose payment failed."""
    order = placed(api, *selections or ((WEEKEND, 2),))
    assert api.pay(order["uid"], "failed").status == 200
    return order


def repay(api: Any, uid: str) -> dict[str, list[str]]:
    """Ask for a repayment; the checkout_url's query."""
    answer = api.post(f"/orders/{uid}/repayment")
    assert answer.status == 200, answer
    assert set(answer.json) == {"checkout_url"}
    return parse_qs(urlsplit(answer.json["checkout_url"]).query)


def reorder(api: Any, basket: str, token: str, **change: Any) -> Any:
    """POST /orders from a repayment basket, authenticated by its Order-Token."""
    return api.create(
        {"basket": basket, **change}, auth=None, headers={"Order-Token": token}
    )


def advance(api: Any, duration: str) -> None:
    answer = api.post("/_sandbox/clock", {"advance": duration}, auth=None)
    assert answer.status == 200, answer


def refused(answer: Any, status: int, kind: str) -> None:
    assert (answer.status, answer.json["type"]) == (status, kind), answer
    assert answer.headers["Content-Type"] == "application/json"


# -- paying -------------------------------------------------------------------


def test_pay_completes_and_issues_one_ticket_per_unit(api):
    holders = [consumer(21, first_name="Anna"), consumer(22, first_name="Bram")]
    body = order_body((WEEKEND, 2), (DAY_PARKING, 1))
    body["products"][0]["consumers"] = holders
    order = api.create(body).json
    uid = order["uid"]
    assert order["status"] == "pending"
    assert rels(order) == {"payment", "shop:ordercancellation"}
    assert tickets(order) == []

    paid = api.pay(uid)
    assert paid.status == 200
    assert paid.json["status"] == "completed"
    assert [p["status"] for p in paid.json["payment_attempts"]] == ["paid"]

    order = read(api, uid)
    assert order["status"] == "completed"
    assert order["payment"] == {"status": "paid", "reason": None}
    assert rels(order) == {"shop:etickets"}
    # 2 x 5.45 + 1.00 + 1.23 (the combo's parking) + 2 x 0.50 + 0.25 + 1.00 iDeal
    assert amount(order["grand_total"]) == Decimal("15.38")
    issued = tickets(order)
    assert [uid_of(t["_links"]["shop:product"]["href"]) for t in issued] == [
        WEEKEND,
        WEEKEND,
        DAY_PARKING,
        PARKING,
    ]
    codes = [t["code"] for t in issued]
    assert len(set(codes)) == 4
    assert all(re.fullmatch(r"\d{16}", code) for code in codes)
    assert len({t["uid"] for t in issued}) == 4
    assert [t["consumer"] for t in issued] == [*holders, None, None]
    assert {t["status"] for t in issued} == {"valid"}
    assert [amount({"amount": t["price"]["amount"]}) for t in issued] == [
        Decimal("5.45"),
        Decimal("5.45"),
        Decimal("1.00"),
        Decimal("1.23"),
    ]

    for ticket in issued:
        answer = api.get(f"/tickets/{ticket['uid']}")
        assert answer.status == 200
        assert answer.json == ticket
        assert answer.json["_links"]["shop:order"]["href"] == f"{HOST}/orders/{uid}"


def test_ticket_needs_access_to_its_order(api):
    order = placed(api, (WEEKEND, 1))
    api.pay(order["uid"])
    ticket = tickets(read(api, order["uid"]))[0]["uid"]
    token = api.secrets(order["uid"])["order_token"]
    assert (
        api.get(f"/tickets/{ticket}", auth=None, headers={"Order-Token": token}).status
        == 200
    )
    refused(api.get(f"/tickets/{ticket}", auth=PARTNER_B), 403, "FORBIDDEN")
    refused(api.get(f"/tickets/{ticket}", auth=None), 401, "UNAUTHORIZED")
    refused(api.get(f"/tickets/{'0' * 32}"), 404, "NOT_FOUND")


def test_etickets_link_downloads_a_real_pdf(api):
    order = placed(api, (WEEKEND, 2))
    api.pay(order["uid"])
    order = read(api, order["uid"])
    token = api.secrets(order["uid"])["order_token"]
    href = order["_links"]["shop:etickets"]["href"]
    assert href == (
        f"{HOST}/_sandbox/etickets/{order['uid']}?order_token={token}"
        f"&sandbox_session={api.session}"
    )

    pdf = download(api, href)
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    data = pdf.get_data()
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    assert data.count(b"/Type /Page ") == 2
    assert b"SANDBOX" in data
    for ticket in tickets(order):
        assert ticket["uid"].encode() in data
        assert ticket["code"].encode() in data

    wrong = download(api, href.replace(token, "not-the-token"))
    assert wrong.status_code == 403


def test_etickets_name_the_event(api):
    event = api.get(f"/events/{FESTIVAL}").json["title"]["en"]
    order = placed(api, (WEEKEND, 1))
    api.pay(order["uid"])
    href = read(api, order["uid"])["_links"]["shop:etickets"]["href"]
    assert event.encode("latin-1") in download(api, href).get_data()


def test_failed_payment_leaves_pending_with_repayment_link(api):
    order = placed(api, (WEEKEND, 2))
    uid = order["uid"]
    answer = api.pay(uid, "failed")
    assert answer.status == 200
    assert answer.json["status"] == "pending"

    order = read(api, uid)
    assert order["status"] == "pending"
    assert order["payment"]["status"] == "failed"
    assert order["payment"]["reason"]
    assert rels(order) == {"shop:repayment", "shop:ordercancellation"}
    assert order["_links"]["shop:repayment"] == {
        "href": f"{HOST}/orders/{uid}/repayment"
    }
    assert tickets(order) == []
    refused(api.pay(uid), 400, "BAD_REQUEST")
    assert read(api, uid)["payment"]["status"] == "failed"


def test_canceled_payment_cancels_and_gives_stock_back(api):
    assert availability(api, BACKSTAGE) == 5
    order = placed(api, (BACKSTAGE, 2))
    assert availability(api, BACKSTAGE) == 3
    assert api.pay(order["uid"], "canceled").json["status"] == "canceled"

    order = read(api, order["uid"])
    assert order["status"] == "canceled"
    assert order["payment"]["status"] == "canceled"
    assert rels(order) == set()
    assert availability(api, BACKSTAGE) == 5
    refused(api.pay(order["uid"]), 400, "BAD_REQUEST")


@pytest.mark.parametrize("outcome", ["refunded", "", "PAID"])
def test_unknown_payment_outcome_is_refused(api, outcome):
    order = placed(api, (WEEKEND, 1))
    refused(api.pay(order["uid"], outcome), 400, "BAD_REQUEST")
    assert read(api, order["uid"])["payment"] == {"status": "pending", "reason": None}


def test_free_order_completes_at_creation_without_payment_method(api):
    answer = api.create(
        {"products": [{"product": FREE, "quantity": 2}], "consumer": consumer()}
    )
    assert answer.status == 201, answer
    order = read(api, answer.json["uid"])
    assert order == answer.json
    assert order["status"] == "completed"
    assert order["payment"] is None
    assert order["payment_method"] is None
    assert amount(order["grand_total"]) == Decimal("0.00")
    assert rels(order) == {"shop:etickets"}
    assert len(tickets(order)) == 2
    assert download(api, order["_links"]["shop:etickets"]["href"]).status_code == 200


def test_shipping_costs_make_an_order_non_free(api):
    body = {
        "products": [{"product": FREE, "quantity": 1}],
        "consumer": consumer(),
        "shipping_method": ETICKET,
    }
    answer = api.create(body)
    refused(answer, 400, "PAYMENT_METHOD_MISSING")
    assert "0.50" in answer.json["message"]

    order = api.create({**body, "payment_method": IDEAL}).json
    assert order["status"] == "pending"
    assert amount(order["grand_total"]) == Decimal("1.50")  # Eticket 0.50 + iDeal
    assert "payment" in rels(order)


def checkout(api: Any, uid: str, outcome: str) -> Any:
    """A browser's click on the hosted payment page (see test_checkout_browser)."""
    return api.client.post(
        f"/_sandbox/checkout/{uid}?sandbox_session={api.session}",
        data={"outcome": outcome},
    )


def test_checkout_page_redirects_to_the_default_return_page(api):
    order = placed(api, (WEEKEND, 1))
    page = download(api, order["_links"]["payment"]["href"])
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert order["reference"] in html
    assert 'id="grand-total">6.95 EUR<' in html
    assert all(f'id="{button}"' in html for button in ("pay", "fail", "cancel"))

    answer = checkout(api, order["uid"], "failed")
    assert answer.status_code == 303
    assert answer.headers["Location"] == (
        f"{HOST}/_sandbox/return?order={order['uid']}&outcome=failed"
        f"&sandbox_session={api.session}"
    )
    back = download(api, answer.headers["Location"])
    assert back.status_code == 200
    assert order["uid"] in back.get_data(as_text=True)
    assert read(api, order["uid"])["payment"]["status"] == "failed"

    again = checkout(api, order["uid"], "paid")
    assert again.status_code == 400
    assert 'id="not-payable"' in again.get_data(as_text=True)


def test_checkout_page_redirects_to_the_orders_redirect_url(api):
    order = placed(
        api, (WEEKEND, 1), redirect_url="http://www.example.com/redirect_url/?shop=7"
    )
    answer = checkout(api, order["uid"], "paid")
    assert answer.status_code == 303
    assert answer.headers["Location"] == (
        f"http://www.example.com/redirect_url/?shop=7&order={order['uid']}&outcome=paid"
    )
    assert read(api, order["uid"])["status"] == "completed"


def test_checkout_page_pays_a_repayment_basket(api):
    order = failed(api)
    repay(api, order["uid"])
    html = download(
        api, f"{HOST}/_sandbox/checkout/{order['uid']}?sandbox_session={api.session}"
    ).get_data(as_text=True)
    assert "basket (repayment)" in html
    assert checkout(api, order["uid"], "paid").status_code == 303
    order = read(api, order["uid"])
    assert order["status"] == "completed"
    assert [a["status"] for a in api.secrets(order["uid"])["payment_attempts"]] == [
        "failed",
        "paid",
    ]


# -- repayment ----------------------------------------------------------------


def test_repayment_journey(api):
    order = failed(api, (WEEKEND, 2))
    uid = order["uid"]
    token = api.secrets(uid)["order_token"]

    query = repay(api, uid)
    assert query["order_token"] == [token]
    assert re.fullmatch(rf"{HOST}/channels/[0-9a-f]{{32}}", query["channel"][0])
    assert query["basket"] == [f"{HOST}/baskets/{uid}"]
    assert api.secrets(uid)["in_basket"] is True

    order = read(api, uid)
    assert order["status"] == "pending"
    assert rels(order) == {"shop:ordercancellation"}

    basket = api.get(query["basket"][0], auth=None, headers={"Order-Token": token})
    assert basket.status == 200, basket
    assert basket.json["uid"] == uid
    assert basket.json["_links"]["self"]["href"] == f"{HOST}/baskets/{uid}"
    assert basket.json["_links"]["shop:order"]["href"] == f"{HOST}/orders/{uid}"
    assert [
        (uid_of(p["product"]), p["quantity"]) for p in basket.json["product_selection"]
    ] == [(WEEKEND, 2)]
    assert amount(basket.json["grand_total"]) == Decimal("12.90")

    again = reorder(api, query["basket"][0], token, payment_method=CREDITCARD)
    assert again.status == 201, again
    assert again.headers["Location"] == f"{HOST}/orders/{uid}"
    order = read(api, uid)
    assert order == again.json
    assert order["uid"] == uid
    assert order["status"] == "pending"
    assert order["payment"] == {"status": "pending", "reason": None}
    assert order["payment_method"]["uid"] == CREDITCARD
    assert amount(order["grand_total"]) == Decimal("13.40")  # credit card 1.50
    assert rels(order) == {"payment", "shop:ordercancellation"}
    attempts = api.secrets(uid)["payment_attempts"]
    assert [(a["attempt"], a["status"], a["payment_method"]) for a in attempts] == [
        (1, "failed", IDEAL),
        (2, "pending", CREDITCARD),
    ]

    assert api.pay(uid).status == 200
    order = read(api, uid)
    assert order["status"] == "completed"
    assert order["payment"] == {"status": "paid", "reason": None}
    assert len(tickets(order)) == 2
    refused(api.post(f"/orders/{uid}/repayment"), 400, "BAD_REQUEST")


def test_repayment_basket_may_change_the_consumer(api):
    order = failed(api)
    token = api.secrets(order["uid"])["order_token"]
    basket = repay(api, order["uid"])["basket"][0]
    new = consumer(31, first_name="Nieuw")
    again = reorder(api, basket, token, consumer=new, payment_method=IDEAL)
    assert again.status == 201, again
    assert read(api, order["uid"])["consumer"] == new


@pytest.mark.parametrize(
    "change",
    [
        {"products": [{"product": WEEKEND, "quantity": 3}]},
        {"shipping_method": POSTAL},
        {"external_reference": "CHANGED"},
        {"redirect_url": "https://shop.example/changed"},
        {"donation_amount": "1.00"},
    ],
)
def test_repayment_basket_refuses_other_changes(api, change):
    order = failed(api)
    uid = order["uid"]
    token = api.secrets(uid)["order_token"]
    basket = repay(api, uid)["basket"][0]
    refused(
        reorder(api, basket, token, payment_method=CREDITCARD, **change),
        400,
        "BAD_REQUEST",
    )

    # Nothing changed: still the same basket, which may still be ordered.
    assert api.secrets(uid)["in_basket"] is True
    assert read(api, uid)["payment_method"]["uid"] == IDEAL
    assert reorder(api, basket, token).status == 201


def test_repayment_basket_checks_the_new_method_needs(api):
    order = failed(api)
    uid = order["uid"]
    token = api.secrets(uid)["order_token"]
    basket = repay(api, uid)["basket"][0]
    without_country = {k: v for k, v in consumer(5).items() if k != "country"}
    answer = reorder(
        api, basket, token, payment_method=CREDITCARD, consumer=without_country
    )
    refused(answer, 400, "CONSUMER_MISSING")
    assert answer.json["errors"] == [
        {"path": "$.consumer.country", "message": "is required by the payment method"}
    ]
    order = read(api, uid)
    assert order["payment_method"]["uid"] == IDEAL
    assert order["consumer"]["email"] == "ci.buyer.1@example.com"
    refused(reorder(api, basket, token, payment_method="0" * 32), 404, "NOT_FOUND")


def test_repayment_basket_changed_with_put(api):
    order = failed(api)
    uid = order["uid"]
    token = {"Order-Token": api.secrets(uid)["order_token"]}
    basket = repay(api, uid)["basket"][0]
    new = consumer(32, first_name="Gewijzigd")
    answer = api.put(
        basket,
        {"consumer": new, "payment_method": CREDITCARD},
        auth=None,
        headers=token,
    )
    assert answer.status == 200, answer
    assert answer.json["consumer"] == new
    assert api.get(basket, auth=None, headers=token).json == answer.json
    refused(
        api.put(
            basket,
            {"products": [{"product": WEEKEND, "quantity": 1}]},
            auth=None,
            headers=token,
        ),
        400,
        "BAD_REQUEST",
    )
    refused(api.put(basket, {"consumer": new}, auth=PARTNER_B), 403, "FORBIDDEN")

    assert reorder(api, basket, token["Order-Token"]).status == 201
    order = read(api, uid)
    assert order["consumer"] == new
    assert order["payment_method"]["uid"] == CREDITCARD


def test_repayment_basket_needs_its_order_token(api):
    order = failed(api)
    basket = repay(api, order["uid"])["basket"][0]
    refused(api.create({"basket": basket}), 401, "UNAUTHORIZED")
    refused(reorder(api, basket, "seed-order-token-pending"), 403, "FORBIDDEN")
    refused(reorder(api, basket, "no-such-token"), 401, "UNAUTHORIZED")
    assert api.secrets(order["uid"])["in_basket"] is True


def test_repayment_of_the_seeded_failed_order(api):
    order = read(api, SEED_FAILED)
    assert order["payment"]["status"] == "failed"
    assert "shop:repayment" in rels(order)
    query = repay(api, SEED_FAILED)
    assert query["order_token"] == ["seed-order-token-failed"]
    again = reorder(api, query["basket"][0], "seed-order-token-failed")
    assert again.status == 201, again
    assert again.json["payment"] == {"status": "pending", "reason": None}


def test_repayment_twice_gives_the_same_checkout_url(api):
    order = failed(api)
    assert repay(api, order["uid"]) == repay(api, order["uid"])


@pytest.mark.parametrize("state", ["unpaid", "paid", "canceled"])
def test_repayment_outside_a_failed_payment_is_400(api, state):
    order = placed(api, (WEEKEND, 1))
    if state != "unpaid":
        api.pay(order["uid"], state)
    answer = api.post(f"/orders/{order['uid']}/repayment")
    refused(answer, 400, "BAD_REQUEST")
    assert (
        read(api, order["uid"])["status"]
        == {"unpaid": "pending", "paid": "completed", "canceled": "canceled"}[state]
    )


def test_repayment_needs_the_creators_credentials(api):
    order = failed(api)
    uid = order["uid"]
    refused(api.post(f"/orders/{uid}/repayment", auth=PARTNER_B), 403, "FORBIDDEN")
    refused(api.post(f"/orders/{uid}/repayment", auth=None), 401, "UNAUTHORIZED")
    refused(api.post(f"/orders/{'0' * 32}/repayment"), 404, "NOT_FOUND")
    assert "shop:repayment" in rels(read(api, uid))


def test_repayment_refused_after_expiry(api):
    order = failed(api, (BACKSTAGE, 1))
    assert availability(api, BACKSTAGE) == 4
    advance(api, "PT31M")
    order = read(api, order["uid"])
    assert order["status"] == "canceled"
    assert rels(order) == set()
    assert availability(api, BACKSTAGE) == 5
    refused(api.post(f"/orders/{order['uid']}/repayment"), 400, "BAD_REQUEST")


def test_repayment_basket_expires_with_its_order(api):
    order = failed(api, (BACKSTAGE, 1))
    uid = order["uid"]
    token = api.secrets(uid)["order_token"]
    basket = repay(api, uid)["basket"][0]
    advance(api, "PT31M")
    assert read(api, uid)["status"] == "canceled"
    assert availability(api, BACKSTAGE) == 5
    refused(reorder(api, basket, token), 400, "BAD_REQUEST")
    assert read(api, uid)["status"] == "canceled"


# -- baskets ------------------------------------------------------------------


def test_basket_create_read_update(api):
    before = availability(api, WEEKEND)
    created = api.post(
        "/baskets",
        {"products": [{"product": WEEKEND, "quantity": 1}], "consumer": consumer(3)},
    )
    assert created.status == 201, created
    uid = created.json["uid"]
    assert re.fullmatch(r"[0-9a-f]{32}", uid)
    assert created.headers["Location"] == f"{HOST}/baskets/{uid}"
    assert created.json["status"] == "open"
    assert amount(created.json["grand_total"]) == Decimal("5.95")
    assert api.get(f"/baskets/{uid}").json == created.json

    changed = api.put(
        f"/baskets/{uid}", {"payment_method": IDEAL, "shipping_method": ETICKET}
    )
    assert changed.status == 200, changed
    basket = api.get(f"/baskets/{uid}").json
    assert basket == changed.json
    assert basket["payment_method"]["uid"] == IDEAL
    assert basket["shipping_method"]["uid"] == ETICKET
    assert basket["consumer"]["email"] == "ci.buyer.3@example.com"
    assert amount(basket["grand_total"]) == Decimal("7.45")  # + 1.00 + 0.50
    assert availability(api, WEEKEND) == before  # a basket holds no stock


@pytest.mark.parametrize(
    "payload, status, kind",
    [
        (
            {"products": [{"product": WEEKEND, "quantity": 0}]},
            400,
            "CONSTRAINT_VIOLATION",
        ),
        ({"products": [{"product": "0" * 32, "quantity": 1}]}, 404, "NOT_FOUND"),
        (
            {"products": [{"product": GROUP, "quantity": 1}]},
            400,
            "CONSTRAINT_VIOLATION",
        ),
        (
            {"products": [{"product": BACKSTAGE, "quantity": 6}]},
            400,
            "CONSTRAINT_VIOLATION",
        ),
        ({"consumer": {"email": "not-an-email"}}, 400, "CONSTRAINT_VIOLATION"),
        ({"shipping_method": "0" * 32}, 404, "NOT_FOUND"),
        ({"payment_method": "0" * 32}, 404, "NOT_FOUND"),
        (
            {"vouchers": ["NOPE"], "products": [{"product": WEEKEND, "quantity": 1}]},
            400,
            "VOUCHER_INVALID",
        ),
        ({"bogus": 1}, 400, "CONSTRAINT_VIOLATION"),
    ],
)
def test_basket_is_validated_like_an_order(api, payload, status, kind):
    refused(api.post("/baskets", payload), status, kind)
    uid = api.post(
        "/baskets", {"products": [{"product": WEEKEND, "quantity": 1}]}
    ).json["uid"]
    before = api.get(f"/baskets/{uid}").json
    refused(api.put(f"/baskets/{uid}", payload), status, kind)
    assert api.get(f"/baskets/{uid}").json == before


def test_basket_access(api):
    refused(api.get(f"/baskets/{SEED_BASKET}", auth=PARTNER_B), 403, "FORBIDDEN")
    refused(api.get(f"/baskets/{SEED_BASKET}", auth=None), 401, "UNAUTHORIZED")
    refused(api.get(f"/baskets/{'0' * 32}"), 404, "NOT_FOUND")
    refused(api.post("/baskets", {}, auth=GUEST), 403, "FORBIDDEN")


def test_order_from_basket_inherits_and_request_overrides(api):
    uid = api.post(
        "/baskets",
        {
            "products": [{"product": WEEKEND, "quantity": 1}],
            "consumer": consumer(3),
            "payment_method": IDEAL,
            "shipping_method": ETICKET,
            "external_reference": "B-0",
        },
    ).json["uid"]
    answer = api.create(
        {
            "basket": f"{UPSTREAM}/baskets/{uid}",
            "payment_method": CREDITCARD,
            "external_reference": "B-1",
        }
    )
    assert answer.status == 201, answer
    order = read(api, answer.json["uid"])
    assert order["uid"] != uid
    assert order["status"] == "pending"
    assert [
        (uid_of(p["product"]), p["quantity"]) for p in order["product_selection"]
    ] == [(WEEKEND, 1)]
    assert order["consumer"]["email"] == "ci.buyer.3@example.com"
    assert order["shipping_method"]["uid"] == ETICKET
    assert order["payment_method"]["uid"] == CREDITCARD
    assert order["external_reference"] == "B-1"
    assert amount(order["grand_total"]) == Decimal("7.95")  # 5.95 + 1.50 + 0.50

    basket = api.get(f"/baskets/{uid}").json
    assert basket["status"] == "ordered"
    assert basket["_links"]["shop:order"]["href"] == f"{HOST}/orders/{order['uid']}"
    refused(api.create({"basket": uid}), 400, "BAD_REQUEST")
    refused(api.put(f"/baskets/{uid}", {"payment_method": IDEAL}), 400, "BAD_REQUEST")


def test_order_from_the_seeded_basket_as_the_page_shows(api):
    basket = api.get(f"/baskets/{SEED_BASKET}").json
    assert [
        (uid_of(p["product"]), p["quantity"]) for p in basket["product_selection"]
    ] == [(WEEKEND, 2)]
    assert amount(basket["grand_total"]) == Decimal("11.90")
    before = availability(api, WEEKEND)

    # The page's example, without its trailing comma (see test_transfers.py).
    answer = api.create(
        {
            "basket": f"{UPSTREAM}/basket/{SEED_BASKET}",
            "payment_method": IDEAL,
            "shipping_method": ETICKET,
        }
    )
    assert answer.status == 201, answer
    order = read(api, answer.json["uid"])
    assert order["consumer"] == basket["consumer"]
    assert amount(order["grand_total"]) == Decimal("13.40")  # 11.90 + 1.00 + 0.50
    assert availability(api, WEEKEND) == before - 2


def test_order_from_an_empty_basket(api):
    uid = api.post("/baskets", {"consumer": consumer()}).json["uid"]
    refused(api.create({"basket": uid}), 400, "EMPTY_BASKET")
    refused(api.create({"basket": "0" * 32}), 404, "NOT_FOUND")
    answer = api.create(
        {
            "basket": uid,
            "products": [{"product": WEEKEND, "quantity": 1}],
            "payment_method": IDEAL,
        }
    )
    assert answer.status == 201, answer
    assert answer.json["consumer"]["email"] == "ci.buyer.1@example.com"


def test_basket_consumer_is_completed_by_the_order(api):
    partial = {"first_name": "Half", "last_name": "Filled"}
    uid = api.post(
        "/baskets",
        {
            "products": [{"product": WEEKEND, "quantity": 1}],
            "consumer": partial,
            "payment_method": IDEAL,
        },
    ).json["uid"]
    answer = api.create({"basket": uid})
    refused(answer, 400, "CONSUMER_MISSING")
    assert answer.json["message"] == "consumer.email is required"
    assert api.get(f"/baskets/{uid}").json["status"] == "open"
    answer = api.create(
        {"basket": uid, "consumer": {**partial, "email": "half@example.com"}}
    )
    assert answer.status == 201, answer
    assert answer.json["consumer"]["email"] == "half@example.com"


def test_order_from_a_basket_of_another_application(api):
    refused(
        api.create({"basket": SEED_BASKET, "payment_method": IDEAL}, auth=PARTNER_B),
        403,
        "FORBIDDEN",
    )
    assert api.get(f"/baskets/{SEED_BASKET}").json["status"] == "open"


def test_an_order_that_is_not_a_repayment_basket(api):
    order = placed(api, (WEEKEND, 1))
    token = api.secrets(order["uid"])["order_token"]
    refused(reorder(api, order["uid"], token), 400, "BAD_REQUEST")
    assert read(api, order["uid"])["payment"]["status"] == "pending"


# -- cancellation -------------------------------------------------------------


def test_ordercancellation_cancels_and_gives_stock_back(api):
    order = placed(api, (BACKSTAGE, 2))
    assert availability(api, BACKSTAGE) == 3
    answer = api.post(
        "/ordercancellation",
        {"order": f"{UPSTREAM}/orders/{order['uid']}", "reason": "Changed my mind"},
    )
    assert answer.status == 200, answer

    order = read(api, order["uid"])
    assert answer.json == order
    assert order["status"] == "canceled"
    assert order["payment"] == {"status": "canceled", "reason": "Changed my mind"}
    assert rels(order) == set()
    assert availability(api, BACKSTAGE) == 5
    assert api.secrets(order["uid"])["cancel_reason"] == "Changed my mind"
    refused(api.post("/ordercancellation", {"order": order["uid"]}), 400, "BAD_REQUEST")


def test_ordercancellation_of_a_failed_payment(api):
    order = failed(api, (BACKSTAGE, 1))
    answer = api.post("/ordercancellation", {"order": order["_links"]["self"]["href"]})
    assert answer.status == 200, answer
    order = read(api, order["uid"])
    assert order["status"] == "canceled"
    assert order["payment"]["status"] == "failed"
    assert rels(order) == set()
    assert availability(api, BACKSTAGE) == 5


@pytest.mark.parametrize(
    "who, status, kind",
    [
        (PARTNER_B, 403, "FORBIDDEN"),  # another application
        (GUEST, 403, "FORBIDDEN"),  # no cancel permission
        (None, 401, "UNAUTHORIZED"),
    ],
)
def test_ordercancellation_refused_to_others(api, who, status, kind):
    order = placed(api, (BACKSTAGE, 1))
    refused(
        api.post("/ordercancellation", {"order": order["uid"]}, auth=who), status, kind
    )
    assert read(api, order["uid"])["status"] == "pending"
    assert availability(api, BACKSTAGE) == 4


@pytest.mark.parametrize(
    "body, status, kind",
    [
        ({"order": SEED_COMPLETED}, 400, "BAD_REQUEST"),  # paid: refund instead
        ({"order": "0" * 32}, 404, "NOT_FOUND"),
        ({"reason": "no order"}, 400, "BAD_REQUEST"),
    ],
)
def test_ordercancellation_refusals(api, body, status, kind):
    refused(api.post("/ordercancellation", body), status, kind)
    assert read(api, SEED_COMPLETED)["status"] == "completed"


def test_paid_order_cannot_be_canceled(api):
    order = placed(api, (BACKSTAGE, 1))
    api.pay(order["uid"])
    refused(api.post("/ordercancellation", {"order": order["uid"]}), 400, "BAD_REQUEST")
    assert read(api, order["uid"])["status"] == "completed"
    assert availability(api, BACKSTAGE) == 4


# -- the clock and expiry -----------------------------------------------------


def test_unpaid_order_expires_after_thirty_minutes(api):
    order = placed(api, (BACKSTAGE, 2))
    uid = order["uid"]
    secrets = api.secrets(uid)
    created = datetime.fromisoformat(order["created_date"].replace("Z", "+00:00"))
    expires = datetime.fromisoformat(secrets["expires_at"].replace("Z", "+00:00"))
    assert expires - created == timedelta(minutes=30)

    advance(api, "PT29M")
    assert read(api, uid)["status"] == "pending"
    assert availability(api, BACKSTAGE) == 3

    advance(api, "PT2M")
    order = read(api, uid)
    assert order["status"] == "canceled"
    assert order["payment"]["status"] == "canceled"
    assert rels(order) == set()
    assert availability(api, BACKSTAGE) == 5
    secrets = api.secrets(uid)
    assert secrets["expires_at"] is None
    assert "expired" in secrets["cancel_reason"]
    refused(api.pay(uid), 400, "BAD_REQUEST")


def test_clock_read_and_set(api):
    before = api.get("/_sandbox/clock", auth=None).json
    order = placed(api, (BACKSTAGE, 1))
    later = datetime.fromisoformat(before["now"].replace("Z", "+00:00")) + timedelta(
        hours=2
    )
    target = later.strftime("%Y-%m-%dT%H:%M:%SZ")
    moved = api.post("/_sandbox/clock", {"now": target}, auth=None)
    assert moved.status == 200
    assert moved.json["now"] == target
    assert api.get("/_sandbox/clock", auth=None).json["now"] >= target
    assert read(api, order["uid"])["status"] == "canceled"
    assert availability(api, BACKSTAGE) == 5
    created = placed(api, (WEEKEND, 1))["created_date"]
    assert created[:15] == target[:15]  # the same ten minutes, on the session clock


@pytest.mark.parametrize(
    "body", [{"advance": "-PT1M"}, {"advance": "soon"}, {"now": "yesterday"}]
)
def test_clock_refuses_nonsense(api, body):
    refused(api.post("/_sandbox/clock", body, auth=None), 400, "BAD_REQUEST")


def test_paid_and_free_orders_never_expire(api):
    paid = placed(api, (WEEKEND, 1))
    api.pay(paid["uid"])
    free = api.create(
        {"products": [{"product": FREE, "quantity": 1}], "consumer": consumer()}
    ).json
    advance(api, "P1D")
    assert read(api, paid["uid"])["status"] == "completed"
    assert read(api, free["uid"])["status"] == "completed"


def test_order_ttl_setting(api_for):
    api = api_for(order_ttl=60)
    order = placed(api, (BACKSTAGE, 1))
    advance(api, "PT59S")
    assert read(api, order["uid"])["status"] == "pending"
    advance(api, "PT2S")
    assert read(api, order["uid"])["status"] == "canceled"
    assert availability(api, BACKSTAGE) == 5
