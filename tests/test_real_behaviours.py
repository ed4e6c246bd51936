"""The error codes of the orders page, each reached for a real reason.

INSUFFICIENT_CONSECUTIVE_SEATS, CAPTCHA_RATE_LIMIT_REACHED and 10MER are
each reached three ways: through the real behaviour of the fixtures, through
a rule armed with ``POST /_sandbox/rules``, and through ``Sandbox-Force``;
each time with the page's status and the order state the page documents.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import Api
from tests.helpers import (
    FESTIVAL,
    JAZZ,
    PARTNER_B,
    SEATED_EVENT,
    STALLS,
    VIP,
    WEEKEND,
    amount,
    order_body,
)

# The page's table: status of each code.
STATUS = {
    "INSUFFICIENT_CONSECUTIVE_SEATS": 409,
    "CAPTCHA_RATE_LIMIT_REACHED": 400,
    "10MER": 403,
}
# Rows A-D of the seated event: no row has more than 4 free seats side by side.
LONGEST_RUN = 4


def orders_with(api, external_reference):
    """The orders the partner sees with this external reference."""
    listed = api.get(f"/orders?external_reference={external_reference}")
    assert listed.status == 200, listed
    return listed.json["_embedded"].get("shop:order", [])


def assert_error(answer, code):
    assert answer.status == STATUS[code], answer
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json["type"] == code


def assert_refused_and_canceled(api, answer, external_reference):
    """INSUFFICIENT_CONSECUTIVE_SEATS: "The order has been cancelled"."""
    assert_error(answer, "INSUFFICIENT_CONSECUTIVE_SEATS")
    uid = answer.json["order"]
    read = api.get(f"/orders/{uid}")
    assert read.status == 200, read
    assert read.json["status"] == "canceled"
    assert read.json["external_reference"] == external_reference
    listed = orders_with(api, external_reference)
    assert [(o["uid"], o["status"]) for o in listed] == [(uid, "canceled")]


def assert_refused_and_nothing_stored(api, answer, code, external_reference):
    """10MER and the captcha errors refuse the order: nothing is stored."""
    assert_error(answer, code)
    assert orders_with(api, external_reference) == []


def ten_mer_body(external_reference):
    body = order_body((WEEKEND, 1), external_reference=external_reference)
    body["consumer"]["email"] = "fan@10mer.example"
    return body


def limit_orders(api, orders, window_seconds=60, app="partner"):
    answer = api.post(
        "/_sandbox/overrides",
        {"rate_limits": {app: {"orders": orders, "window_seconds": window_seconds}}},
        auth=None,
    )
    assert answer.status == 200, answer


def create_ok(api, body):
    answer = api.create(body)
    assert answer.status == 201, answer
    return answer.json


# -- INSUFFICIENT_CONSECUTIVE_SEATS -------------------------------------------


def test_seats_real_no_row_has_enough_consecutive_seats(api):
    body = order_body((STALLS, LONGEST_RUN + 1), external_reference="ICS-real")
    available = api.get(f"/products/{STALLS}").json["availability"]

    refused = api.create(body)

    assert_refused_and_canceled(api, refused, "ICS-real")
    assert api.get(f"/products/{STALLS}").json["availability"] == available


def test_seats_real_side_by_side_when_a_row_has_room(api):
    order = create_ok(api, order_body((STALLS, LONGEST_RUN)))
    api.pay(order["uid"])
    seats = seats_of(api, order["uid"])
    rows = {row for row, _ in seats}
    numbers = sorted(number for _, number in seats)
    assert len(rows) == 1
    assert numbers == list(range(numbers[0], numbers[0] + LONGEST_RUN))


@pytest.mark.parametrize("flag", [False, "false"])
def test_seats_not_side_by_side_when_consecutive_seats_not_checked(api, flag):
    body = order_body((STALLS, LONGEST_RUN + 1), check_consecutive_seats=flag)
    order = create_ok(api, body)
    assert order["status"] == "pending"

    assert api.pay(order["uid"]).status == 200

    seats = seats_of(api, order["uid"])
    assert len(seats) == len(set(seats)) == LONGEST_RUN + 1
    assert not side_by_side(seats)


def seats_of(api, uid):
    """The seats printed on the order's tickets, read through the API."""
    order = api.get(f"/orders/{uid}").json
    assert order["status"] == "completed"
    seats = []
    for ticket in order["_embedded"]["shop:ticket"]:
        read = api.get(ticket["_links"]["self"]["href"])
        assert read.status == 200, read
        seats.append((read.json["seating"]["row"], read.json["seating"]["seat"]))
    return seats


def side_by_side(seats):
    rows = {row for row, _ in seats}
    numbers = sorted(number for _, number in seats)
    return len(rows) == 1 and numbers == list(
        range(numbers[0], numbers[0] + len(numbers))
    )


