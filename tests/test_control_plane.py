"""The control plane under /_sandbox: rules, Sandbox-Force, scenarios, journal,
reset, export and import, sessions and the admin token."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime

import pytest
import requests

from sandbox.domain.catalogue import channel_uid
from sandbox.domain.rules import ACTIONS
from tests.conftest import Api
from tests.helpers import (
    BEARER,
    CREDITCARD,
    ETICKET,
    FESTIVAL,
    IDEAL,
    MERCHANT,
    PARTNER,
    PARTNER_B,
    SEED_BASKET,
    SEED_COMPLETED,
    SEED_FAILED,
    SEED_PENDING,
    SEED_TICKETS,
    STALLS,
    WEEKEND,
    consumer,
    order_body,
)

REQUIRED_SCENARIOS = (
    "insufficient-consecutive-seats",
    "captcha-rate-limit",
    "10mer",
    "payment-fails-then-repayment",
    "order-expires",
    "sold-out",
)


def arm(api, status=201, **rule):
    answer = api.post("/_sandbox/rules", rule, auth=None)
    assert answer.status == status, answer
    return answer.json


def armed(api):
    return api.get("/_sandbox/scenarios", auth=None).json["armed"]


def journal(api, query=""):
    answer = api.get(f"/_sandbox/requests{query}", auth=None)
    assert answer.status == 200, answer
    return answer.json["requests"]


def created(api, body=None, **kw):
    answer = api.create(body or order_body((WEEKEND, 1)), **kw)
    assert answer.status == 201, answer
    return answer.json


# -- rules --------------------------------------------------------------------


def test_arm_rule_answers_201_with_its_id_and_is_listed_with_uses_left(api):
    rule = arm(
        api,
        action="orders.create",
        error="10MER",
        times=2,
        match={"external_reference": "A-1"},
    )
    assert rule["id"] >= 1
    assert (rule["action"], rule["error"], rule["times"], rule["left"]) == (
        "orders.create",
        "10MER",
        2,
        2,
    )
    assert rule["match"] == {"external_reference": "A-1"}

    api.create(order_body((WEEKEND, 1), external_reference="A-1"))

    listed = api.get("/_sandbox/scenarios", auth=None).json
    assert {s["name"] for s in listed["scenarios"]} >= set(REQUIRED_SCENARIOS)
    assert all(s["description"] for s in listed["scenarios"])
    assert [(r["id"], r["used"], r["left"]) for r in listed["armed"]] == [
        (rule["id"], 1, 1)
    ]


def test_times_default_one_and_zero_means_until_disarmed(api):
    arm(api, action="orders.read", error="NOT_FOUND")
    assert api.get(f"/orders/{SEED_PENDING}").status == 404
    assert api.get(f"/orders/{SEED_PENDING}").status == 200

    forever = arm(api, action="orders.read", error="FORBIDDEN", times=0)
    assert forever["left"] is None
    assert [api.get(f"/orders/{SEED_PENDING}").status for _ in range(3)] == [403] * 3
    assert armed(api)[0]["used"] == 3


def test_delete_rules_disarms_all_and_one(api):
    first = arm(api, action="orders.read", error="NOT_FOUND")
    second = arm(api, action="orders.list", error="FORBIDDEN")

    gone = api.delete(f"/_sandbox/rules/{first['id']}", auth=None)

    assert gone.status == 200, gone
    assert [r["id"] for r in armed(api)] == [second["id"]]
    assert api.delete(f"/_sandbox/rules/{first['id']}", auth=None).status == 404
    arm(api, action="bill", error="EMPTY_BASKET")
    everything = api.delete("/_sandbox/rules", auth=None)
    assert everything.status == 200 and everything.json["disarmed"] == 2
    assert armed(api) == []
    assert api.get(f"/orders/{SEED_PENDING}").status == 200


@pytest.mark.parametrize(
    "rule, field, valid",
    [
        ({"action": "orders.nothing", "error": "10MER"}, "$.action", list(ACTIONS)),
        (
            {"action": "orders.read", "error": "10MER"},
            "$.error",
            list(ACTIONS["orders.read"]),
        ),
        (
            {"action": "orders.create", "error": "NO_SUCH_CODE"},
            "$.error",
            list(ACTIONS["orders.create"]),
        ),
        (
            {"action": "payment", "outcome": "refunded"},
            "$.outcome",
            ["paid", "failed", "canceled"],
        ),
    ],
)
def test_impossible_rule_is_refused_with_the_valid_ones(api, rule, field, valid):
    refused = api.post("/_sandbox/rules", rule, auth=None)
    assert refused.status == 400, refused
    assert refused.json["type"] == "BAD_REQUEST"
    assert refused.json["valid"] == valid
    assert refused.json["errors"][0]["path"] == field
    assert armed(api) == []


@pytest.mark.parametrize(
    "match, hit, miss",
    [
        (
            {"external_reference": "M-1"},
            {"body": order_body((WEEKEND, 1), external_reference="M-1")},
            {"body": order_body((WEEKEND, 1), external_reference="M-2")},
        ),
        (
            {"email": "CI.Buyer.7@example.com"},
            {"body": order_body((WEEKEND, 1), n=7)},
            {"body": order_body((WEEKEND, 1), n=8)},
        ),
        (
            {"product": f"https://shopping-api.paylogic.com/products/{STALLS}"},
            {"body": order_body((STALLS, 1))},
            {"body": order_body((WEEKEND, 1))},
        ),
        (
            {"application": "partner-b"},
            {"body": order_body((WEEKEND, 1)), "auth": PARTNER_B},
            {"body": order_body((WEEKEND, 1)), "auth": PARTNER},
        ),
    ],
)
def test_rule_match(api, match, hit, miss):
    arm(api, action="orders.create", error="10MER", match=match)

    assert api.create(miss["body"], auth=miss.get("auth", "default")).status == 201
    assert armed(api), "a request that does not match used the rule up"
    refused = api.create(hit["body"], auth=hit.get("auth", "default"))

    assert refused.status == 403 and refused.json["type"] == "10MER", refused
    assert armed(api) == []


# One request per action that succeeds unforced; every action of the rule book
# must be here, so an action no view consults cannot be added unnoticed.
ACTION_REQUESTS = {
    "orders.create": ("POST", "/orders", order_body((WEEKEND, 1)), {}),
    "orders.read": ("GET", f"/orders/{SEED_PENDING}", None, {}),
    "orders.list": ("GET", "/orders", None, {}),
    "orders.update": (
        "PUT",
        f"/orders/{SEED_COMPLETED}",
        {"consumer": consumer(9, first_name="Nieuwe")},
        MERCHANT,
    ),
    "orders.repayment": ("POST", f"/orders/{SEED_FAILED}/repayment", None, {}),
    "orders.refund_access": (
        "POST",
        "/orders/refund_access",
        {"email": "someone@example.com", "order_id": "525745"},
        {},
    ),
    "orders.upsell": (
        "GET",
        f"/orders/{SEED_FAILED}/upsell-recommendation",
        None,
        {**PARTNER, "Order-Token": "seed-order-token-failed"},
    ),
    "baskets.create": (
        "POST",
        "/baskets",
        {"products": [{"product": WEEKEND, "quantity": 1}]},
        {},
    ),
    "baskets.read": ("GET", f"/baskets/{SEED_BASKET}", None, {}),
    "baskets.update": (
        "PUT",
        f"/baskets/{SEED_BASKET}",
        {"products": [{"product": WEEKEND, "quantity": 2}]},
        {},
    ),
    "bill": ("POST", "/bill", order_body((WEEKEND, 1)), {}),
    "ordercancellation": ("POST", "/ordercancellation", {"order": SEED_PENDING}, {}),
    "tickets.read": ("GET", f"/tickets/{SEED_TICKETS[0]}", None, {}),
    "storefront": ("GET", f"/storefront?event={FESTIVAL}", None, {}),
    "events.list": ("GET", "/events", None, {}),
    "events.read": ("GET", f"/events/{FESTIVAL}", None, {}),
    "products.list": ("GET", "/products", None, {}),
    "products.read": ("GET", f"/products/{WEEKEND}", None, {}),
    "payment_methods.read": ("GET", f"/payment-methods/{IDEAL}", None, {}),
    "shipping_methods.read": ("GET", f"/shipping-methods/{ETICKET}", None, {}),
    "sales.read": ("GET", "/sales/0de86b2cbb674529a681b8e3fe99f1f7", None, {}),
    "channels.read": ("GET", f"/channels/{channel_uid('partner')}", None, {}),
}


def send(api, action, extra_headers=None):
    method, path, body, auth = ACTION_REQUESTS[action]
    return api.request(
        method, path, body, auth=auth or "default", headers=extra_headers
    )


def test_every_action_has_a_request_in_this_table():
    assert set(ACTION_REQUESTS) | {"payment"} == set(ACTIONS)


@pytest.mark.parametrize("action", sorted(ACTION_REQUESTS))
def test_every_action_is_consulted_by_its_view(api, action):
    rule = arm(api, action=action, error="NOT_FOUND")

    forced = send(api, action)

    assert forced.status == 404, forced
    assert forced.json["type"] == "NOT_FOUND"
    assert armed(api) == []
    assert journal(api)[-1]["forced"] == {
        "source": "rule",
        "rule": rule["id"],
        "type": "NOT_FOUND",
    }
    real = send(api, action)
    assert real.status in (200, 201), real


@pytest.mark.parametrize("action", sorted(ACTION_REQUESTS))
def test_every_action_obeys_sandbox_force(api, action):
    forced = send(api, action, {"Sandbox-Force": "FORBIDDEN"})
    assert forced.status == 403, forced
    assert journal(api)[-1]["forced"] == {"source": "header", "type": "FORBIDDEN"}
    assert send(api, action).status in (200, 201)


def test_wildcard_action_covers_its_family(api):
    arm(api, action="baskets.*", error="FORBIDDEN", times=2)
    assert send(api, "baskets.read").status == 403
    assert send(api, "baskets.create").status == 403
    assert send(api, "baskets.read").status == 200


def test_forced_crash_is_a_json_500_without_a_traceback(api):
    arm(api, action="orders.read", error="INTERNAL_SERVER_ERROR")
    crashed = api.get(f"/orders/{SEED_PENDING}")
    assert crashed.status == 500
    assert crashed.json["type"] == "INTERNAL_SERVER_ERROR"
    assert "Traceback" not in crashed.text


# -- Sandbox-Force ------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path, wanted",
    [
        ("POST", "/orders", "NOT_A_CODE"),
        ("GET", "/orders", "10MER"),  # a code that listing cannot give
        ("GET", f"/orders/{SEED_PENDING}", "INSUFFICIENT_CONSECUTIVE_SEATS"),
    ],
)
def test_sandbox_force_is_validated_like_a_rule(api, method, path, wanted):
    body = (
        order_body((WEEKEND, 1), external_reference="F-1") if method == "POST" else None
    )
    refused = api.request(method, path, body, headers={"Sandbox-Force": wanted})
    assert refused.status == 400, refused
    assert refused.json["type"] == "BAD_REQUEST"
    assert "Sandbox-Force" in refused.json["message"]
    assert "BAD_REQUEST" in refused.json["valid"]
    assert wanted not in refused.json["valid"]
    if method == "POST":
        assert (
            api.get("/orders?external_reference=F-1")
            .json["_embedded"]
            .get("shop:order", [])
            == []
        )


def test_sandbox_force_applies_to_that_request_alone(api):
    assert api.get("/orders", headers={"Sandbox-Force": "FORBIDDEN"}).status == 403
    assert api.get("/orders").status == 200


# -- payment outcomes ---------------------------------------------------------


def test_payment_outcome_armed_before_the_order_exists(api):
    rule = arm(
        api, action="payment", outcome="failed", match={"external_reference": "PAY-1"}
    )
    assert rule["outcome"] == "failed"
    other = created(api, order_body((WEEKEND, 1), external_reference="PAY-0"))
    assert api.pay(other["uid"]).json["status"] == "completed"

    order = created(api, order_body((WEEKEND, 1), external_reference="PAY-1"))
    paid = api.pay(order["uid"], "paid")

    assert paid.status == 200, paid
    assert paid.json["status"] == "pending"
    assert paid.json["payment_attempts"][-1]["status"] == "failed"
    read = api.get(f"/orders/{order['uid']}").json
    assert read["payment"]["status"] == "failed"
    assert "shop:repayment" in read["_links"]
    assert armed(api) == []


def test_payment_outcome_applies_on_the_hosted_page(api):
    arm(api, action="payment", outcome="canceled")
    order = created(api)
    page = api.client.post(
        f"/_sandbox/checkout/{order['uid']}?sandbox_session={api.session}",
        data={"outcome": "paid"},
    )
    assert page.status_code == 303
    assert "outcome=canceled" in page.headers["Location"]
    assert api.get(f"/orders/{order['uid']}").json["status"] == "canceled"


# -- times: 1 under concurrency, on the real server ---------------------------


class Live:
    """A client of the real server bound to one session."""

    def __init__(self, base, session=None):
        self.base = base
        self.http = requests.Session()
        self.http.headers["Sandbox-Session"] = session or f"live-{uuid.uuid4().hex}"

    def call(self, method, path, body=None, headers=None, timeout=30):
        return self.http.request(
            method, self.base + path, json=body, headers=headers, timeout=timeout
        )

    def control(self, method, path, body=None):
        answer = self.call(method, "/_sandbox" + path, body)
        assert answer.status_code < 300, answer.text
        return answer.json()

    def create(self, body):
        return self.call("POST", "/orders", body, headers=PARTNER)


def fire_together(count, work):
    """Run ``work(i)`` in ``count`` threads released at the same moment."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        barrier.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@pytest.mark.parametrize("round_", range(20))
