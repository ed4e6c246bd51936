"""PUT /_sandbox/state: every genuine export imports, every broken one is a 400
that names where it is broken and changes nothing."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from sandbox.timeutil import utcnow
from tests.conftest import Api
from tests.helpers import (
    SEED_COMPLETED,
    SEED_TICKETS,
    STALLS,
    WEEKEND,
    consumer,
    order_body,
)

SEATED_EVENT = "5eaded0c3a5b4f1d9e8c7b6a5f4e3d21"
NOBODY = "0" * 32


def ok(answer: Any, status: int = 200) -> Any:
    assert answer.status == status, answer
    return answer.json


def created(api: Api, body: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return ok(api.create(body, **kw), 201)  # type: ignore[no-any-return]


def exported(api: Api) -> str:
    """GET /_sandbox/state as it came: compared as text, nothing ignored."""
    answer = api.get("/_sandbox/state", auth=None)
    assert answer.status == 200, answer
    return answer.text  # type: ignore[no-any-return]


def rich_state(api: Api) -> None:
    """Orders in every state, payments in every state, seats, a transfer,
    baskets, armed rules and a scenario, overrides, both kinds of mail."""
    ok(api.post("/_sandbox/clock", {"advance": "PT7M"}, auth=None))
    created(api, order_body((WEEKEND, 1), external_reference="pending"))
    seated = created(api, order_body((STALLS, 2), external_reference="seated"))
    ok(api.pay(seated["uid"]))
    failed = created(api, order_body((WEEKEND, 2), vouchers=["SANDBOX-10"]))
    ok(api.pay(failed["uid"], "failed"))
    ok(api.post(f"/orders/{failed['uid']}/repayment"))
    canceled = created(api, order_body((WEEKEND, 1), n=2))
    ok(api.pay(canceled["uid"], "canceled"))
    refused = api.create(order_body((STALLS, 5), external_reference="too-many"))
    assert refused.json["type"] == "INSUFFICIENT_CONSECUTIVE_SEATS", refused
    # Free: completed at once, the seed order's tickets replaced.
    created(
        api,
        {"tickets": list(SEED_TICKETS), "consumer": consumer(9)},
        headers={"Order-Token": "seed-order-token-completed"},
    )
    paid = created(api, order_body((WEEKEND, 1), n=4))
    ok(api.pay(paid["uid"]))
    ok(
        api.post(
            "/orders/refund_access",
            {"email": "ci.buyer.4@example.com", "order_id": paid["reference"]},
        )
    )
    ok(api.post("/baskets", {"products": [{"product": WEEKEND, "quantity": 1}]}), 201)
    ok(api.post("/_sandbox/scenarios/10mer", auth=None), 201)
    rule = {"action": "orders.read", "error": "NOT_FOUND", "match": {"order": NOBODY}}
    ok(api.post("/_sandbox/rules", rule, auth=None), 201)
    limits = {"rate_limits": {"partner": {"orders": 50, "window_seconds": 60}}}
    ok(api.post("/_sandbox/overrides", limits, auth=None))


@pytest.fixture(scope="module")
def export(app: Any) -> str:
    """The export of a session with a bit of everything, as GET gives it."""
    api = Api(app, f"state-{uuid.uuid4().hex[:12]}")
    rich_state(api)
    state = json.loads(exported(api))
    statuses = {o["status"] for o in state["orders"]}
    payments = {p["status"] for o in state["orders"] for p in o["payments"]}
    assert statuses == {"pending", "completed", "canceled"}
    assert payments == {"pending", "paid", "failed", "canceled"}
    assert {t["status"] for t in state["tickets"]} == {"valid", "invalid"}
    assert {m["kind"] for m in state["outbox"]} == {
        "order_confirmation",
        "refund_access",
    }
    assert state["rules"] and state["baskets"] and state["seats"]
    return exported(api)


# -- finding what to tamper with ----------------------------------------------


def index_of(items: list[dict[str, Any]], test: Callable[[Any], bool]) -> int:
    return next(i for i, item in enumerate(items) if test(item))


def completed_seated(s: dict[str, Any]) -> int:
    return index_of(
        s["orders"], lambda o: o["status"] == "completed" and o["seats"] != []
    )


def pending(s: dict[str, Any]) -> int:
    return index_of(s["orders"], lambda o: o["status"] == "pending")


def seated_ticket(s: dict[str, Any]) -> int:
    return index_of(s["tickets"], lambda t: t["seat"] is not None)


def with_tickets(s: dict[str, Any]) -> int:
    return index_of(s["orders"], lambda o: o["tickets"] != [])


def moment_years_ago(years: int) -> float:
    then = datetime(utcnow().year - years, 1, 1, tzinfo=UTC)
    return (then - utcnow()).total_seconds()


# -- the tampered exports ------------------------------------------------------
# Each damages a state and answers the JSON path the 400 must name.

Damage = Callable[[dict[str, Any]], str]


def setting(path: str, value: Any, named: str | None = None) -> Damage:
    """Set ``path`` (dots and [i]; ``{pending}`` style lookups) to ``value``;
    the 400 names ``path``, or ``named`` when given."""

    def damage(s: dict[str, Any]) -> str:
        where = path.format(
            pending=pending(s),
            seated=completed_seated(s),
            ticket=seated_ticket(s),
            with_tickets=with_tickets(s),
        )
        target: Any = s
        steps = where[2:].replace("[", ".").replace("]", "").split(".")
        for step in steps[:-1]:
            target = target[int(step)] if isinstance(target, list) else target[step]
        last = steps[-1]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
        return named or where

    return damage


def duplicate_order(s: dict[str, Any]) -> str:
    twin = copy.deepcopy(s["orders"][0])
    twin["seq"] = s["seq"] = s["seq"] + 1
    s["orders"].append(twin)
    return f"$.orders[{len(s['orders']) - 1}].uid"


def orphan_ticket(s: dict[str, Any]) -> str:
    s["tickets"][0]["order"] = NOBODY
    return "$.tickets[0].order"


def order_lists_missing_ticket(s: dict[str, Any]) -> str:
    i = with_tickets(s)
    s["orders"][i]["tickets"].append(NOBODY)
    return f"$.orders[{i}].tickets[{len(s['orders'][i]['tickets']) - 1}]"


def ticket_not_listed(s: dict[str, Any]) -> str:
    i = with_tickets(s)
    uid = s["orders"][i]["tickets"].pop()
    return f"$.tickets[{index_of(s['tickets'], lambda t: t['uid'] == uid)}].order"


def seats_of_unknown_event(s: dict[str, Any]) -> str:
    s["seats"][NOBODY] = [["A", 1]]
    return f"$.seats.{NOBODY}"


def seat_off_the_map(s: dict[str, Any]) -> str:
    s["seats"][SEATED_EVENT].append(["A", 999])
    return f"$.seats.{SEATED_EVENT}[{len(s['seats'][SEATED_EVENT]) - 1}]"


def seat_not_taken(s: dict[str, Any]) -> str:
    i = completed_seated(s)
    seat = s["orders"][i]["seats"][0]
    s["seats"][SEATED_EVENT].remove(seat)
    return f"$.orders[{i}].seats[0]"


def unknown_stock(s: dict[str, Any]) -> str:
    s["stock"][NOBODY] = 3
    return f"$.stock.{NOBODY}"


def negative_stock(s: dict[str, Any]) -> str:
    s["stock"][WEEKEND] = -1
    return f"$.stock.{WEEKEND}"


def rate_limit_of_nobody(s: dict[str, Any]) -> str:
    s["rate_limits"]["nobody"] = {"orders": 1, "window_seconds": 60}
    return "$.rate_limits.nobody"


def rate_log_of_nobody(s: dict[str, Any]) -> str:
    s["rate_log"]["nobody"] = []
    return "$.rate_log.nobody"


def clock_before_2000(s: dict[str, Any]) -> str:
    s["clock"]["offset_seconds"] = moment_years_ago(utcnow().year - 1990)
    return "$.clock.offset_seconds"


def missing(key: str) -> Damage:
    def damage(s: dict[str, Any]) -> str:
        del s[key]
        return f"$.{key}"

    return damage


def extra_field(s: dict[str, Any]) -> str:
    s["orders"][0]["colour"] = "red"
    return "$.orders[0]"


def order_seq_beyond(s: dict[str, Any]) -> str:
    s["seq"] = 1
    return f"$.orders[{index_of(s['orders'], lambda o: o['seq'] > 1)}].seq"


def rule_id_not_below_next(s: dict[str, Any]) -> str:
    s["next_rule_id"] = 1
    return "$.rules[0].id"


def product_of_another_event(s: dict[str, Any]) -> str:
    i = pending(s)
    s["orders"][i]["lines"][0]["product"] = STALLS
    return f"$.orders[{i}].lines[0].product"


TAMPERED: dict[str, Damage] = {
    "version": setting("$.version", 2),
    "no orders": missing("orders"),
    "no clock": missing("clock"),
    "ttl 1e15": setting("$.order_ttl_seconds", 1e15),
    "ttl 0": setting("$.order_ttl_seconds", 0),
    "ttl text": setting("$.order_ttl_seconds", "30m"),
    "offset 1e12": setting("$.clock.offset_seconds", 1e12),
    "offset text": setting("$.clock.offset_seconds", "soon"),
    "clock before 2000": clock_before_2000,
    "frozen in 3100": setting("$.clock.frozen_at", "3100-01-01T00:00:00Z"),
    "frozen at garbage": setting("$.clock.frozen_at", "yesterday-ish"),
    "random state": setting("$.random[1][624]", 10_000, "$.random"),
    "random version": setting("$.faker_random[0]", 2),
    "unit_price abc": setting("$.orders[{pending}].lines[0].unit_price", "abc"),
    "unit_price NaN": setting("$.orders[{pending}].lines[0].unit_price", "NaN"),
    "unit_price negative": setting("$.orders[{pending}].lines[0].unit_price", "-1.00"),
    "unit_price number": setting("$.orders[{pending}].lines[0].unit_price", 5.45),
    "donation 3 decimals": setting("$.orders[0].donation", "1.234"),
    "ticket price": setting("$.tickets[0].price", "Infinity"),
    "quantity 0": setting("$.orders[{pending}].lines[0].quantity", 0),
    "quantity -2": setting("$.orders[{pending}].lines[0].quantity", -2),
    "quantity 1e12": setting("$.orders[{pending}].lines[0].quantity", 10**12),
    "order status": setting("$.orders[0].status", "weird"),
    "payment status": setting("$.orders[0].payments[0].status", "refunded"),
    "ticket status": setting("$.tickets[0].status", "used"),
    "order uid": setting("$.orders[0].uid", "NOT-A-UID"),
    "created garbage": setting("$.orders[0].created", "the day before"),
    "created in 1970": setting("$.orders[0].created", "1970-01-01T00:00:00Z"),
    "gender text": setting("$.orders[0].consumer.gender", "x"),
    "consumer country": setting("$.orders[0].consumer.country", 31),
    "unknown event": setting("$.orders[0].event", NOBODY),
    "unknown application": setting("$.orders[0].application", "nobody"),
    "unknown payment method": setting("$.orders[0].payment_method", NOBODY),
    "unknown shipping method": setting("$.orders[0].shipping_method", NOBODY),
    "unknown payment's method": setting("$.orders[0].payments[0].method", NOBODY),
    "unknown product": setting("$.orders[{pending}].lines[0].product", NOBODY),
    "product of another event": product_of_another_event,
    "unknown voucher": setting(
        "$.orders[0].vouchers", ["NOPE"], "$.orders[0].vouchers[0]"
    ),
    "unknown ticket product": setting("$.tickets[0].product", NOBODY),
    "duplicate order uid": duplicate_order,
    "ticket of no order": orphan_ticket,
    "order lists missing ticket": order_lists_missing_ticket,
    "ticket its order does not list": ticket_not_listed,
    "transfer of missing ticket": setting(
        "$.orders[0].transfer_of", [NOBODY], "$.orders[0].transfer_of[0]"
    ),
    "ticket replaced by nothing": setting("$.tickets[0].replaced_by", NOBODY),
    "ticket held by no order": setting("$.tickets[0].held_by", NOBODY),
    "order seat off the rows": setting("$.orders[{seated}].seats[0]", ["Z", 1]),
    "order seat number": setting("$.orders[{seated}].seats[0][1]", 0),
    "ticket seat off the map": setting("$.tickets[{ticket}].seat", ["A", 999]),
    "seat not taken": seat_not_taken,
    "seats of unknown event": seats_of_unknown_event,
    "seat map off the rows": seat_off_the_map,
    "unknown stock": unknown_stock,
    "negative stock": negative_stock,
    "rate limit of nobody": rate_limit_of_nobody,
    "rate log of nobody": rate_log_of_nobody,
    "rate window": setting("$.rate_limits.partner.window_seconds", 0),
    "basket application": setting("$.baskets[0].application", "nobody"),
    "basket product": setting("$.baskets[0].payload.products[0].product", NOBODY),
    "basket payload": setting("$.baskets[0].payload.products", "all of them"),
    "basket ordered as nothing": setting("$.baskets[0].ordered_as", NOBODY),
    "mail of no order": setting("$.outbox[0].order", NOBODY),
    "mail sent garbage": setting("$.outbox[0].sent_at", "now"),
    "rule action": setting("$.rules[0].action", "orders.explode"),
    "rule outcome": setting("$.rules[0].outcome", "TEAPOT"),
    "rule id beyond next": rule_id_not_below_next,
    "order seq beyond seq": order_seq_beyond,
    "extra field": extra_field,
    "journal entry": setting(
        "$.journal", [{"path": "/orders", "status": 200}], "$.journal[0].method"
    ),
}


def different_world(api: Api) -> None:
    """What the session holds when the broken import arrives: not the export."""
    ok(api.post("/_sandbox/reset", {"seed": 3}, auth=None))
    created(api, order_body((WEEKEND, 1), external_reference="kept"))
    ok(api.post("/_sandbox/clock", {"advance": "PT3M"}, auth=None))


@pytest.mark.parametrize("damage", TAMPERED.values(), ids=TAMPERED.keys())
def test_a_tampered_export_is_400_naming_where_and_changes_nothing(
    api: Api, export: str, damage: Damage
) -> None:
    state = json.loads(export)
    path = damage(state)
    different_world(api)
    before = exported(api)

    refused = api.put("/_sandbox/state", state, auth=None)

    assert refused.status == 400, refused
    assert refused.json["type"] == "BAD_REQUEST"
    assert path in [e["path"] for e in refused.json["errors"]], refused
    assert exported(api) == before
    # And the session still works as before.
    created(api, order_body((WEEKEND, 1), n=2))


def test_a_genuine_export_round_trips_exactly(api: Api, export: str) -> None:
    different_world(api)
    state = json.loads(export)
    state["session"] = api.session

    imported = api.put("/_sandbox/state", state, auth=None)

    assert imported.status == 200, imported
    assert json.loads(exported(api)) == state
    # Imported once more, it is the same again: nothing drifts.
    ok(api.put("/_sandbox/state", json.loads(exported(api)), auth=None))
    assert json.loads(exported(api)) == state
    assert api.get("/orders").status == 200


def test_exports_of_fresh_and_frozen_sessions_import(api: Api) -> None:
    fresh = exported(api)
    ok(api.put("/_sandbox/state", json.loads(fresh), auth=None))
    assert exported(api) == fresh
    moved = {"now": "2999-01-01T00:00:00Z", "freeze": True}
    ok(api.post("/_sandbox/clock", moved, auth=None))
    frozen = exported(api)
    ok(api.post("/_sandbox/reset", auth=None))
    ok(api.put("/_sandbox/state", json.loads(frozen), auth=None))
    assert exported(api) == frozen


def test_every_problem_is_listed_with_its_path(api: Api, export: str) -> None:
    state = json.loads(export)
    state["orders"][0]["event"] = NOBODY
    state["tickets"][0]["product"] = NOBODY
    state["stock"][WEEKEND] = -5

    refused = api.put("/_sandbox/state", state, auth=None)

    assert refused.status == 400, refused
    paths = {e["path"] for e in refused.json["errors"]}
    # The schema answers first; the references are checked once it passes.
    assert paths == {f"$.stock.{WEEKEND}"}
    state["stock"][WEEKEND] = 5
    refused = api.put("/_sandbox/state", state, auth=None)
    paths = {e["path"] for e in ok(refused, 400)["errors"]}
    assert {"$.orders[0].event", "$.tickets[0].product"} <= paths


def test_the_seed_completed_order_keeps_its_transferred_tickets(
    api: Api, export: str
) -> None:
    ok(api.put("/_sandbox/state", json.loads(export), auth=None))
    secrets = api.secrets(SEED_COMPLETED)
    replaced = [t for t in secrets["tickets"] if t["replaced_by"]]
    assert replaced and all(t["status"] == "invalid" for t in replaced)
