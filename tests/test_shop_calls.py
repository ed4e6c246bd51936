"""Upsell, refund access, the outbox, bill and storefront (issue 4)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.helpers import (
    BACKSTAGE,
    COMEDY,
    CREDITCARD,
    DAY_PARKING,
    DRINKS,
    ETICKET,
    FESTIVAL,
    FREE,
    GROUP,
    IDEAL,
    JAZZ,
    PARTNER_B,
    POSTAL,
    SEED_COMPLETED,
    SEED_PENDING,
    SHIRT,
    VIP,
    WEEKEND,
    amount,
    order_body,
    page_example,
)

BANCONTACT = "ba2c0a7ba2c0a7ba2c0a7ba2c0a7ba01"
UPSELL = ["050887415a754149a9e8b911b5b45840", "80c1078ec52b48f3adc68fe9b32457fc"]
UPSELL_SALE = "0de86b2cbb674529a681b8e3fe99f1f7"
COMPLETED_TOKEN = {"Order-Token": "seed-order-token-completed"}
FESTIVAL_URI = f"https://shopping-api.paylogic.com/events/{FESTIVAL}"
TOTALS = ("product_total", "service_costs", "grand_total")


def emails(api: Any, kind: str | None = None) -> list[dict[str, Any]]:
    found = api.get("/_sandbox/emails", auth=None).json["emails"]
    return [m for m in found if kind is None or m["kind"] == kind]


def paid(api: Any, body: dict[str, Any], **kw: Any) -> dict[str, Any]:
    created = api.create(body, **kw)
    assert created.status == 201, created
    assert api.pay(created.json["uid"]).status == 200
    return created.json  # type: ignore[no-any-return]


# -- upsell -------------------------------------------------------------------


def test_upsell_recommendation_as_the_page_shows_it(api):
    answer = api.get(
        f"/orders/{SEED_COMPLETED}/upsell-recommendation", headers=COMPLETED_TOKEN
    )
    assert answer.status == 200, answer
    body = answer.json
    assert body["show_images"] is False
    assert body["_links"]["upsell_shop"] == {
        "href": "https://shop.example.com/094a04f823654cb3a7c2cd39386546b9/"
    }
    assert body["_links"]["shop:upsell_sale"] == {
        "href": f"http://localhost/sales/{UPSELL_SALE}"
    }
    assert [p["uid"] for p in body["products"]] == UPSELL
    for product in body["products"]:
        assert product["price"] == {"amount": "2.50", "currency": "EUR"}
        assert product["price_breakdown"] == {
            key: {"amount": value, "currency": "EUR"}
            for key, value in {
                "unit_price_including_service_costs": "4.50",
                "unit_price_excluding_service_costs": "2.50",
                "unit_price_service_costs": "2.00",
                "total_including_service_costs": "4.50",
                "total_excluding_service_costs": "2.50",
                "total_service_costs": "2.00",
            }.items()
        }
        assert product["_links"]["shop:event"]["href"] == (
            f"http://localhost/events/{FESTIVAL}"
        )
        assert product["availability"] == 1000

    sale = api.get(body["_links"]["shop:upsell_sale"]["href"])
    assert sale.status == 200, sale
    assert sale.json["uid"] == UPSELL_SALE
    assert [p["uid"] for p in sale.json["_embedded"]["shop:product"]] == UPSELL
    assert (
        sale.json["_links"]["self"]["href"] == f"http://localhost/sales/{UPSELL_SALE}"
    )


def test_upsell_with_the_cognito_token_of_the_creator(api):
    user = {"Cognito-Token": "cognito-user-1"}
    uid = paid(api, order_body((WEEKEND, 1)), headers=user)["uid"]
    answer = api.get(f"/orders/{uid}/upsell-recommendation", headers=user)
    assert answer.status == 200
    assert [p["uid"] for p in answer.json["products"]] == UPSELL
    other = api.get(
        f"/orders/{uid}/upsell-recommendation",
        headers={"Cognito-Token": "cognito-user-2"},
    )
    assert (other.status, other.json["type"]) == (403, "FORBIDDEN")


@pytest.mark.parametrize(
    "auth, headers, status, kind",
    [
        ("default", None, 403, "FORBIDDEN"),
        ("default", {"Order-Token": "seed-order-token-pending"}, 403, "FORBIDDEN"),
        (None, COMPLETED_TOKEN, 401, "UNAUTHORIZED"),
        (None, None, 401, "UNAUTHORIZED"),
        (
            {"Authorization": "Bearer bearer-frontend"},
            COMPLETED_TOKEN,
            401,
            "UNAUTHORIZED",
        ),
        ("default", {"Order-Token": "not-a-token"}, 401, "UNAUTHORIZED"),
    ],
)
def test_upsell_needs_basic_and_this_orders_token(api, auth, headers, status, kind):
    answer = api.get(
        f"/orders/{SEED_COMPLETED}/upsell-recommendation", auth=auth, headers=headers
    )
    assert (answer.status, answer.json["type"]) == (status, kind), answer


def test_upsell_of_an_event_without_recommendations(api):
    order = paid(api, order_body((JAZZ, 1)))
    token = api.secrets(order["uid"])["order_token"]
    answer = api.get(
        f"/orders/{order['uid']}/upsell-recommendation", headers={"Order-Token": token}
    )
    assert answer.status == 200
    assert (answer.json["products"], answer.json["show_images"]) == ([], False)
    assert "upsell_shop" not in answer.json["_links"]


def test_unknown_sale_is_404(api):
    assert api.get("/sales/" + "0" * 32).json["type"] == "NOT_FOUND"


# -- refund access and the outbox ---------------------------------------------


def test_order_creation_mails_the_order_token_link(api):
    created = api.create(order_body((WEEKEND, 1), n=3)).json
    token = api.secrets(created["uid"])["order_token"]
    mail = emails(api, "order_confirmation")[-1]
    assert mail["to"] == "ci.buyer.3@example.com"
    assert mail["order"] == created["uid"]
    link = mail["links"]["order_link"]
    assert link == (
        f"http://localhost/orders/{created['uid']}?order_token={token}"
        f"&sandbox_session={api.session}"
    )
    assert link in mail["body"]
    assert created["reference"] in mail["subject"]
    assert parse_qs(urlsplit(link).query)["order_token"] == [token]
    read = api.get(
        f"/orders/{created['uid']}", auth=None, headers={"Order-Token": token}
    )
    assert read.status == 200
    # The link itself opens the order, as a click in the mail would: its
    # query carries the token and the session, no header needed.
    clicked = api.client.get(link)
    assert clicked.status_code == 200
    assert clicked.get_json()["uid"] == created["uid"]


def test_refund_access_mails_a_refundable_completed_order(api):
    order = paid(api, order_body((WEEKEND, 1), n=4))
    before = len(emails(api))
    answer = api.post(
        "/orders/refund_access",
        {"email": "CI.Buyer.4@example.com", "order_id": order["reference"]},
    )
    assert answer.status == 200
    mails = emails(api)
    assert len(mails) == before + 1
    mail = mails[-1]
    assert (mail["kind"], mail["to"], mail["order"]) == (
        "refund_access",
        "ci.buyer.4@example.com",
        order["uid"],
    )
    assert order["reference"] in mail["subject"]
    token = api.secrets(order["uid"])["order_token"]
    assert f"order_token={token}" in mail["body"]


def test_refund_access_takes_a_numeric_order_id(api):
    order = paid(api, order_body((WEEKEND, 1), n=5))
    api.post(
        "/orders/refund_access",
        {"email": "ci.buyer.5@example.com", "order_id": int(order["reference"])},
    )
    assert emails(api)[-1]["kind"] == "refund_access"


@pytest.mark.parametrize(
    "case",
    ["wrong email", "unknown order", "pending", "not refundable", "other application"],
)
def test_refund_access_never_reveals_anything(api, case):
    refundable = paid(api, order_body((WEEKEND, 1), n=6))
    email, reference, auth = "ci.buyer.6@example.com", refundable["reference"], None
    if case == "wrong email":
        email = "someone.else@example.com"
    elif case == "unknown order":
        reference = "999"
    elif case == "pending":
        reference = api.create(order_body((WEEKEND, 1), n=6)).json["reference"]
    elif case == "not refundable":
        reference = paid(api, order_body((JAZZ, 1), n=6))["reference"]
    else:
        auth = PARTNER_B
    before = len(emails(api))
    told = api.post(
        "/orders/refund_access",
        {"email": email, "order_id": reference},
        auth=auth or "default",
    )
    right = api.post(
        "/orders/refund_access",
        {"email": "ci.buyer.6@example.com", "order_id": refundable["reference"]},
    )
    assert (told.status, told.json) == (right.status, right.json)
    mails = emails(api)
    assert len(mails) == before + 1  # only the right request mailed
    assert mails[-1]["kind"] == "refund_access"


@pytest.mark.parametrize(
    "body",
    [
        {"email": "a@b.c"},
        {"order_id": "1"},
        {"email": "a@b.c", "order_id": "1", "x": 1},
    ],
)
def test_refund_access_validates_its_body(api, body):
    answer = api.post("/orders/refund_access", body)
    assert (answer.status, answer.json["type"]) == (400, "BAD_REQUEST")


def test_refund_access_needs_an_application(api):
    answer = api.post(
        "/orders/refund_access", {"email": "a@b.c", "order_id": "1"}, auth=None
    )
    assert answer.status == 401


# -- bill -----------------------------------------------------------------------

BILL_CASES = {
    "page example": page_example(),
    "weekend and drinks": order_body(
        (WEEKEND, 3), (DRINKS, 3), shipping_method=ETICKET
    ),
    "case 7, 73.02": order_body((SHIRT, 3), (DRINKS, 3)),
    "combo and postal": order_body(
        (DAY_PARKING, 2), (GROUP, 2), payment_method=CREDITCARD, shipping_method=POSTAL
    ),
    "voucher": order_body((WEEKEND, 4), vouchers=["SANDBOX-10"]),
    "donation": order_body((BACKSTAGE, 1), donation_amount="2.50"),
    "free": order_body((FREE, 2)),
}


@pytest.mark.parametrize("name", list(BILL_CASES))
def test_bill_totals_equal_the_orders(api, name):
    payload = BILL_CASES[name]
    bill = api.post("/bill", payload)
    assert bill.status == 200, bill
    order = api.create(payload)
    assert order.status == 201, order
    for key in TOTALS:
        assert bill.json[key] == order.json[key], key
    assert bill.json["product_selection"] == order.json["product_selection"]


def test_bill_amounts_exact_to_the_cent(api):
    bill = api.post("/bill", BILL_CASES["case 7, 73.02"])
    assert amount(bill.json["product_total"]) == Decimal("73.02")
    assert '"product_total": {"amount": 73.02,' in bill.text
    assert amount(bill.json["grand_total"]) == Decimal("74.02")  # + iDeal 1.00


def test_bill_lists_the_methods_and_takes_nothing(api):
    before = api.get(f"/products/{BACKSTAGE}").json["availability"]
    orders = api.get("/orders").json["item_count"]
    bill = api.post(
        "/bill",
        {
            "products": [{"product": BACKSTAGE, "quantity": 2}],
            "consumer": {"country": "NL"},
        },
    )
    assert bill.status == 200
    assert [m["uid"] for m in bill.json["available_payment_methods"]] == [
        IDEAL,
        CREDITCARD,
        BANCONTACT,
    ]
    assert bill.json["available_payment_methods"][0]["required_consumer_fields"] == [
        "first_name",
        "last_name",
        "email",
    ]
    assert bill.json["available_payment_methods"][1]["costs"] == {
        "amount": Decimal("1.50"),
        "currency": "EUR",
    }
    assert [m["uid"] for m in bill.json["available_shipping_methods"]] == [
        ETICKET,
        POSTAL,
    ]
    assert bill.json["country"] == "NL"
    assert amount(bill.json["grand_total"]) == Decimal("52.00")
    assert api.get(f"/products/{BACKSTAGE}").json["availability"] == before
    assert api.get("/orders").json["item_count"] == orders


def test_deprecated_get_bill_equals_post(api):
    payload = order_body((WEEKEND, 3), (DRINKS, 2), shipping_method=ETICKET)
    posted = api.post("/bill", payload).json
    uri = quote(f"https://shopping-api.paylogic.com/products/{WEEKEND}")
    query = (
        f"products={uri}"
        f",3&products=/products/{DRINKS},2&payment_method={IDEAL}"
        f"&shipping_method={ETICKET}&country=nl"
    )
    got = api.get(f"/bill?{query}")
    assert got.status == 200, got
    for key in TOTALS:
        assert got.json[key] == posted[key]
    assert got.json["country"] == "NL"
    assert got.json["_links"]["self"]["href"] == f"http://localhost/bill?{query}"
    assert len(got.json["available_payment_methods"]) == 3


def test_get_bill_external_purchase_and_donation(api):
    got = api.get(
        f"/bill?products={WEEKEND},1&external_purchase_amount=EUR350.75"
        f"&donation_amount=EUR2.00"
    )
    assert got.status == 200, got
    # 5.45 + 0.50 service + 350.75 external + 2.00 donation, no payment method
    assert amount(got.json["grand_total"]) == Decimal("358.70")


@pytest.mark.parametrize(
    "query, name",
    [
        (f"products={WEEKEND}", "products"),
        (f"products={WEEKEND},two", "products"),
        (
            f"products={WEEKEND},1&external_purchase_amount=350",
            "external_purchase_amount",
        ),
        (f"products={WEEKEND},1&payment_method=a&payment_method=b", "payment_method"),
        (f"products={WEEKEND},1&colour=red", "colour"),
    ],
)
def test_get_bill_bad_query_names_the_parameter(api, query, name):
    answer = api.get(f"/bill?{query}")
    assert (answer.status, answer.json["type"]) == (400, "BAD_REQUEST"), answer
    assert repr(name) in answer.json["message"]


@pytest.mark.parametrize(
    "change",
    [
        {"products": [{"product": WEEKEND, "quantity": 0}]},
        {"products": [{"product": WEEKEND, "quantity": 11}]},
        {
            "products": [
                {"product": WEEKEND, "quantity": 1},
                {"product": JAZZ, "quantity": 1},
            ]
        },
        {"products": [{"product": "0" * 32, "quantity": 1}]},
        {"products": [{"product": VIP, "quantity": 1}]},
        {"products": [{"product": COMEDY, "quantity": 1}]},
        {"products": [{"product": BACKSTAGE, "quantity": 6}]},
        {"products": []},
        {"payment_method": "0" * 32},
        {"vouchers": ["NOPE"]},
        {"external_reference": "x" * 33},
    ],
)
def test_bill_refuses_as_the_order_does(api, change):
    payload = {**order_body((WEEKEND, 1)), **change}
    bill = api.post("/bill", payload)
    order = api.create(payload)
    assert bill.status == order.status != 201, (bill, order)
    assert bill.json["type"] == order.json["type"]
    assert bill.json.get("errors") == order.json.get("errors")


def test_bill_needs_an_application(api):
    answer = api.post("/bill", order_body((WEEKEND, 1)), auth=None)
    assert answer.status == 401


# -- storefront -------------------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [FESTIVAL_URI, quote(FESTIVAL_URI, safe=""), FESTIVAL, f"/events/{FESTIVAL}"],
)
def test_storefront_of_an_event(api, event):
    answer = api.get(f"/storefront?event={event}")
    assert answer.status == 200, answer
    body = answer.json
    assert body["_embedded"]["shop:event"]["uid"] == FESTIVAL
    products = body["_embedded"]["shop:product"]
    assert VIP not in [p["uid"] for p in products]  # needs its voucher
    assert [p["uid"] for p in products][:3] == [
        WEEKEND,
        DAY_PARKING,
        "267arnr45tg984rd5rf456opshwks0ol",
    ]
    weekend = products[0]
    assert weekend["price"] == {"amount": "5.45", "currency": "EUR"}
    assert weekend["price_breakdown"]["unit_price_including_service_costs"] == {
        "amount": "5.95",
        "currency": "EUR",
    }
    # The seeds hold 3 + 2 + 2 weekend tickets of the 5000.
    assert (weekend["availability"], weekend["total_availability"]) == (4993, 5000)
    backstage = next(p for p in products if p["uid"] == BACKSTAGE)
    assert (backstage["min_per_order"], backstage["max_per_order"]) == (1, 5)
    assert (body["min_per_order"], body["max_per_order"]) == (1, 20)
    assert body["captcha"] == {
        "provider": "recaptcha",
        "public_key": "6Lc-sandbox-public-key-0000000000000000",
    }
    assert body["country"] == "NL"
    assert (
        body["_links"]["self"]["href"] == f"http://localhost/storefront?event={event}"
    )


def test_storefront_bill_is_the_cheapest_selection(api):
    body = api.get(f"/storefront?event={FESTIVAL}").json
    bill = body["_embedded"]["shop:bill"]
    assert [(s["product"], s["quantity"]) for s in bill["product_selection"]] == [
        (f"http://localhost/products/{FREE}", 1)
    ]
    assert bill["payment_method"]["uid"] == BANCONTACT
    assert bill["shipping_method"]["uid"] == ETICKET
    # Free tickets; the cheapest shipping (0.50) and payment (0.35) still cost.
    assert amount(bill["grand_total"]) == Decimal("0.85")
    same = api.post(
        "/bill",
        {
            "products": [{"product": FREE, "quantity": 1}],
            "payment_method": BANCONTACT,
            "shipping_method": ETICKET,
        },
    ).json
    for key in TOTALS:
        assert bill[key] == same[key]


def test_storefront_availability_follows_orders(api):
    api.create(order_body((BACKSTAGE, 2)))
    products = api.get(f"/storefront?event={FESTIVAL}").json["_embedded"][
        "shop:product"
    ]
    backstage = next(p for p in products if p["uid"] == BACKSTAGE)
    assert (backstage["availability"], backstage["sold_out"]) == (3, False)


def test_storefront_voucher_unlocks_its_product(api):
    answer = api.get(f"/storefront?event={FESTIVAL}&vouchers=VIP-ACCESS")
    assert VIP in [p["uid"] for p in answer.json["_embedded"]["shop:product"]]
    bad = api.get(f"/storefront?event={FESTIVAL}&vouchers=NOPE")
    assert (bad.status, bad.json["type"]) == (400, "VOUCHER_INVALID")


@pytest.mark.parametrize(
    "query, auth, status",
    [
        ("", "default", 400),  # the event is required
        ("event=" + "0" * 32, "default", 404),
        ("event=b5f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5", "default", 404),  # not its event
        (f"event={FESTIVAL}&colour=red", "default", 400),
        (f"event={FESTIVAL}", None, 401),
    ],
)
def test_storefront_refusals(api, query, auth, status):
    answer = api.get(f"/storefront?{query}", auth=auth)
    assert answer.status == status, answer
    assert answer.headers["Content-Type"] == "application/json"


def test_seed_pending_order_is_not_refundable(api):
    email = api.get(f"/orders/{SEED_PENDING}").json["consumer"]["email"]
    api.post("/orders/refund_access", {"email": email, "order_id": "525745"})
    assert emails(api, "refund_access") == []