def test_times_one_fires_exactly_once_under_ten_simultaneous_orders(
    live_server, round_
):
    live = Live(live_server)
    live.control(
        "POST", "/rules", {"action": "orders.create", "error": "10MER", "times": 1}
    )

    answers = fire_together(10, lambda i: live.create(order_body((WEEKEND, 1), n=i)))

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * 9 + [403], [a.text for a in answers]
    assert [a.json()["type"] for a in answers if a.status_code == 403] == ["10MER"]
    assert live.control("GET", "/rules")["rules"] == []
    fired = [
        e
        for e in live.control("GET", "/requests?method=POST")["requests"]
        if e["forced"]
    ]
    assert len(fired) == 1 and fired[0]["status"] == 403


# -- named scenarios ----------------------------------------------------------


@pytest.mark.parametrize("name", REQUIRED_SCENARIOS)
def test_required_scenarios_exist_and_arm_by_name(api, name):
    answer = api.post(f"/_sandbox/scenarios/{name}", auth=None)
    assert answer.status == 201, answer
    assert answer.json["scenario"] == name
    listed = api.get("/_sandbox/scenarios", auth=None).json
    assert name in listed["armed_scenarios"]
    assert all(r["source"] == f"scenario:{name}" for r in listed["armed"])


def test_unknown_scenario_is_404_naming_the_known_ones(api):
    missing = api.post("/_sandbox/scenarios/no-such-thing", auth=None)
    assert missing.status == 404
    assert "10mer" in missing.json["errors"][0]["message"]


