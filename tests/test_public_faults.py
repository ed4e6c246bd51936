"""One test per case of ../shared/cases/public-faults.md, with its right value.

The placeholders of the cases map onto the default fixtures: ``P_A`` is the
shirt (19.99), ``P_B`` the drinks voucher (4.35), ``P_LAST`` the backstage
pass with its stock set through ``POST /_sandbox/overrides``; ``BASIC`` is
the partner application, ``BASIC_B`` the second partner, ``JWT`` the Bearer
token of the partner's front end.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import LIVE
from tests.helpers import (
    BACKSTAGE,
    BEARER,
    DRINKS,
    FESTIVAL,
    IDEAL,
    MERCHANT,
    PARTNER,
    PARTNER_B,
    SEED_FAILED,
    SHIRT,
    amount,
    consumer,
)

BIN = Path(sys.executable).parent
ORIGIN = "https://shop.partner-example.test"
PROXY = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "sandbox.partner-ci.example.net",
    "X-Forwarded-Port": "443",
}
PROXIED = "https://sandbox.partner-ci.example.net/"


def create_body(n: int, products: list[tuple[str, int]], case: str) -> dict[str, Any]:
    """CREATE(n, products) of the cases."""
    return {
        "products": [{"product": uid, "quantity": q} for uid, q in products],
        "consumer": consumer(n),
        "payment_method": IDEAL,
        "external_reference": f"ci-{case}-{n}",
    }


def hrefs(node: Any) -> list[str]:
    """Every ``href`` of a HAL body, however deep."""
    if isinstance(node, dict):
        found = [node["href"]] if isinstance(node.get("href"), str) else []
        return found + [h for value in node.values() for h in hrefs(value)]
    if isinstance(node, list):
        return [h for value in node for h in hrefs(value)]
    return []


def live(base: str, session: str, headers: dict[str, str] | None = None) -> Any:
    """A ``requests`` session on the live server, in one sandbox session."""
    http = requests.Session()
    http.headers.update({**PARTNER, "Sandbox-Session": session, **(headers or {})})
    http.request = _with_base(http.request, base)  # type: ignore[method-assign]
    return http


def _with_base(send: Any, base: str) -> Any:
    def request(method: str, path: str, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", 30)
        return send(method, base + path, **kwargs)

    return request


# -- 1. state in one worker's memory ------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["shopping-sandbox", "serve", "--workers", "4", "--port", "0"],
        ["gunicorn", "-w", "4", "-b", "127.0.0.1:0", "sandbox.wsgi:app"],
    ],
    ids=["cli", "gunicorn"],
)
def test_case_1_several_workers_are_refused(command):
    done = subprocess.run(
        [str(BIN / command[0]), *command[1:]],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parent.parent,
        env={**os.environ, "SANDBOX_LOG_LEVEL": "WARNING"},
    )
    assert done.returncode != 0
    said = done.stdout + done.stderr
    assert "4 workers" in said and "one worker" in said, said[-2000:]


def test_case_1_state_and_order_token_shared_by_every_thread(live_server):
    http = live(live_server, f"case1-{uuid.uuid4().hex[:8]}")
    body = create_body(1, [(SHIRT, 1)], "xw")
    body["external_reference"] = "ci-xw-0001"
    created = http.post("/orders", json=body)
    assert created.status_code == 201
    order = created.json()
    uid = order["uid"]
    token = http.get(f"/_sandbox/orders/{uid}").json()["order_token"]

    def read(_: int) -> Any:
        return http.get(f"/orders/{uid}")

    with ThreadPoolExecutor(8) as pool:
        reads = list(pool.map(read, range(20)))
        lists = list(
            pool.map(
                lambda _: http.get(
                    "/orders", params={"external_reference": "ci-xw-0001"}
                ),
                range(10),
            )
        )
        by_token = list(
            pool.map(
                lambda _: http.get(
                    f"/orders/{uid}",
                    headers={"Authorization": "", "Order-Token": token},
                ),
                range(20),
            )
        )
    for answer in reads + by_token:
        assert answer.status_code == 200
        got = answer.json()
        assert (got["uid"], got["status"], got["grand_total"]) == (
            uid,
            order["status"],
            order["grand_total"],
        )
    for answer in lists:
        assert answer.status_code == 200
        assert [o["uid"] for o in answer.json()["_embedded"]["shop:order"]] == [uid]


# -- 2. parallel CI runs ------------------------------------------------------


def test_case_2_parallel_runs_do_not_touch_each_other(app):
    from tests.conftest import Api

    run = uuid.uuid4().hex[:8]
    a, b = Api(app, f"run-a-{run}"), Api(app, f"run-b-{run}")
    b.auth = dict(PARTNER_B)
    created = b.create(create_body(1, [(SHIRT, 1)], "2"))
    assert created.status == 201
    ub = created.json["uid"]
    armed = a.post(
        "/_sandbox/rules",
        {"action": "orders.create", "error": "CAPTCHA_RATE_LIMIT_REACHED", "times": 1},
        auth=None,
    )
    assert armed.status == 201
    assert b.create(create_body(2, [(SHIRT, 1)], "2")).status == 201
    refused = a.create(create_body(3, [(SHIRT, 1)], "2"))
    assert (refused.status, refused.json["type"]) == (400, "CAPTCHA_RATE_LIMIT_REACHED")
    assert a.post("/_sandbox/reset", auth=None).status == 200
    assert b.get(f"/orders/{ub}").status == 200
    listed = a.get("/orders?external_reference=ci-2-1")
    assert listed.json["item_count"] == 0


# -- 4. the last tickets sold more than once ----------------------------------


@pytest.mark.parametrize("stock, buyers, quantity, sold", [(2, 10, 1, 2), (1, 5, 2, 0)])
def test_case_4_last_tickets_are_sold_once(live_server, stock, buyers, quantity, sold):
    http = live(live_server, f"case4-{uuid.uuid4().hex[:8]}")
    set_stock = http.post("/_sandbox/overrides", json={"stock": {BACKSTAGE: stock}})
    assert set_stock.status_code == 200
    start = threading.Barrier(buyers)

    def buy(n: int) -> Any:
        start.wait()
        return http.post("/orders", json=create_body(n, [(BACKSTAGE, quantity)], "4"))

    with ThreadPoolExecutor(buyers) as pool:
        answers = list(pool.map(buy, range(buyers)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * sold + [400] * (buyers - sold)
    for refused in (a for a in answers if a.status_code == 400):
        assert refused.json()["type"] == "CONSTRAINT_VIOLATION"
    left = http.get(f"/products/{BACKSTAGE}").json()["availability"]
    assert left == stock - sold * quantity >= 0
    orders = http.get("/orders", params={"event": FESTIVAL}).json()
    with_pass = [
        o
        for o in orders["_embedded"]["shop:order"]
        if any(line["product"].endswith(BACKSTAGE) for line in o["product_selection"])
        and (o["external_reference"] or "").startswith("ci-4")
    ]
    assert len(with_pass) == sold


# -- 5. responses built from the request --------------------------------------


def test_case_5_responses_come_from_the_request(api):
    first = api.create(create_body(1, [(SHIRT, 3), (DRINKS, 1)], "5"))
    assert first.status == 201
    one = first.json
    assert amount(one["product_total"]) == Decimal("64.32")
    costs = amount(one["payment_method"]["costs"])
    assert amount(one["grand_total"]) == (
        amount(one["product_total"]) + amount(one["service_costs"]) + costs
    )
    assert [
        (line["product"].rsplit("/", 1)[1], line["quantity"])
        for line in one["product_selection"]
    ] == [(SHIRT, 3), (DRINKS, 1)]
    assert one["consumer"]["email"] == "ci.buyer.1@example.com"
    assert one["external_reference"] == "ci-5-1"

    two = api.create(create_body(2, [(SHIRT, 1)], "5")).json
    assert amount(two["product_total"]) == Decimal("19.99")
    assert two["uid"] != one["uid"]
    assert two["consumer"]["email"] == "ci.buyer.2@example.com"

    read = api.get(f"/orders/{one['uid']}").json
    # Every field equal; only the embedded products' live availability moved,
    # since order two took a shirt.
    assert {k: v for k, v in read.items() if k != "_embedded"} == {
        k: v for k, v in one.items() if k != "_embedded"
    }
    assert [p["uid"] for p in read["_embedded"]["shop:product"]] == [SHIRT, DRINKS]
    # Upstream lets only a merchant change the consumer, of a completed order.
    assert api.pay(one["uid"]).status == 200
    changed = api.put(
        f"/orders/{one['uid']}",
        {"consumer": {"email": "ci.buyer.9@example.com", "first_name": "Nieuwe"}},
        auth=MERCHANT,
    )
    assert changed.status == 200, changed
    again = api.get(f"/orders/{one['uid']}").json
    assert (again["consumer"]["email"], again["consumer"]["first_name"]) == (
        "ci.buyer.9@example.com",
        "Nieuwe",
    )
    for total in ("product_total", "service_costs", "grand_total"):
        assert again[total] == one[total]


# -- 7. money as Decimal ------------------------------------------------------


def test_case_7_money_is_exact(api):
    first = api.create(create_body(1, [(DRINKS, 3)], "7"))
    assert amount(first.json["product_total"]) == Decimal("13.05")
    assert '"product_total": {"amount": 13.05,' in first.text
    for wrong in ("13.04", "13.049", "13.0500000"):
        assert wrong not in first.text

    second = api.create(create_body(2, [(SHIRT, 3), (DRINKS, 3)], "7"))
    body = second.json
    assert amount(body["product_total"]) == Decimal("73.02")
    rest = (
        amount(body["grand_total"])
        - amount(body["product_total"])
        - amount(body["service_costs"])
        - amount(body["payment_method"]["costs"])
    )
    assert rest == Decimal("0.00")

    listed = api.get("/orders?external_reference=ci-7-2")
    embedded = listed.json["_embedded"]["shop:order"]
    assert len(embedded) == 1
    for key in ("product_total", "service_costs", "grand_total", "product_selection"):
        assert embedded[0][key] == body[key]
    # The same field has the same representation everywhere: totals are
    # numbers with two decimals, selection prices strings (the orders page).
    assert '"product_total": {"amount": 73.02,' in listed.text
    assert '"unit_price": {"amount": "19.99",' in listed.text


# -- 9. stable pagination -----------------------------------------------------


def test_case_9_pages_are_stable_when_orders_share_a_timestamp(api_for):
    api = api_for(page_size=10)
    # Past the seeded orders' second, then frozen: 25 orders, one created_date.
    assert (
        api.post(
            "/_sandbox/clock", {"advance": "PT1M", "freeze": True}, auth=None
        ).status
        == 200
    )
    t0 = api.get("/_sandbox/clock", auth=None).json["now"]
    for n in range(25):
        assert api.create(create_body(n, [(SHIRT, 1)], "9")).status == 201
    first = f"/orders?event={FESTIVAL}&created__gte={t0}"

    def walk(between: Any = None) -> list[list[str]]:
        pages, url = [], first
        while url:
            page = api.get(url).json
            pages.append([o["uid"] for o in page["_embedded"]["shop:order"]])
            assert page["item_count"] >= 25
            url = page["_links"].get("next", {}).get("href")
            if between and len(pages) == 1:
                between()
        return pages

    pages = walk()
    uids = [uid for page in pages for uid in page]
    assert [len(page) for page in pages] == [10, 10, 5]
    assert len(set(uids)) == 25
    assert walk() == pages
    changed = walk(lambda: api.create(create_body(26, [(SHIRT, 1)], "9")))
    assert not set(changed[0]) & set(changed[1])


# -- 11. links behind a proxy -------------------------------------------------


def test_case_11_links_follow_the_forwarded_address(api_for):
    api = api_for(page_size=1)
    created = api.create(create_body(1, [(SHIRT, 1)], "11"), headers=PROXY)
    assert created.headers["Location"].startswith(PROXIED)
    links = hrefs(created.json)
    docs = "https://shopping-api-docs.paylogic.com/"
    assert not [h for h in links if "localhost" in h], links
    assert created.json["_links"]["payment"]["href"].startswith(PROXIED)
    uid = created.json["uid"]
    read = api.get(f"/orders/{uid}", headers=PROXY).json
    assert read["_links"]["self"]["href"] == f"{PROXIED}orders/{uid}"
    assert read["_links"]["curies"][0]["href"].startswith(docs)
    listed = api.get("/orders", headers=PROXY).json["_links"]
    assert listed["self"]["href"].startswith(PROXIED)
    assert listed["next"]["href"].startswith(PROXIED)
    prefixed = api.get(f"/orders/{uid}", headers={**PROXY, "X-Forwarded-Prefix": "/sb"})
    assert prefixed.json["_links"]["self"]["href"] == f"{PROXIED}sb/orders/{uid}"
    plain = api.get(f"/orders/{uid}").json
    assert plain["_links"]["self"]["href"] == f"http://localhost/orders/{uid}"


def test_case_11_forwarded_headers_ignored_without_proxy_trust(api_for):
    api = api_for(trust_proxy=False)
    created = api.create(create_body(1, [(SHIRT, 1)], "11"), headers=PROXY)
    assert created.headers["Location"].startswith("http://localhost/orders/")


# -- 12. JSON for every error status ------------------------------------------


def test_case_12_errors_are_json_never_html(api):
    uid = api.create(create_body(1, [(SHIRT, 1)], "12")).json["uid"]
    answers = {
        "unknown order": (api.get("/orders/doesnotexist0000000000000000000"), 404),
        "unknown path": (api.get("/no-such-resource"), 404),
        "DELETE order": (api.delete(f"/orders/{uid}"), 405),
        "PATCH orders": (api.request("PATCH", "/orders"), 405),
    }
    for name, (answer, status) in answers.items():
        assert answer.status == status, name
        assert answer.headers["Content-Type"] == "application/json", name
        assert answer.json["type"] and not answer.text.lstrip().startswith("<"), name
    allow = answers["DELETE order"][0].headers["Allow"]
    assert {"GET", "PUT"} <= {m.strip() for m in allow.split(",")}

    api.post(
        "/_sandbox/rules",
        {"action": "orders.read", "error": "INTERNAL_SERVER_ERROR"},
        auth=None,
    )
    crashed = api.get(f"/orders/{uid}")
    assert crashed.status == 500
    assert crashed.json["type"] == "INTERNAL_SERVER_ERROR"
    assert "Traceback" not in crashed.text and ".py" not in crashed.text


# -- 13. malformed JSON and media types ---------------------------------------


def test_case_13_bodies_that_are_not_an_order_object(api):
    valid = json.dumps(create_body(1, [(SHIRT, 1)], "13"))
    before = api.get("/orders").json["item_count"]
    cut = api.post("/orders", data='{"products": [', content_type="application/json")
    assert (cut.status, cut.json["type"]) == (400, "BAD_REQUEST")
    assert "line 1" in cut.json["message"]
    for content_type in (None, "application/x-www-form-urlencoded"):
        wrong = api.post("/orders", data=valid, content_type=content_type)
        assert wrong.status == 415
        assert "application/json" in wrong.json["message"]
    for text in ("[]", '"text"', "null", ""):
        refused = api.post("/orders", data=text, content_type="application/json")
        assert refused.status == 400, text
        assert refused.headers["Content-Type"] == "application/json"
    assert api.get("/orders").json["item_count"] == before
    charset = api.post(
        "/orders", data=valid, content_type="application/json; charset=utf-8"
    )
    assert charset.status == 201


# -- 15. CORS preflight for browser shops -------------------------------------


@pytest.mark.parametrize(
    "path, method",
    [
        ("/orders", "POST"),
        ("/orders/{uid}", "PUT"),
        ("/orders/{uid}/repayment", "POST"),
    ],
)
def test_case_15_preflight_needs_no_credentials(api, path, method):
    answer = api.request(
        "OPTIONS",
        path.format(uid=SEED_FAILED),
        auth=None,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": (
                "authorization, content-type, cognito-token, order-token"
            ),
        },
    )
    assert answer.status in (200, 204)
    assert answer.headers["Access-Control-Allow-Origin"] in (ORIGIN, "*")
    assert method in answer.headers["Access-Control-Allow-Methods"]
    allowed = {
        h.strip().lower()
        for h in answer.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert {"authorization", "content-type", "cognito-token", "order-token"} <= allowed


def test_case_15_cors_headers_on_answers_and_errors(api):
    created = api.create(
        create_body(1, [(SHIRT, 1)], "15"), auth=BEARER, headers={"Origin": ORIGIN}
    )
    assert created.status == 201
    assert created.headers["Access-Control-Allow-Origin"] in (ORIGIN, "*")
    refused = api.get(
        f"/orders/{created.json['uid']}", auth=None, headers={"Origin": ORIGIN}
    )
    assert (refused.status, refused.json["type"]) == (401, "UNAUTHORIZED")
    assert refused.headers["Access-Control-Allow-Origin"] in (ORIGIN, "*")


# -- 16. trailing slashes -----------------------------------------------------


def test_case_16_trailing_slash_is_the_same_resource(app):
    from tests.conftest import Api

    api = Api(app, f"case16-{uuid.uuid4().hex[:8]}")
    created = api.post("/orders/", create_body(1, [(SHIRT, 1)], "16"))
    assert created.status == 201 and created.json["status"] == "pending"
    uid = created.json["uid"]
    assert api.get("/orders/").json == api.get("/orders").json
    assert api.get(f"/orders/{uid}/").json == api.get(f"/orders/{uid}").json
    slash, plain = (Api(app, f"case16-{uuid.uuid4().hex[:8]}") for _ in range(2))
    repaid = [
        client.post(f"/orders/{SEED_FAILED}/repayment{end}")
        for client, end in ((slash, "/"), (plain, ""))
    ]
    assert repaid[0].status == repaid[1].status == 200
    assert [a.json["checkout_url"].split("&sandbox_session")[0] for a in repaid] == [
        repaid[1].json["checkout_url"].split("&sandbox_session")[0]
    ] * 2


# -- 18. list filters ---------------------------------------------------------


def test_case_18_multi_value_filters(api):
    api.post("/_sandbox/clock", {"advance": "PT1M"}, auth=None)
    t0 = api.get("/_sandbox/clock", auth=None).json["now"]
    made: dict[str, set[str]] = {
        "pending": set(),
        "completed": set(),
        "canceled": set(),
    }
    for n in range(6):
        uid = api.create(create_body(n, [(SHIRT, 1)], "18")).json["uid"]
        status = list(made)[n % 3]
        if status == "completed":
            api.pay(uid)
        elif status == "canceled":
            api.post("/ordercancellation", {"order": uid})
        made[status].add(uid)

    def uids(query: str) -> Any:
        answer = api.get(f"/orders?{query}&created__gte={t0}")
        if answer.status != 200:
            return answer.status, answer.json["errors"][0]["path"]
        return {o["uid"] for o in answer.json["_embedded"]["shop:order"]}

    wanted = made["pending"] | made["completed"]
    assert uids("status__in=pending,completed") == wanted
    assert uids("status__in=pending&status__in=completed") == wanted
    assert uids("status=pending&status=completed") == (400, "query.status")
    assert uids("status__ne=pending") == made["completed"] | made["canceled"]
    assert uids("status__in=") == (400, "query.status__in")
    assert uids("status__in=pending,NOT_A_STATUS") == (400, "query.status__in")


# -- 19. body size limits -----------------------------------------------------


@pytest.fixture(scope="module")
def served(app: Any) -> Any:
    """The sandbox as deployed: ``shopping-sandbox serve`` (gunicorn), a free port.

    Not the werkzeug development server: after a 413 it reads the rest of the
    body until the client closes, so a client waiting for the answer hangs.
    """
    process = subprocess.Popen(
        [str(BIN / "shopping-sandbox"), "serve", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "SANDBOX_LOG_LEVEL": "WARNING"},
    )
    try:
        assert process.stdout is not None
        base = process.stdout.readline().strip()
        assert base.startswith("http://127.0.0.1:"), base
        LIVE[base] = app  # its answers are checked against the document too
        yield base
        LIVE.pop(base)
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def test_case_19_body_limits(served):
    limit = 1024 * 1024  # SANDBOX_MAX_BODY's default
    live_server = served
    http = live(live_server, f"case19-{uuid.uuid4().hex[:8]}")
    huge = create_body(1, [(SHIRT, 1)], "19")
    huge["external_reference"] = "x" * (5 * 1024 * 1024)
    raw = json.dumps(huge).encode()
    started = time.monotonic()
    answer = _post_raw(live_server, raw, chunked=False)
    assert answer[0] == 413 and answer[1]["type"] == "REQUEST_ENTITY_TOO_LARGE"
    assert time.monotonic() - started < 2
    for n in range(8):
        assert (
            http.post("/orders", json=create_body(n, [(SHIRT, 1)], "19")).status_code
            == 201
        )
    under = create_body(1, [(SHIRT, 1)], "19")
    under["external_reference"] = "x" * (limit - len(json.dumps(under)) - 100)
    refused = http.post("/orders", json=under)
    assert (refused.status_code, refused.json()["type"]) == (
        400,
        "CONSTRAINT_VIOLATION",
    )
    chunked = _post_raw(live_server, raw, chunked=True)
    assert chunked[0] == 413 and chunked[1]["type"] == "REQUEST_ENTITY_TOO_LARGE"


def _post_raw(base: str, raw: bytes, chunked: bool) -> tuple[int, Any]:
    """POST /orders over a bare socket, reading the answer while still sending."""
    host, port = base.removeprefix("http://").split(":")
    head = (
        f"POST /orders HTTP/1.1\r\nHost: {host}\r\n"
        "Authorization: Basic partner:partner-secret\r\n"
        "Content-Type: application/json\r\nConnection: close\r\n"
    )
    head += (
        "Transfer-Encoding: chunked\r\n"
        if chunked
        else f"Content-Length: {len(raw)}\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall((head + "\r\n").encode())
        try:
            for start in range(0, len(raw), 65536):
                piece = raw[start : start + 65536]
                if chunked:
                    piece = b"%x\r\n%s\r\n" % (len(piece), piece)
                sock.sendall(piece)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the sandbox answered and closed before the end: as it should
        answer = b""
        while chunk := _recv(sock):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    body = rest.partition(b"\r\n\r\n")[2]
    return int(status_line.split()[1]), json.loads(body)


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except ConnectionResetError:
        return b""


# -- unicode and limits -------------------------------------------------------


def test_unicode_round_trips_and_lengths_count_characters(api):
    body = create_body(1, [(SHIRT, 1)], "u")
    body["consumer"].update(
        first_name="🎟" * 255,
        last_name="Łukasiewicz-山田 Zoë",
        city="Αθήνα",
        address="Straße 1, 東京",
    )
    body["external_reference"] = "é" * 32
    created = api.create(body)
    assert created.status == 201, created
    read = api.get(f"/orders/{created.json['uid']}").json
    for key in ("first_name", "last_name", "city", "address"):
        assert read["consumer"][key] == body["consumer"][key]
    assert read["external_reference"] == "é" * 32
    body["consumer"]["first_name"] = "🎟" * 256
    too_long = api.create(body)
    assert (too_long.status, too_long.json["type"]) == (400, "CONSTRAINT_VIOLATION")
    assert too_long.json["errors"][0]["path"] == "$.consumer.first_name"