def test_seats_taken_by_one_order_are_not_sold_again(api):
    first = create_ok(api, order_body((STALLS, LONGEST_RUN)))
    second = create_ok(api, order_body((STALLS, LONGEST_RUN)))
    api.pay(first["uid"])
    api.pay(second["uid"])
    assert not set(seats_of(api, first["uid"])) & set(seats_of(api, second["uid"]))


# -- CAPTCHA_RATE_LIMIT_REACHED, CAPTCHA_INVALID, CAPTCHA_INVALID_DOMAIN ------


def test_captcha_real_rate_limit_then_valid_captcha_passes(api):
    limit_orders(api, 2)
    create_ok(api, order_body((WEEKEND, 1), n=1))
    create_ok(api, order_body((WEEKEND, 1), n=2))

    refused = api.create(order_body((WEEKEND, 1), external_reference="CAP-real"))

    assert_refused_and_nothing_stored(
        api, refused, "CAPTCHA_RATE_LIMIT_REACHED", "CAP-real"
    )
    assert refused.json["errors"][0]["path"] == "$.captcha"
    passed = api.create(
        order_body((WEEKEND, 1), external_reference="CAP-real", captcha="captcha-valid")
    )
    assert passed.status == 201, passed
    assert passed.json["status"] == "pending"


@pytest.mark.parametrize(
    "token, code",
    [
        ("not-a-solved-captcha", "CAPTCHA_INVALID"),
        ("captcha-other-domain", "CAPTCHA_INVALID_DOMAIN"),
    ],
)
def test_captcha_tokens_that_are_refused(api, token, code):
    limit_orders(api, 0)
    refused = api.create(
        order_body((WEEKEND, 1), external_reference="CAP-tok", captcha=token)
    )
    assert refused.status == 403, refused
    assert refused.json["type"] == code
    assert orders_with(api, "CAP-tok") == []


def test_captcha_limit_counts_per_application(api):
    limit_orders(api, 1)
    create_ok(api, order_body((WEEKEND, 1)))
    assert api.create(order_body((WEEKEND, 1))).status == 400
    other = api.create(order_body((WEEKEND, 1)), auth=PARTNER_B)
    assert other.status == 201, other


def test_captcha_window_follows_the_session_clock(api):
    limit_orders(api, 2, window_seconds=60)
    create_ok(api, order_body((WEEKEND, 1)))
    api.post("/_sandbox/clock", {"advance": "PT30S"}, auth=None)
    create_ok(api, order_body((WEEKEND, 1)))
    assert api.create(order_body((WEEKEND, 1))).status == 400

    # 61 seconds after the first order, it leaves the window; the second stays.
    api.post("/_sandbox/clock", {"advance": "PT31S"}, auth=None)
    create_ok(api, order_body((WEEKEND, 1)))
    assert api.create(order_body((WEEKEND, 1))).status == 400


def test_captcha_rate_limit_scenario(api):
    armed = api.post("/_sandbox/scenarios/captcha-rate-limit", auth=None)
    assert armed.status == 201, armed
    create_ok(api, order_body((WEEKEND, 1)))
    create_ok(api, order_body((WEEKEND, 1)))
    assert_error(api.create(order_body((WEEKEND, 1))), "CAPTCHA_RATE_LIMIT_REACHED")
    create_ok(api, order_body((WEEKEND, 1), captcha="captcha-valid"))

    api.post("/_sandbox/clock", {"advance": "PT1H"}, auth=None)
    create_ok(api, order_body((WEEKEND, 1)))


def test_rate_limit_override_is_per_session(api, app):
    limit_orders(api, 0)
    other = Api(app, api.session + "-other")
    assert other.create(order_body((WEEKEND, 1))).status == 201
    assert api.create(order_body((WEEKEND, 1))).status == 400


def test_storefront_exposes_the_captcha_provider(api):
    front = api.get(f"/storefront?event={FESTIVAL}")
    assert front.status == 200, front
    assert "recaptcha" in front.text
    assert "6Lc-sandbox-public-key" in front.text


# -- 10MER --------------------------------------------------------------------


def test_ten_mer_real_email_domain_for_the_festival(api):
    refused = api.create(ten_mer_body("TM-real"))
    assert_refused_and_nothing_stored(api, refused, "10MER", "TM-real")


def test_ten_mer_real_only_for_its_event(api):
    body = order_body((JAZZ, 1), external_reference="TM-jazz")
    body["consumer"]["email"] = "fan@10mer.example"
    assert create_ok(api, body)["status"] == "pending"


def test_ten_mer_by_rule(api):
    rule = api.post(
        "/_sandbox/rules",
        {
            "action": "orders.create",
            "error": "10MER",
            "times": 1,
            "match": {"external_reference": "TM-rule"},
        },
        auth=None,
    )
    assert rule.status == 201, rule
    # Another request does not match, so it does not use the rule up.
    create_ok(api, order_body((WEEKEND, 1), external_reference="TM-other"))

    refused = api.create(order_body((WEEKEND, 1), external_reference="TM-rule"))

    assert_refused_and_nothing_stored(api, refused, "10MER", "TM-rule")
    again = api.create(order_body((WEEKEND, 1), external_reference="TM-rule"))
    assert again.status == 201, again