def test_scenario_payment_fails_then_repayment_whole_journey(api):
    assert (
        api.post("/_sandbox/scenarios/payment-fails-then-repayment", auth=None).status
        == 201
    )
    order = created(api, order_body((WEEKEND, 2), external_reference="J-1"))
    uid = order["uid"]
    assert order["status"] == "pending"

    first = api.pay(uid, "paid")
    assert first.json["payment_attempts"][-1]["status"] == "failed"
    failed = api.get(f"/orders/{uid}").json
    assert (failed["status"], failed["payment"]["status"]) == ("pending", "failed")
    repayment_link = failed["_links"]["shop:repayment"]["href"]

    repayment = api.post(repayment_link)
    assert repayment.status == 200, repayment
    checkout_url = repayment.json["checkout_url"]
    token = checkout_url.split("order_token=")[1].split("&")[0]
    assert token == api.secrets(uid)["order_token"]

    again = api.create(
        {
            "basket": f"https://shopping-api.paylogic.com/baskets/{uid}",
            "payment_method": CREDITCARD,
        },
        auth={"Order-Token": token},
    )
    assert again.status == 201, again
    assert (again.json["uid"], again.json["status"]) == (uid, "pending")
    assert again.json["payment"]["status"] == "pending"

    second = api.pay(uid, "paid")
    assert second.json["status"] == "completed"
    assert [p["status"] for p in second.json["payment_attempts"]] == ["failed", "paid"]
    done = api.get(f"/orders/{uid}").json
    assert done["status"] == "completed"
    assert "shop:etickets" in done["_links"]
    assert all(e["forced"] is None for e in journal(api))
    assert armed(api) == []


