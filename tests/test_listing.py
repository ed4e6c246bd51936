"""GET /orders: filters, visibility, stable order and pagination (issue 4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.helpers import (
    BEARER,
    COMEDY,
    FESTIVAL,
    GUEST,
    JAZZ,
    JAZZ_EVENT,
    MERCHANT,
    PARTNER,
    PARTNER_B,
    SEED_COMPLETED,
    SEED_FAILED,
    SEED_PENDING,
    WEEKEND,
    order_body,
)

SEEDS = [SEED_PENDING, SEED_FAILED, SEED_COMPLETED]
FESTIVAL_URI = f"https://shopping-api.paylogic.com/events/{FESTIVAL}"
JAZZ_URI = f"https://shopping-api.paylogic.com/events/{JAZZ_EVENT}"
COGNITO_1 = {"Cognito-Token": "cognito-user-1"}


def uids(answer: Any) -> list[str]:
    assert answer.status == 200, answer
    return [o["uid"] for o in answer.json["_embedded"]["shop:order"]]


def moment(api: Any) -> datetime:
    now = api.get("/_sandbox/clock", auth=None).json["now"]
    return datetime.fromisoformat(now.replace("Z", "+00:00"))


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def advance(api: Any, minutes: int = 1) -> datetime:
    assert (
        api.post("/_sandbox/clock", {"advance": f"PT{minutes}M"}, auth=None).status
        == 200
    )
    return moment(api)


def place(
    api: Any,
    product: str = WEEKEND,
    n: int = 1,
    auth: Any = "default",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> str:
    answer = api.create(
        order_body((product, 1), n=n, **extra), auth=auth, headers=headers
    )
    assert answer.status == 201, answer
    return answer.json["uid"]  # type: ignore[no-any-return]


def cancel(api: Any, uid: str) -> None:
    answer = api.post("/ordercancellation", {"order": f"/orders/{uid}"})
    assert answer.status == 200, answer


def walk(api: Any, first: str) -> list[list[str]]:
    """Every page from ``first``, following ``next`` until it is absent."""
    pages, href = [], first
    while href:
        answer = api.get(href)
        pages.append(uids(answer))
        href = answer.json["_links"].get("next", {}).get("href")
        assert len(pages) < 50
    return pages


# -- acceptance 1: five orders, three completed, page size 2 -----------------


@pytest.fixture
def five(api_for: Any) -> tuple[Any, list[str]]:
    """The seeds (2 pending, 1 completed) plus two paid orders: 5, 3 completed."""
    api = api_for(page_size=2)
    paid = [place(api, n=n) for n in (1, 2)]
    for uid in paid:
        assert api.pay(uid).status == 200
    return api, paid


def test_completed_filter_has_three_items_on_two_pages(five):
    api, (one, two) = five
    first = api.get("/orders?status=completed")
    assert uids(first) == [SEED_COMPLETED, one]
    assert (first.json["item_count"], first.json["page"]) == (3, 1)
    links = first.json["_links"]
    assert links["self"]["href"] == "http://localhost/orders?status=completed"
    assert links["first"]["href"] == "http://localhost/orders?status=completed"
    assert links["next"]["href"] == "http://localhost/orders?status=completed&page=2"
    assert links["last"]["href"] == "http://localhost/orders?status=completed&page=2"
    assert "prev" not in links

    last = api.get(links["next"]["href"])
    assert uids(last) == [two]
    assert (last.json["item_count"], last.json["page"]) == (3, 2)
    assert last.json["_links"]["self"]["href"] == links["next"]["href"]
    assert "next" not in last.json["_links"]
    back = api.get(last.json["_links"]["prev"]["href"])
    assert uids(back) == [SEED_COMPLETED, one]
    assert back.json["item_count"] == 3


def test_comma_list_and_repeated_keys_agree(five):
    api, _ = five
    comma = api.get("/orders?status__in=pending,canceled")
    repeated = api.get("/orders?status__in=pending&status__in=canceled")
    assert uids(comma) == uids(repeated) == [SEED_PENDING, SEED_FAILED]
    assert comma.json["item_count"] == repeated.json["item_count"] == 2


def test_page_past_the_end_is_the_last_page(five):
    api, (_, two) = five
    answer = api.get("/orders?status=completed&page=9")
    assert uids(answer) == [two]
    assert answer.json["page"] == 2
    assert answer.json["_links"]["self"]["href"] == (
        "http://localhost/orders?status=completed&page=9"
    )


def test_links_keep_every_filter_in_order(five):
    api, _ = five
    query = f"event={quote(FESTIVAL_URI, safe='')}&status__ne=canceled&page=2"
    answer = api.get(f"/orders?{query}")
    assert answer.json["item_count"] == 5
    links = answer.json["_links"]
    kept = "event=https%3A%2F%2Fshopping-api.paylogic.com%2Fevents%2F" + FESTIVAL
    base = f"http://localhost/orders?{kept}&status__ne=canceled"
    assert links["first"]["href"] == base
    assert links["prev"]["href"] == base + "&page=1"
    assert links["next"]["href"] == base + "&page=3"
    assert links["last"]["href"] == base + "&page=3"
    assert links["self"]["href"] == f"http://localhost/orders?{query}"


def test_search_link_is_templated(api):
    search = api.get("/orders").json["_links"]["search"]
    assert search == {
        "href": "http://localhost/orders{?event,event__in,external_reference,status,"
        "status__ne,status__in,created__lt,created__lte,created__gt,"
        "created__gte,page}",
        "templated": True,
    }


def test_default_page_size_is_500(api):
    answer = api.get("/orders")
    assert (answer.json["item_count"], answer.json["page"]) == (3, 1)
    assert uids(answer) == SEEDS
    assert set(answer.json["_links"]) >= {
        "self",
        "profile",
        "curies",
        "search",
        "first",
        "last",
    }
    assert answer.headers["Content-Type"] == "application/hal+json"


# -- every filter, on a clock moved minute by minute --------------------------


@pytest.fixture
def world(api: Any) -> dict[str, Any]:
    """A completed, a pending (jazz), a canceled and a Cognito user's order."""
    assert api.post("/_sandbox/clock", {"freeze": True}, auth=None).status == 200
    t1 = advance(api)
    a = place(api, external_reference="L-A")
    assert api.pay(a).status == 200
    t2 = advance(api)
    b = place(api, JAZZ, external_reference="L-B")
    t3 = advance(api)
    c = place(api, external_reference="L-C")
    cancel(api, c)
    d = place(api, external_reference="L-D", headers=COGNITO_1)
    return {"api": api, "t1": t1, "t2": t2, "t3": t3, "A": a, "B": b, "C": c, "D": d}


