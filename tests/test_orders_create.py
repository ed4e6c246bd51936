"""Placing and reading orders: the walking skeleton's journey and its refusals."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
import requests

from tests.helpers import (
    BACKSTAGE,
    DAY_PARKING,
    ETICKET,
    IDEAL,
    PARKING,
    PARTNER,
    WEEKEND,
    amount,
    consumer,
    order_body,
    page_example,
    page_example_text,
)


def test_page_example_journey_catalogue_order_read(api):
    events = api.get("/events")
    assert events.status == 200
    festival = next(
        e
        for e in events.json["_embedded"]["shop:event"]
        if e["uid"] == "6dd4462cba8b430cb91d73b8a1101593"
    )
    products = api.get(festival["_links"]["shop:products"]["href"])
    assert WEEKEND in {p["uid"] for p in products.json["_embedded"]["shop:product"]}

    created = api.post(
        "/orders", data=page_example_text(), content_type="application/json"
    )
    assert created.status == 201, created
    location = created.headers["Location"]
    assert location == f"http://localhost/orders/{created.json['uid']}"

    order = api.get(location)
    assert order.status == 200
    body = order.json
    assert body == created.json
    assert body["status"] == "pending"
    lines = body["product_selection"]
    assert [
        (line["product"].rsplit("/", 1)[1], line["quantity"]) for line in lines
    ] == [(WEEKEND, 3), (DAY_PARKING, 1), (PARKING, 1)]
    assert lines[2]["parent"] == f"http://localhost/products/{DAY_PARKING}"
    assert [line["total"]["amount"] for line in lines] == ["16.35", "1.00", "1.23"]
    # 16.35 + 1.00 + 1.23 products; 3 x 0.50 + 0.25 service; iDeal 1.00,
    # Eticket 0.50, external purchases 3 x 50.00.
    assert amount(body["product_total"]) == Decimal("18.58")
    assert amount(body["service_costs"]) == Decimal("1.75")
    assert amount(body["grand_total"]) == Decimal("171.83")
    assert '"grand_total": {"amount": 171.83' in order.text
    assert body["shipping_method"]["uid"] == ETICKET
    assert body["payment_method"]["uid"] == IDEAL
    assert body["payment"] == {"status": "pending", "reason": None}
    assert body["external_reference"] == "CO-118"
    links = body["_links"]
    assert links["payment"]["href"] == (
        f"http://localhost/_sandbox/checkout/{body['uid']}"
        f"?sandbox_session={api.session}"
    )
    assert (
        links["shop:ordercancellation"]["href"] == "http://localhost/ordercancellation"
    )
    assert set(body["_embedded"]) == {
        "shop:product",
        "shop:ticket",
        "shop:customer_service",
    }


def test_grand_total_counts_every_kind_of_cost(api):
    body = order_body(
        (WEEKEND, 2),
        shipping_method=ETICKET,
        donation_amount="2.50",
        external_purchases=[
            {
                "title": {"en": "Locker"},
                "product_reference": "L-1",
                "quantity": 2,
                "unit_price": {"currency": "EUR", "amount": "3.10"},
            }
        ],
    )
    order = api.create(body).json
    assert amount(order["product_total"]) == Decimal("10.90")
    assert amount(order["service_costs"]) == Decimal("1.00")
    # 10.90 + 1.00 + 1.00 (iDeal) + 0.50 (Eticket) + 6.20 + 2.50
    assert amount(order["grand_total"]) == Decimal("22.10")


@pytest.mark.parametrize(
    "change, status, kind",
    [
        ({"products": []}, 400, "EMPTY_BASKET"),
        (
            {"tickets": ["a2e37ee17474417a87259b02b674da9a"]},
            400,
            "BOTH_TICKETS_AND_PRODUCTS_PROVIDED",
        ),
        ({"products": None}, 400, "NO_TICKETS_OR_PRODUCTS_PROVIDED"),
        ({"external_reference": "x" * 33}, 400, "CONSTRAINT_VIOLATION"),
        (
            {"redirect_url": "https://example.com/" + "x" * 240},
            400,
            "CONSTRAINT_VIOLATION",
        ),
        ({"payment_method": "0" * 32}, 404, "NOT_FOUND"),
        ({"shipping_method": "0" * 32}, 404, "NOT_FOUND"),
        ({"vouchers": ["NOPE"]}, 400, "VOUCHER_INVALID"),
        ({"payment_method": None}, 400, "PAYMENT_METHOD_MISSING"),
    ],
)
def test_refusals_store_nothing(api, change, status, kind):
    body = page_example()
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    before = api.get("/orders").json["item_count"]
    answer = api.create(body)
    assert (answer.status, answer.json["type"]) == (status, kind), answer
    assert answer.headers["Content-Type"] == "application/json"
    assert api.get("/orders").json["item_count"] == before


def test_missing_consumer_email_is_named(api):
    body = page_example()
    del body["consumer"]["email"]
    answer = api.create(body)
    assert answer.status == 400
    assert answer.json["type"] == "CONSUMER_MISSING"
    assert answer.json["message"] == "consumer.email is required"
    assert {
        "path": "$.consumer.email",
        "message": "is a required property",
    } in answer.json["errors"]


def test_without_credentials_401(api):
    answer = api.create(page_example(), auth=None)
    assert (answer.status, answer.json["type"]) == (401, "UNAUTHORIZED")


def test_unencoded_basic_form_of_the_docs(api):
    answer = api.create(
        page_example(), auth={"Authorization": "Basic partner:partner-secret"}
    )
    assert answer.status == 201


def test_sessions_do_not_see_each_other(app):
    from tests.conftest import Api

    a, b = Api(app, "iso-a"), Api(app, "iso-b")
    uid = a.create(order_body((BACKSTAGE, 2))).json["uid"]
    assert a.get(f"/orders/{uid}").status == 200
    assert b.get(f"/orders/{uid}").json["type"] == "NOT_FOUND"
    assert a.get(f"/products/{BACKSTAGE}").json["availability"] == 3
    assert b.get(f"/products/{BACKSTAGE}").json["availability"] == 5


def test_twenty_concurrent_orders_for_five_left(live_server):
    session = "race-" + threading.current_thread().name
    results: list[int] = []
    start = threading.Barrier(20)

    def buy(n: int) -> None:
        start.wait()
        answer = requests.post(
            f"{live_server}/orders",
            json=order_body((BACKSTAGE, 1), n=n),
            headers={**PARTNER, "Sandbox-Session": session},
            timeout=30,
        )
        results.append(answer.status_code)

    threads = [threading.Thread(target=buy, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [201] * 5 + [400] * 15
    product = requests.get(
        f"{live_server}/products/{BACKSTAGE}",
        headers={**PARTNER, "Sandbox-Session": session},
        timeout=30,
    )
    assert product.json()["availability"] == 0


def test_consumer_strings_round_trip(api):
    body = order_body((WEEKEND, 1))
    body["consumer"] = consumer(
        first_name="Zoë 🎟", last_name="Łukasiewicz-山田", city="Αθήνα"
    )
    order = api.create(body).json
    assert order["consumer"]["first_name"] == "Zoë 🎟"
    assert api.get(f"/orders/{order['uid']}").json["consumer"]["city"] == "Αθήνα"