def test_scenario_insufficient_consecutive_seats(api):
    api.post("/_sandbox/scenarios/insufficient-consecutive-seats", auth=None)
    refused = api.create(order_body((WEEKEND, 1), external_reference="S-ICS"))
    assert refused.status == 409, refused
    assert api.get(f"/orders/{refused.json['order']}").json["status"] == "canceled"
    created(api)


def test_scenario_10mer(api):
    api.post("/_sandbox/scenarios/10mer", auth=None)
    refused = api.create(order_body((WEEKEND, 1)))
    assert (refused.status, refused.json["type"]) == (403, "10MER")
    created(api)


def test_scenario_order_expires(api):
    api.post("/_sandbox/scenarios/order-expires", auth=None)
    order = created(api)
    stock = api.get(f"/products/{WEEKEND}").json["availability"]

    api.post("/_sandbox/clock", {"advance": "PT2M"}, auth=None)

    assert api.get(f"/orders/{order['uid']}").json["status"] == "canceled"
    assert api.get(f"/products/{WEEKEND}").json["availability"] == stock + 1


def test_scenario_sold_out(api):
    api.post("/_sandbox/scenarios/sold-out", auth=None)
    products = api.get(f"/products?event={FESTIVAL}").json["_embedded"]["shop:product"]
    assert products and all(p["availability"] == 0 for p in products)
    refused = api.create(order_body((WEEKEND, 1)))
    assert (refused.status, refused.json["type"]) == (400, "CONSTRAINT_VIOLATION")


