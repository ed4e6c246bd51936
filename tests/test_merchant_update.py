"""PUT /orders/<uid>: a merchant changes the consumer of a completed order."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import (
    BEARER,
    COMEDY,
    GUEST,
    MERCHANT,
    PARTNER,
    PARTNER_B,
    SEED_COMPLETED,
    SEED_PENDING,
    WEEKEND,
    basic,
    order_body,
)

TOTALS = ("product_total", "service_costs", "grand_total")
# The orders page's own PUT example.
PAGE_CHANGE = {
    "consumer": {
        "first_name": "John",
        "last_name": "Doe",
        "date_of_birth": "1986-12-30",
        "email": "john.doe@paylogic.eu",
        "gender": 1,
        "address": "Nieuwe Boteringestraat 28",
        "postal_code": "9716 JJ",
        "city": "Groningen",
        "country": "NL",
        "ip": "192.168.1.1",
    },
    "shipping_consumer": {"address": "Javastraat 122", "city": "Den Haag"},
}


def completed(api: Any, auth: Any = "default", product: str = WEEKEND) -> str:
    created = api.create(order_body((product, 2)), auth=auth)
    assert created.status == 201, created
    assert api.pay(created.json["uid"]).status == 200
    return created.json["uid"]  # type: ignore[no-any-return]


def test_merchant_changes_consumer_and_shipping_consumer(api):
    uid = completed(api)
    before = api.get(f"/orders/{uid}").json
    answer = api.put(f"/orders/{uid}", PAGE_CHANGE, auth=MERCHANT)
    assert answer.status == 200, answer
    assert answer.json["consumer"] == PAGE_CHANGE["consumer"]
    assert answer.json["shipping_consumer"] == {
        "address": "Javastraat 122",
        "postal_code": "9716 JJ",
        "city": "Den Haag",
        "country": "NL",
    }
    after = api.get(f"/orders/{uid}").json  # read back by the partner
    assert after["consumer"] == PAGE_CHANGE["consumer"]
    assert after["shipping_consumer"] == answer.json["shipping_consumer"]
    for key in TOTALS:
        assert after[key] == before[key]
    assert after["product_selection"] == before["product_selection"]
    assert after["status"] == "completed"
    assert answer.json == api.get(f"/orders/{uid}", auth=MERCHANT).json


def test_case_5_a_new_consumer_is_read_back(api):
    body = api.get(f"/orders/{SEED_COMPLETED}").json
    change = {"consumer": {"email": "ci.buyer.9@example.com", "first_name": "Nieuwe"}}
    assert api.put(f"/orders/{SEED_COMPLETED}", change, auth=MERCHANT).status == 200
    read = api.get(f"/orders/{SEED_COMPLETED}").json
    assert read["consumer"]["email"] == "ci.buyer.9@example.com"
    assert read["consumer"]["first_name"] == "Nieuwe"
    # Fields not sent stay as they were.
    assert read["consumer"]["last_name"] == body["consumer"]["last_name"]
    assert [read[k] for k in TOTALS] == [body[k] for k in TOTALS]
    # The seeded order of the orders page: 3 weekend tickets and a day ticket
    # with parking, iDeal and Eticket.
    assert str(read["grand_total"]["amount"]) == "21.83"


def test_only_shipping_consumer(api):
    uid = completed(api)
    consumer = api.get(f"/orders/{uid}").json["consumer"]
    answer = api.put(
        f"/orders/{uid}",
        {
            "shipping_consumer": {
                "first_name": "Post",
                "address": "Kade 1",
                "city": "Delft",
            }
        },
        auth=MERCHANT,
    )
    assert answer.status == 200
    assert answer.json["consumer"] == consumer
    assert answer.json["shipping_consumer"] == {
        "first_name": "Post",
        "address": "Kade 1",
        "city": "Delft",
        "country": "NL",
    }


@pytest.mark.parametrize(
    "auth, status, kind",
    [
        (PARTNER, 403, "FORBIDDEN"),
        (PARTNER_B, 403, "FORBIDDEN"),
        (GUEST, 403, "FORBIDDEN"),
        (BEARER, 403, "FORBIDDEN"),
        ({"Cognito-Token": "cognito-user-1"}, 401, "UNAUTHORIZED"),
        (None, 401, "UNAUTHORIZED"),
        (basic("merchant", "wrong"), 401, "UNAUTHORIZED"),
    ],
)
def test_who_may_not_change(api, auth, status, kind):
    before = api.get(f"/orders/{SEED_COMPLETED}").json
    answer = api.put(f"/orders/{SEED_COMPLETED}", PAGE_CHANGE, auth=auth)
    assert (answer.status, answer.json["type"]) == (status, kind), answer
    assert api.get(f"/orders/{SEED_COMPLETED}").json == before


def test_merchant_of_another_event_is_forbidden(api):
    uid = completed(api, auth=PARTNER_B, product=COMEDY)
    answer = api.put(f"/orders/{uid}", PAGE_CHANGE, auth=MERCHANT)
    assert (answer.status, answer.json["type"]) == (403, "FORBIDDEN")


def test_pending_order_cannot_be_modified(api):
    before = api.get(f"/orders/{SEED_PENDING}").json
    answer = api.put(f"/orders/{SEED_PENDING}", PAGE_CHANGE, auth=MERCHANT)
    assert (answer.status, answer.json["type"]) == (400, "ORDER_CANNOT_BE_MODIFIED")
    assert answer.headers["Content-Type"] == "application/json"
    assert api.get(f"/orders/{SEED_PENDING}").json == before


def test_canceled_order_cannot_be_modified(api):
    uid = api.create(order_body((WEEKEND, 1))).json["uid"]
    assert api.post("/ordercancellation", {"order": uid}).status == 200
    answer = api.put(f"/orders/{uid}", PAGE_CHANGE, auth=MERCHANT)
    assert (answer.status, answer.json["type"]) == (400, "ORDER_CANNOT_BE_MODIFIED")


@pytest.mark.parametrize(
    "body, path",
    [
        ({}, "$"),
        ({"consumer": {"email": 5}}, "$.consumer.email"),
        ({"consumer": {"gender": 7}}, "$.consumer.gender"),
        ({"products": []}, "$"),
    ],
)
def test_bad_bodies_change_nothing(api, body, path):
    before = api.get(f"/orders/{SEED_COMPLETED}").json
    answer = api.put(f"/orders/{SEED_COMPLETED}", body, auth=MERCHANT)
    assert answer.status == 400, answer
    assert path in [e["path"] for e in answer.json["errors"]]
    assert api.get(f"/orders/{SEED_COMPLETED}").json == before


def test_unknown_order_is_404(api):
    answer = api.put("/orders/" + "0" * 32, PAGE_CHANGE, auth=MERCHANT)
    assert (answer.status, answer.json["type"]) == (404, "NOT_FOUND")


def test_listing_shows_the_change(api):
    api.put(f"/orders/{SEED_COMPLETED}", PAGE_CHANGE, auth=MERCHANT)
    listed = api.get("/orders?status=completed").json["_embedded"]["shop:order"]
    assert listed[0]["consumer"]["email"] == "john.doe@paylogic.eu"