def _expected(world: dict[str, Any], names: str) -> list[str]:
    return [world[n] if n in "ABCD" else SEEDS[int(n)] for n in names]


@pytest.mark.parametrize(
    "query, names",
    [
        ("status=completed", "A"),
        ("status=pending", "BD"),
        ("status=canceled", "C"),
        ("status=cancelled", "C"),
        ("status=COMPLETED", "A"),
        ("status__ne=pending", "AC"),
        ("status__in=completed,canceled", "AC"),
        ("status__in=completed&status__in=canceled", "AC"),
        ("status__in=completed, canceled", "AC"),
        ("event={festival}", "ACD"),
        ("event=" + FESTIVAL, "ACD"),
        ("event=/events/" + FESTIVAL, "ACD"),
        ("event={jazz}", "B"),
        ("event__in={festival},{jazz}", "ABCD"),
        ("event__in={festival}&event__in={jazz}", "ABCD"),
        ("event__in={jazz}", "B"),
        ("event={festival}&event__in={jazz}", ""),
        ("event={festival}&status=pending", "D"),
        ("external_reference=L-B", "B"),
        ("external_reference=L-B&status=completed", ""),
        ("external_reference=nope", ""),
    ],
)
def test_filters_after_t1(world, query, names):
    query = query.format(
        festival=quote(FESTIVAL_URI, safe=""), jazz=quote(JAZZ_URI, safe="")
    )
    gte = quote(iso(world["t1"]))
    answer = world["api"].get(f"/orders?{query}&created__gte={gte}")
    assert uids(answer) == _expected(world, names)
    assert answer.json["item_count"] == len(names)