# -- journal ------------------------------------------------------------------


def test_journal_records_what_was_received_with_secrets_masked(api):
    rule = arm(api, action="orders.create", error="10MER")
    api.create(
        order_body((WEEKEND, 1), external_reference="JR-1"),
        headers={"Cognito-Token": "cognito-user-1"},
    )
    api.get(
        f"/orders/{SEED_PENDING}?order_token=seed-order-token-pending",
        auth={"Order-Token": "seed-order-token-pending"},
    )
    api.get("/orders", auth=BEARER)

    entries = journal(api)

    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", "/orders", 403),
        ("GET", f"/orders/{SEED_PENDING}", 200),
        ("GET", "/orders", 200),
    ]
    post = entries[0]
    assert post["headers"]["Authorization"] == "Basic ***"
    assert post["headers"]["Cognito-Token"] == "***"
    assert post["headers"]["Sandbox-Session"] == api.session
    assert post["body"]["external_reference"] == "JR-1"
    assert post["forced"] == {"source": "rule", "rule": rule["id"], "type": "10MER"}
    assert post["type"] == "10MER"
    datetime.strptime(post["time"], "%Y-%m-%dT%H:%M:%SZ")
    read = entries[1]
    assert read["headers"]["Order-Token"] == "***"
    assert read["query"] == "order_token=%2A%2A%2A"
    assert entries[2]["headers"]["Authorization"] == "Bearer ***"
    assert "seed-order-token" not in json.dumps(entries)
    assert "bearer-frontend" not in json.dumps(entries)