def test_ten_mer_by_header(api):
    refused = api.create(
        order_body((WEEKEND, 1), external_reference="TM-header"),
        headers={"Sandbox-Force": "10MER"},
    )
    assert_refused_and_nothing_stored(api, refused, "10MER", "TM-header")
    journal = api.get("/_sandbox/requests?method=POST&path=/orders", auth=None)
    assert journal.json["requests"][-1]["forced"] == {
        "source": "header",
        "type": "10MER",
    }


# -- the same three codes by rule and by header -------------------------------


def force_by(api, how, code, external_reference):
    body = order_body((WEEKEND, 1), external_reference=external_reference)
    if how == "header":
        return api.create(body, headers={"Sandbox-Force": code})
    armed = api.post(
        "/_sandbox/rules",
        {
            "action": "orders.create",
            "error": code,
            "match": {"external_reference": external_reference},
        },
        auth=None,
    )
    assert armed.status == 201, armed
    return api.create(body)


@pytest.mark.parametrize("how", ["rule", "header"])
def test_seats_forced(api, how):
    stock = api.get(f"/products/{WEEKEND}").json["availability"]
    refused = force_by(api, how, "INSUFFICIENT_CONSECUTIVE_SEATS", f"ICS-{how}")
    assert_refused_and_canceled(api, refused, f"ICS-{how}")
    assert api.get(f"/products/{WEEKEND}").json["availability"] == stock


@pytest.mark.parametrize("how", ["rule", "header"])
def test_captcha_forced(api, how):
    refused = force_by(api, how, "CAPTCHA_RATE_LIMIT_REACHED", f"CAP-{how}")
    assert_refused_and_nothing_stored(
        api, refused, "CAPTCHA_RATE_LIMIT_REACHED", f"CAP-{how}"
    )


@pytest.mark.parametrize("how", ["rule", "header"])
def test_ten_mer_forced(api, how):
    refused = force_by(api, how, "10MER", f"TMF-{how}")
    assert_refused_and_nothing_stored(api, refused, "10MER", f"TMF-{how}")


@pytest.mark.parametrize("code", sorted(STATUS))
def test_forced_error_is_rendered_as_the_real_one(api, code):
    forced = api.create(order_body((WEEKEND, 1)), headers={"Sandbox-Force": code})
    assert_error(forced, code)
    assert set(forced.json) <= {"type", "message", "errors", "order"}


def test_seated_event_is_seated(api):
    event = api.get(f"/events/{SEATED_EVENT}")
    assert event.status == 200, event
    assert event.json["seated"] is True


# -- vouchers -----------------------------------------------------------------


def test_voucher_discount_shows_in_the_totals(api):
    plain = create_ok(api, order_body((WEEKEND, 2)))
    with_voucher = create_ok(api, order_body((WEEKEND, 2), vouchers=["SANDBOX-10"]))

    assert amount(plain["product_total"]) == Decimal("10.90")
    # 10% off 5.45 is 4.905, rounded half up to 4.91 a unit.
    assert with_voucher["product_selection"][0]["unit_price"]["amount"] == "4.91"
    assert amount(with_voucher["product_total"]) == Decimal("9.82")
    assert amount(with_voucher["grand_total"]) == (
        amount(plain["grand_total"]) - Decimal("1.08")
    )


def test_voucher_discount_shows_in_the_bill(api):
    bill = api.post("/bill", order_body((WEEKEND, 2), vouchers=["SANDBOX-10"]))
    assert bill.status == 200, bill
    assert amount(bill.json["product_total"]) == Decimal("9.82")


def test_voucher_unlocks_a_product(api):
    locked = api.create(order_body((VIP, 1)))
    assert locked.status == 400, locked
    assert locked.json["errors"][0]["path"] == "$.products[0].product"

    unlocked = api.create(order_body((VIP, 1), vouchers=["VIP-ACCESS"]))
    assert unlocked.status == 201, unlocked


@pytest.mark.parametrize(
    "selection, code",
    [
        ((WEEKEND, 1), "NO-SUCH-VOUCHER"),
        ((JAZZ, 1), "SANDBOX-10"),  # a voucher of another event
    ],
)
def test_voucher_invalid(api, selection, code):
    refused = api.create(
        order_body(selection, external_reference="V-bad", vouchers=[code])
    )
    assert refused.status == 400, refused
    assert refused.json["type"] == "VOUCHER_INVALID"
    assert refused.json["errors"][0]["path"] == "$.vouchers[0]"
    assert orders_with(api, "V-bad") == []