def test_external_reference_without_other_filters(world):
    answer = world["api"].get("/orders?external_reference=CO-115")
    assert uids(answer) == [SEED_COMPLETED]


@pytest.mark.parametrize(
    "op, at, names",
    [
        ("gte", "t1", "ABCD"),
        ("gt", "t1", "BCD"),
        ("gte", "t3", "CD"),
        ("gt", "t3", ""),
        ("lt", "t2", "012A"),
        ("lte", "t2", "012AB"),
        ("lte", "t3", "012ABCD"),
    ],
)
def test_created_bounds(world, op, at, names):
    answer = world["api"].get(f"/orders?created__{op}={quote(iso(world[at]))}")
    assert uids(answer) == _expected(world, names)


@pytest.mark.parametrize(
    "offset",
    [
        timezone(timedelta(hours=2)),
        timezone(timedelta(hours=-5)),
        timezone(timedelta(hours=5, minutes=30)),
        UTC,
    ],
)
@pytest.mark.parametrize("encode_plus", [True, False])
def test_datetimes_with_any_offset(world, offset, encode_plus):
    local = world["t2"].astimezone(offset).isoformat()
    sent = local.replace("+", "%2B") if encode_plus else local  # '+' -> ' '
    answer = world["api"].get(
        f"/orders?created__gte={sent}&created__lte=" + quote(iso(world["t3"]))
    )
    assert uids(answer) == _expected(world, "BCD")


def test_date_only_and_compact_offsets(world):
    day = world["t1"].strftime("%Y-%m-%d")
    api = world["api"]
    assert _expected(world, "ABCD") == [
        u for u in uids(api.get(f"/orders?created__gte={day}")) if u not in SEEDS
    ]
    compact = world["t2"].astimezone(timezone(timedelta(hours=1)))
    text = compact.strftime("%Y-%m-%dT%H:%M:%S+0100")
    assert uids(api.get(f"/orders?created__gte={text}")) == _expected(world, "BCD")


@pytest.mark.parametrize(
    "query, name",
    [
        ("status=shipped", "status"),
        ("status__ne=paid", "status__ne"),
        ("status__in=completed,bogus", "status__in"),
        ("status__in=", "status__in"),
        ("status__in=completed,", "status__in"),
        ("status=completed&status=pending", "status"),
        ("status=", "status"),
        ("event=not-an-event", "event"),
        ("event__in=" + FESTIVAL + ",nope", "event__in"),
        ("created__gte=yesterday", "created__gte"),
        ("created__lt=2024-13-01T00:00:00Z", "created__lt"),
        (
            "created__gt=2024-01-01T00:00:00Z&created__gt=2024-01-02T00:00:00Z",
            "created__gt",
        ),
        ("external_reference=a&external_reference=b", "external_reference"),
        ("state=completed", "state"),
        ("page=0", "page"),
        ("page=two", "page"),
    ],
)
def test_bad_filter_values_are_400_naming_the_parameter(api, query, name):
    answer = api.get(f"/orders?{query}")
    assert (answer.status, answer.json["type"]) == (400, "BAD_REQUEST"), answer
    assert answer.headers["Content-Type"] == "application/json"
    assert repr(name) in answer.json["message"]
    assert answer.json["errors"][0]["path"] == f"query.{name}"


# -- case 18: list filters, repeated keys versus commas -----------------------


def test_case_18_list_filters(api):
    assert api.post("/_sandbox/clock", {"freeze": True}, auth=None).status == 200
    t0 = iso(advance(api))
    pending = [place(api, n=n) for n in (1, 2)]
    completed = [place(api, n=n) for n in (3, 4)]
    for uid in completed:
        api.pay(uid)
    canceled = [place(api, n=n) for n in (5, 6)]
    for uid in canceled:
        cancel(api, uid)
    since = f"&created__gte={t0}"
    assert (
        uids(api.get("/orders?status__in=pending,completed" + since))
        == pending + completed
    )
    assert (
        uids(api.get("/orders?status__in=pending&status__in=completed" + since))
        == pending + completed
    )
    repeated = api.get("/orders?status=pending&status=completed" + since)
    assert (repeated.status, repeated.json["type"]) == (400, "BAD_REQUEST")
    assert "'status'" in repeated.json["message"]
    assert uids(api.get("/orders?status__ne=pending" + since)) == completed + canceled
    empty = api.get("/orders?status__in=" + since)
    assert (empty.status, empty.json["errors"][0]["path"]) == (400, "query.status__in")
    bad = api.get("/orders?status__in=pending,NOT_A_STATUS" + since)
    assert bad.status == 400
    assert "'NOT_A_STATUS'" in bad.json["message"]