def test_journal_filters_by_method_and_path(api):
    api.get("/events")
    api.get(f"/orders/{SEED_PENDING}")
    created(api)
    assert [e["path"] for e in journal(api, "?method=post")] == ["/orders"]
    assert [e["method"] for e in journal(api, "?path=/orders")] == ["GET", "POST"]
    assert journal(api, "?method=GET&path=/events")[0]["path"] == "/events"


def test_journal_is_bounded_oldest_dropped_and_can_be_cleared(api_for):
    api = api_for(journal_size=3)
    for page in range(1, 6):
        api.get(f"/events?page={page}")
    assert [e["query"] for e in journal(api)] == ["page=3", "page=4", "page=5"]

    cleared = api.delete("/_sandbox/requests", auth=None)

    assert cleared.status == 200
    assert journal(api) == []


# -- reset and seed -----------------------------------------------------------


def world(api):
    """The uids and fake names a session makes from its seed."""
    order = created(api)
    seeded = api.get(f"/orders/{SEED_PENDING}").json["consumer"]
    return order["uid"], order["reference"], seeded["first_name"], seeded["email"]


def test_reset_returns_to_the_fixtures(api):
    order = created(api)
    arm(api, action="orders.read", error="NOT_FOUND", times=0)
    api.post("/_sandbox/clock", {"advance": "PT1H"}, auth=None)

    answer = api.post("/_sandbox/reset", auth=None)

    assert answer.status == 200, answer
    assert armed(api) == []
    assert api.get(f"/orders/{order['uid']}").status == 404
    assert api.get(f"/orders/{SEED_PENDING}").status == 200
    assert api.get("/_sandbox/clock", auth=None).json["offset_seconds"] == 0


def test_reset_with_a_seed_makes_the_same_uids_and_names(api, api_for):
    api.post("/_sandbox/reset", {"seed": 7}, auth=None)
    first = world(api)
    api.post("/_sandbox/reset", {"seed": 7}, auth=None)
    assert world(api) == first
    api.post("/_sandbox/reset", {"seed": 8}, auth=None)
    assert world(api)[0] != first[0]
    # The next run, a fresh process started with that seed, makes the same.
    assert world(api_for(seed=7)) == first


@pytest.mark.parametrize("body", [{"seed": -1}, {"seed": "7"}, {"colour": 1}])
def test_reset_refuses_a_bad_body(api, body):
    assert api.post("/_sandbox/reset", body, auth=None).status == 400


# -- export and import --------------------------------------------------------


def journey_state(api):
    """A session with orders in every state, its clock moved."""
    api.post("/_sandbox/clock", {"advance": "PT7M"}, auth=None)
    pending = created(api, order_body((WEEKEND, 1), external_reference="X-1"))
    paid = created(api, order_body((STALLS, 2), external_reference="X-2"))
    api.pay(paid["uid"])
    failed = created(api, order_body((WEEKEND, 2), vouchers=["SANDBOX-10"]))
    api.pay(failed["uid"], "failed")
    api.post(f"/orders/{failed['uid']}/repayment")
    api.create(order_body((STALLS, 5), external_reference="X-3"))
    arm(api, action="orders.read", error="NOT_FOUND", match={"order": "f" * 32})
    return pending["uid"]


def every_read(api):
    orders = api.get("/orders").json
    uids = [o["uid"] for o in orders["_embedded"]["shop:order"]]
    reads = {uid: api.get(f"/orders/{uid}").json for uid in uids}
    tickets = {
        t["_links"]["self"]["href"]: api.get(t["_links"]["self"]["href"]).json
        for read in reads.values()
        for t in read["_embedded"]["shop:ticket"]
    }
    secrets = {uid: api.secrets(uid) for uid in uids}
    return orders, reads, tickets, secrets, api.get(f"/products/{STALLS}").json


def test_export_reset_import_reads_back_identical(api):
    pending = journey_state(api)
    exported = api.get("/_sandbox/state", auth=None)
    assert exported.status == 200, exported
    before = every_read(api)
    clock = api.get("/_sandbox/clock", auth=None).json
    rules = armed(api)

    api.post("/_sandbox/reset", auth=None)
    assert every_read(api)[0] != before[0]
    imported = api.put("/_sandbox/state", json.loads(exported.text), auth=None)

    assert imported.status == 200, imported
    assert every_read(api) == before
    assert armed(api) == rules
    after = api.get("/_sandbox/clock", auth=None).json
    assert after["offset_seconds"] == clock["offset_seconds"] == 7 * 60
    # The clock carries on: the pending order still expires 30 minutes after
    # it was created on the session clock.
    api.post("/_sandbox/clock", {"advance": "PT29M"}, auth=None)
    assert api.get(f"/orders/{pending}").json["status"] == "pending"
    api.post("/_sandbox/clock", {"advance": "PT2M"}, auth=None)
    assert api.get(f"/orders/{pending}").json["status"] == "canceled"


def test_import_keeps_making_the_same_uids_as_without_export(api):
    journey_state(api)
    exported = json.loads(api.get("/_sandbox/state", auth=None).text)
    next_without = created(api, order_body((WEEKEND, 1), n=3))

    api.post("/_sandbox/reset", auth=None)
    api.put("/_sandbox/state", exported, auth=None)
    next_with = created(api, order_body((WEEKEND, 1), n=3))

    for key in ("uid", "reference"):
        assert next_with[key] == next_without[key]


def test_export_of_a_frozen_clock_imports_frozen(api):
    api.post(
        "/_sandbox/clock", {"now": "2031-05-04T10:00:00Z", "freeze": True}, auth=None
    )
    exported = json.loads(api.get("/_sandbox/state", auth=None).text)
    api.post("/_sandbox/reset", auth=None)
    api.put("/_sandbox/state", exported, auth=None)
    clock = api.get("/_sandbox/clock", auth=None).json
    assert (clock["now"], clock["frozen"]) == ("2031-05-04T10:00:00Z", True)


@pytest.mark.parametrize(
    "damage",
    [
        lambda s: s.pop("orders"),
        lambda s: s["orders"][0].pop("uid"),
        lambda s: s["clock"].update(offset_seconds="soon"),
    ],
)
def test_import_of_a_broken_state_is_400_and_changes_nothing(api, damage):
    created(api, order_body((WEEKEND, 1), external_reference="exported"))
    state = json.loads(api.get("/_sandbox/state", auth=None).text)
    damage(state)
    api.post("/_sandbox/reset", auth=None)
    created(api, order_body((WEEKEND, 1), external_reference="kept"))
    before = every_read(api)

    refused = api.put("/_sandbox/state", state, auth=None)

    assert refused.status == 400, refused
    assert refused.json["type"] == "BAD_REQUEST"
    assert every_read(api) == before


# -- sessions -----------------------------------------------------------------