# -- visibility ---------------------------------------------------------------


def test_basic_sees_the_applications_own_orders(world):
    api = world["api"]
    mine = SEEDS + _expected(world, "ABCD")
    assert uids(api.get("/orders")) == mine
    assert uids(api.get("/orders", auth=PARTNER_B)) == []
    theirs = place(api, auth=PARTNER_B, n=7)
    comedy = place(api, COMEDY, auth=PARTNER_B, n=8)
    assert uids(api.get("/orders", auth=PARTNER_B)) == [theirs, comedy]
    assert uids(api.get("/orders")) == mine


def test_merchant_role_sees_every_order_of_its_merchants_events(world):
    api = world["api"]
    theirs = place(api, auth=PARTNER_B, n=7)
    place(api, COMEDY, auth=PARTNER_B, n=8)  # another merchant's event
    seen = api.get("/orders", auth=MERCHANT)
    assert uids(seen) == SEEDS + _expected(world, "ABCD") + [theirs]
    completed = api.get("/orders?status=completed", auth=MERCHANT)
    assert uids(completed) == [SEED_COMPLETED, world["A"]]


def test_cognito_token_sees_only_its_users_orders(world):
    api = world["api"]
    for auth in (None, "default", PARTNER_B):
        answer = api.get("/orders", auth=auth, headers=COGNITO_1)
        assert uids(answer) == [world["D"]]
    other = api.get("/orders", headers={"Cognito-Token": "cognito-user-2"})
    assert uids(other) == []
    pending = api.get("/orders?status=pending", auth=None, headers=COGNITO_1)
    assert uids(pending) == [world["D"]]
    assert uids(api.get("/orders?status=completed", auth=None, headers=COGNITO_1)) == []


def test_bearer_sees_the_orders_it_created(api):
    mine = place(api, auth=BEARER)
    assert uids(api.get("/orders", auth=BEARER)) == [mine]
    # The partner's back end (Basic) reads what its front end placed, in the
    # list as in GET; another partner does not.
    assert mine in uids(api.get("/orders"))
    assert api.get(f"/orders/{mine}").status == 200
    assert mine not in uids(api.get("/orders", auth=PARTNER_B))
    assert api.get(f"/orders/{mine}", auth=PARTNER_B).status == 403
    # And the front end does not read the back end's orders.
    theirs = place(api)
    assert api.get(f"/orders/{theirs}", auth=BEARER).status == 403


@pytest.mark.parametrize(
    "auth, headers, status, kind",
    [
        (None, None, 401, "UNAUTHORIZED"),
        (GUEST, None, 403, "FORBIDDEN"),
        (None, {"Order-Token": "seed-order-token-completed"}, 403, "FORBIDDEN"),
        (None, {"Cognito-Token": "nobody"}, 401, "UNAUTHORIZED"),
        ({"Authorization": "Basic partner:wrong"}, None, 401, "UNAUTHORIZED"),
    ],
)
def test_who_may_not_list(api, auth, headers, status, kind):
    answer = api.get("/orders", auth=auth, headers=headers)
    assert (answer.status, answer.json["type"]) == (status, kind)


# -- case 9: stable order when orders share a timestamp ------------------------


def test_case_9_same_timestamp_pages_are_stable(api_for):
    api = api_for(page_size=10)
    assert api.post("/_sandbox/clock", {"freeze": True}, auth=None).status == 200
    t0 = iso(advance(api))
    made = [place(api, n=n) for n in range(25)]
    created = {api.get(f"/orders/{u}").json["created_date"] for u in made}
    assert created == {t0}
    first = f"/orders?event={quote(FESTIVAL_URI, safe='')}&created__gte={t0}"

    pages = walk(api, first)
    assert [len(p) for p in pages] == [10, 10, 5]
    walked = [u for page in pages for u in page]
    assert walked == made
    assert len(set(walked)) == 25
    assert api.get(first).json["item_count"] == 25
    assert walk(api, first) == pages

    page1 = api.get(first)
    late = place(api, n=26)
    page2 = api.get(page1.json["_links"]["next"]["href"])
    assert not set(uids(page1)) & set(uids(page2))
    assert page2.json["item_count"] == 26
    assert [u for p in walk(api, first) for u in p] == made + [late]


def test_generated_orders_list_in_creation_order(api_for):
    api = api_for(page_size=3)
    answer = api.post(
        "/_sandbox/generate", {"orders": 7, "status": "completed"}, auth=None
    )
    assert answer.status == 201, answer
    assert (answer.json["generated"], answer.json["orders"]) == (7, 10)
    listed = api.get("/orders?status=completed&page=3")
    assert listed.json["item_count"] == 8
    assert uids(listed)[-1] == answer.json["last"]
    assert len(uids(listed)) == 2


# -- against a real server: raw '+' and the whole walk ------------------------


def test_live_server_plus_in_query_and_paging(live_server):
    session = "listing-live"
    headers = {**PARTNER, "Sandbox-Session": session}
    requests.post(f"{live_server}/_sandbox/reset", headers=headers, timeout=30)
    created = []
    for n in range(3):
        answer = requests.post(
            f"{live_server}/orders",
            json=order_body((WEEKEND, 1), n=n, external_reference="LIVE-1"),
            headers=headers,
            timeout=30,
        )
        assert answer.status_code == 201
        created.append(answer.json()["uid"])
    raw = (
        f"{live_server}/orders?external_reference=LIVE-1"
        "&created__gte=2000-01-01T02:00:00+02:00"
    )
    answer = requests.get(raw, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [o["uid"] for o in body["_embedded"]["shop:order"]] == created
    assert body["_links"]["self"]["href"] == raw


# -- POST /_sandbox/generate ----------------------------------------------------


@pytest.mark.parametrize(
    "status, listed",
    [
        ("completed", "completed"),
        ("pending", "pending"),
        ("failed", "pending"),
        ("canceled", "canceled"),
    ],
)
def test_generate_brings_orders_to_their_status(api, status, listed):
    stock = api.get(f"/products/{WEEKEND}").json["availability"]
    answer = api.post(
        "/_sandbox/generate",
        {"orders": 4, "status": status, "product": WEEKEND},
        auth=None,
    )
    assert answer.status == 201, answer
    order = api.get(f"/orders/{answer.json['last']}").json
    assert order["status"] == listed
    assert order["consumer"]["email"].endswith("@example.com")
    assert api.get(f"/products/{WEEKEND}").json["availability"] == stock
    assert (
        len(
            [
                m
                for m in api.get("/_sandbox/emails", auth=None).json["emails"]
                if m["kind"] == "order_confirmation"
            ]
        )
        == 3
    )  # the seeds' only
    assert api.create(order_body((WEEKEND, 1))).status == 201


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"orders": 0},
        {"orders": 1, "status": "shipped"},
        {"orders": 1, "product": "5ea7ed005ea7ed005ea7ed005ea7ed00"},  # seated
        {"orders": 1, "application": "guest"},
        {"orders": 1, "colour": "red"},
    ],
)
def test_generate_refusals_store_nothing(api, body):
    answer = api.post("/_sandbox/generate", body, auth=None)
    assert (answer.status, answer.json["type"]) == (400, "BAD_REQUEST"), answer
    assert api.get("/orders").json["item_count"] == 3


def test_generate_is_locked_by_the_admin_token(api_for):
    api = api_for(admin_token="s3cret")
    body = {"orders": 2}
    assert api.post("/_sandbox/generate", body, auth=None).status == 401
    answer = api.post(
        "/_sandbox/generate", body, auth=None, headers={"Sandbox-Admin-Token": "s3cret"}
    )
    assert answer.status == 201