def test_two_sessions_in_parallel_never_touch_each_other(live_server):
    """Case 2 of the public faults, both runs at once on the real server."""
    a, b = Live(live_server), Live(live_server)
    ub = b.create(order_body((WEEKEND, 1), external_reference="ci-2-1")).json()["uid"]
    steps = threading.Barrier(2)
    seen = {}

    def run_a():
        a.control(
            "POST",
            "/rules",
            {
                "action": "orders.create",
                "error": "CAPTCHA_RATE_LIMIT_REACHED",
                "times": 1,
            },
        )
        a.control("POST", "/clock", {"advance": "PT3H"})
        steps.wait()
        steps.wait()
        seen["a3"] = a.create(order_body((WEEKEND, 1), n=3))
        a.control("POST", "/reset")
        steps.wait()

    def run_b():
        steps.wait()
        seen["b2"] = b.create(order_body((WEEKEND, 1), n=2))
        seen["b_clock"] = b.control("GET", "/clock")
        seen["b_rules"] = b.control("GET", "/rules")
        steps.wait()
        steps.wait()
        seen["b_read"] = b.call("GET", f"/orders/{ub}", headers=PARTNER)

    threads = [threading.Thread(target=run_a), threading.Thread(target=run_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert seen["b2"].status_code == 201, seen["b2"].text
    assert seen["b_rules"]["rules"] == []
    assert abs(seen["b_clock"]["offset_seconds"]) < 5
    assert seen["a3"].status_code == 400
    assert seen["a3"].json()["type"] == "CAPTCHA_RATE_LIMIT_REACHED"
    assert seen["b_read"].status_code == 200
    a_orders = a.call("GET", "/orders?external_reference=ci-2-1", headers=PARTNER)
    assert a_orders.json()["_embedded"].get("shop:order", []) == []
    assert [e["path"] for e in b.control("GET", "/requests")["requests"]] == [
        "/orders",
        "/orders",
        f"/orders/{ub}",
    ]
    assert a.control("GET", "/requests")["requests"][-1]["path"] == "/orders"


def test_session_header_selects_the_world_and_default_is_default(app):
    one, two = Api(app, "iso-one"), Api(app, "iso-two")
    uid = created(one)["uid"]
    assert two.get(f"/orders/{uid}").status == 404
    assert Api(app, "iso-one").get(f"/orders/{uid}").status == 200
    index = one.get("/_sandbox", auth=None).json
    assert index["session"] == "iso-one"
    assert set(index["_links"]) >= {
        "reset",
        "scenarios",
        "rules",
        "clock",
        "requests",
        "emails",
        "state",
    }


# -- the admin token ----------------------------------------------------------

CONTROL_CALLS = [
    ("GET", "/_sandbox", None),
    ("POST", "/_sandbox/reset", None),
    ("GET", "/_sandbox/scenarios", None),
    ("POST", "/_sandbox/scenarios/10mer", None),
    ("POST", "/_sandbox/rules", {"action": "orders.read", "error": "NOT_FOUND"}),
    ("DELETE", "/_sandbox/rules", None),
    ("GET", "/_sandbox/clock", None),
    ("GET", "/_sandbox/requests", None),
    ("DELETE", "/_sandbox/requests", None),
    ("GET", "/_sandbox/emails", None),
    ("GET", "/_sandbox/state", None),
    ("GET", f"/_sandbox/orders/{SEED_PENDING}", None),
    ("POST", f"/_sandbox/orders/{SEED_PENDING}/payment", {"outcome": "paid"}),
]


@pytest.mark.parametrize("method, path, body", CONTROL_CALLS)
def test_admin_token_locks_the_control_plane(api_for, method, path, body):
    api = api_for(admin_token="lock-7f3a")
    for wrong in ({}, {"Sandbox-Admin-Token": "guess"}):
        refused = api.request(method, path, body, headers=wrong, auth=None)
        assert refused.status == 401, refused
        assert refused.json["type"] == "UNAUTHORIZED"
        assert "Sandbox-Admin-Token" in refused.json["message"]
    allowed = api.request(
        method, path, body, auth=None, headers={"Sandbox-Admin-Token": "lock-7f3a"}
    )
    assert allowed.status in (200, 201), allowed


def test_admin_token_leaves_the_api_and_the_checkout_page_open(api_for):
    api = api_for(admin_token="lock-7f3a")
    order = created(api)
    assert api.get(f"/orders/{order['uid']}").status == 200
    page = api.client.get(order["_links"]["payment"]["href"])
    assert page.status_code == 200
    paid = api.client.post(order["_links"]["payment"]["href"], data={"outcome": "paid"})
    assert paid.status_code == 303
    assert api.get(f"/orders/{order['uid']}").json["status"] == "completed"


def test_without_admin_token_the_control_plane_is_open(api):
    assert api.get("/_sandbox/clock", auth=None).status == 200


def test_forced_outcomes_are_logged(api, caplog):
    caplog.set_level("INFO")
    api.create(order_body((WEEKEND, 1)), headers={"Sandbox-Force": "10MER"})
    assert any(
        "forced 10MER on orders.create" in r.getMessage() for r in caplog.records
    )
