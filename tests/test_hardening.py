"""What an adversarial QA pass found: each case stays a test."""

from __future__ import annotations

import socket
import threading
import time
import uuid

import pytest
import requests

from tests.conftest import Api
from tests.helpers import DRINKS, IDEAL, PARTNER, WEEKEND, consumer, order_body


@pytest.mark.parametrize(
    "move",
    [
        {"now": "9999-12-31T23:59:59Z"},
        {"now": "1970-01-01T00:00:00Z"},
        {"advance": "P99999999D"},
        {"advance": "P400000D"},
        {"freeze": True, "now": "3500-01-01T00:00:00Z"},
    ],
)
def test_the_clock_cannot_be_moved_out_of_range(api, move):
    before = api.get("/_sandbox/clock", auth=None).json
    answer = api.post("/_sandbox/clock", move, auth=None)
    assert (answer.status, answer.json["type"]) == (400, "BAD_REQUEST"), answer
    after = api.get("/_sandbox/clock", auth=None).json
    assert after["frozen"] == before["frozen"]
    assert abs(after["offset_seconds"] - before["offset_seconds"]) <= 2
    assert api.post("/_sandbox/reset", auth=None).status == 200
    assert api.get("/orders").status == 200


def test_the_clock_goes_to_its_limits(api):
    refused = api.post("/_sandbox/clock", {"now": "2999-01-01T00:00:01Z"}, auth=None)
    assert refused.status == 400
    assert (
        api.post("/_sandbox/clock", {"now": "2999-01-01T00:00:00Z"}, auth=None).status
        == 200
    )
    assert api.create(order_body((WEEKEND, 1))).status in (201, 400)
    assert api.get("/orders").status == 200
    # A session at the limit still exports and imports.
    state = api.get("/_sandbox/state", auth=None).text
    put = api.put("/_sandbox/state", data=state, content_type="application/json")
    assert put.status == 200, put


@pytest.mark.parametrize("field", ["external_reference", "first_name"])
def test_a_lone_surrogate_is_refused_and_nothing_stored(api, field):
    body = order_body((DRINKS, 1))
    if field == "first_name":
        body["consumer"]["first_name"] = "\ud800"
    else:
        body[field] = "\udfff"
    before = api.get(f"/products/{DRINKS}").json["availability"]
    raw = '{"x": 1}'
    import json

    raw = json.dumps(body)  # keeps the escape as \\ud800
    answer = api.post("/orders", data=raw, content_type="application/json")
    assert (answer.status, answer.json["type"]) == (400, "BAD_REQUEST"), answer
    assert api.get(f"/products/{DRINKS}").json["availability"] == before
    assert api.get("/orders").status == 200
    assert api.get("/_sandbox/emails", auth=None).status == 200


@pytest.mark.parametrize("name", ["{x}", "{order_link:>99999999}", "{0}", "}{"])
def test_consumer_names_are_plain_text_in_emails(api, name):
    body = order_body((DRINKS, 1))
    body["consumer"] = consumer(first_name=name)
    assert api.create(body).status == 201
    mails = api.get("/_sandbox/emails", auth=None)
    assert mails.status == 200
    last = mails.json["emails"][-1]
    assert f"Dear {name}," in last["body"]
    assert len(mails.text) < 100_000


@pytest.mark.parametrize("products", [5, 1.5, True, "x", {"a": 1}])
def test_products_of_the_wrong_type_answer_400(api, products):
    answer = api.create({"products": products, "consumer": consumer()})
    assert (answer.status, answer.json["type"]) == (400, "CONSTRAINT_VIOLATION")
    anonymous = api.create({"products": products}, auth=None)
    assert anonymous.status in (400, 401)


@pytest.mark.parametrize(
    "query",
    [
        "created__gt=9999-12-31T23:59:59-01:00",
        "created__lt=0001-01-01T00:00:00%2B01:00",
    ],
)
def test_datetimes_outside_utc_answer_400(api, query):
    answer = api.get(f"/orders?{query}")
    assert (answer.status, answer.json["type"]) == (400, "BAD_REQUEST")


@pytest.mark.parametrize(
    "override",
    [
        {"order_ttl": "P99999999D"},
        {"order_ttl": "P366D"},
        {"rate_limits": {"partner": {"orders": 1, "window_seconds": 10**15}}},
        {"stock": {WEEKEND: 1}, "rate_limits": {"nobody": None}},
    ],
)
def test_overrides_out_of_range_are_refused_whole(api, override):
    answer = api.post("/_sandbox/overrides", override, auth=None)
    assert answer.status in (400, 404), answer
    assert api.get(f"/products/{WEEKEND}").json["availability"] > 1
    assert api.create(order_body((WEEKEND, 1))).status == 201


def test_an_external_purchase_in_another_currency_is_refused(api):
    body = order_body(
        (WEEKEND, 1),
        external_purchases=[
            {
                "product_reference": "x",
                "quantity": 3,
                "unit_price": {"amount": "0.10", "currency": "USD"},
            }
        ],
    )
    answer = api.create(body)
    assert (answer.status, answer.json["type"]) == (400, "CONSTRAINT_VIOLATION")


def test_negative_zero_is_rendered_as_zero(api):
    body = order_body(
        (WEEKEND, 1),
        external_purchases=[
            {"product_reference": "x", "quantity": 1, "unit_price": {"amount": -0.0}}
        ],
    )
    answer = api.create(body)
    assert answer.status == 201, answer
    assert "-0.00" not in answer.text


@pytest.mark.parametrize(
    "headers, prefix",
    [
        ({"X-Forwarded-Port": "abc"}, "http://localhost/"),
        ({"X-Forwarded-Port": "99999999"}, "http://localhost/"),
        ({"X-Forwarded-Proto": "javascript"}, "http://localhost/"),
        ({"X-Forwarded-Host": "evil.test/x"}, "http://localhost/"),
        (
            {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "shop.example.net"},
            "https://shop.example.net/",
        ),
    ],
)
def test_malformed_forwarded_headers_are_ignored(api, headers, prefix):
    answer = api.get("/orders", headers=headers)
    assert answer.json["_links"]["self"]["href"].startswith(prefix)


def test_cors_with_every_origin_allowed_sends_no_credentials(api):
    answer = api.get("/orders", headers={"Origin": "https://evil.test"})
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in answer.headers


def test_cors_with_listed_origins(api_for):
    listed = api_for(cors_origins=["https://shop.partner-example.test"])
    ok = listed.get("/orders", headers={"Origin": "https://shop.partner-example.test"})
    assert (
        ok.headers["Access-Control-Allow-Origin"] == "https://shop.partner-example.test"
    )
    assert ok.headers["Access-Control-Allow-Credentials"] == "true"
    other = listed.get("/orders", headers={"Origin": "https://evil.test"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_refused_requests_never_evict_a_session(api_for):
    small = api_for(max_sessions=3)
    assert small.create(order_body((WEEKEND, 1))).status == 201
    uid = small.get("/orders?status=pending").json["_embedded"]["shop:order"][-1]["uid"]
    for n in range(10):
        junk = Api(small.app, f"junk-{n}")
        assert junk.get("/no-such-path").status == 404
        assert junk.get("/orders", auth=None).status == 401
        assert junk.get("/orders", auth={"Authorization": "Basic bad"}).status == 401
    assert small.get(f"/orders/{uid}").status == 200


def test_one_sandbox_session_header_only(api):
    answer = api.get("/orders", headers={"Sandbox-Session": "a, b"})
    assert (answer.status, answer.json["type"]) == (400, "BAD_REQUEST")


def test_a_utf8_session_name_is_read_as_sent(app):
    name = "café-" + uuid.uuid4().hex[:6]
    raw = name.encode("utf-8").decode("latin-1")
    first = Api(app, raw)
    assert first.create(order_body((WEEKEND, 1))).status == 201
    assert name in app.extensions["sandbox"].sessions.names()


def test_sandbox_force_where_nothing_can_be_forced(api):
    for path in ("/", "/status", f"/payment-methods/{IDEAL}"):
        answer = api.get(path, headers={"Sandbox-Force": "INTERNAL_SERVER_ERROR"})
        if path == f"/payment-methods/{IDEAL}":
            assert answer.status == 500
        else:
            assert (answer.status, answer.json["type"]) == (400, "BAD_REQUEST")


def test_a_rule_with_two_outcomes_is_refused(api):
    answer = api.post(
        "/_sandbox/rules",
        {"action": "payment", "outcome": "failed", "error": "10MER"},
        auth=None,
    )
    assert answer.status == 400


def test_basic_without_base64_padding(api):
    import base64

    token = base64.b64encode(b"partner:partner-secret").decode().rstrip("=")
    assert api.get("/orders", auth={"Authorization": f"Basic {token}"}).status == 200


def test_a_slow_body_holds_up_no_other_request(live_server):
    session = f"slow-{uuid.uuid4().hex[:8]}"
    host, port = live_server.rsplit(":", 1)
    slow = socket.create_connection(("127.0.0.1", int(port)))
    slow.sendall(
        b"POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Sandbox-Session: " + session.encode() + b"\r\nContent-Length: 100\r\n\r\n{"
    )
    try:
        time.sleep(0.3)
        started = time.monotonic()
        answer = requests.get(
            f"{live_server}/orders",
            headers={**PARTNER, "Sandbox-Session": session},
            timeout=10,
        )
        assert answer.status_code == 200
        assert time.monotonic() - started < 5
    finally:
        slow.close()


def test_concurrent_requests_on_one_session_stay_consistent(live_server):
    session = f"conc-{uuid.uuid4().hex[:8]}"
    headers = {**PARTNER, "Sandbox-Session": session}
    statuses: list[int] = []

    def buy() -> None:
        answer = requests.post(
            f"{live_server}/orders",
            json=order_body((WEEKEND, 1)),
            headers=headers,
            timeout=30,
        )
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=buy) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 8


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-Host": "a.example,javascript:alert(1)"},
        {"X-Forwarded-Host": ".."},
        {"X-Forwarded-Host": "-"},
        {"X-Forwarded-Port": "0"},
        {"X-Forwarded-Prefix": "//evil.example"},
        {"X-Forwarded-Prefix": "/p,//evil"},
    ],
)
def test_every_forwarded_value_must_be_well_formed(api, headers):
    answer = api.get("/orders", headers=headers)
    assert answer.status == 200
    assert answer.json["_links"]["self"]["href"].startswith("http://localhost/orders")


def test_a_forwarded_prefix_is_kept(api):
    answer = api.get("/orders", headers={"X-Forwarded-Prefix": "/sandbox"})
    assert answer.json["_links"]["self"]["href"] == "http://localhost/sandbox/orders"


def test_refused_tokens_never_create_a_session(api_for):
    small = api_for(max_sessions=3)
    assert small.create(order_body((WEEKEND, 1))).status == 201
    uid = small.get("/orders?status=pending").json["_embedded"]["shop:order"][-1]["uid"]
    for n in range(6):
        junk = Api(small.app, f"tok-{n}")
        bad_cognito = junk.get("/orders", headers={"Cognito-Token": "bad"})
        assert bad_cognito.status == 401
        bad_token = junk.get(f"/orders/{uid}", headers={"Order-Token": "bad"})
        assert bad_token.status == 401
    assert small.get(f"/orders/{uid}").status == 200
    # A seeded order's token is valid in a session still to be made.
    fresh = Api(small.app, "seeded-token")
    seeded = fresh.get(
        "/orders/87a2195h3gd162fb35c5a3dbd7bapo1l",
        auth=None,
        headers={"Order-Token": "seed-order-token-completed"},
    )
    assert seeded.status == 200


def test_malformed_chunked_body_on_gunicorn(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    serve = Path(sys.executable).parent / "shopping-sandbox"
    process = subprocess.Popen(
        [str(serve), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        url = process.stdout.readline().strip()  # type: ignore[union-attr]
        port = int(url.rsplit(":", 1)[1])
        for chunked in (b"zz\r\n{}\r\n0\r\n\r\n", b"3\r\n{}}XX0\r\n\r\n"):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
                conn.sendall(
                    b"POST /_sandbox/reset HTTP/1.1\r\nHost: x\r\n"
                    b"Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n"
                    b"Connection: close\r\n\r\n" + chunked
                )
                answer = b""
                while chunk := conn.recv(65536):
                    answer += chunk
            head = answer.split(b"\r\n", 1)[0]
            assert b" 400 " in head, answer[:300]
            assert b'"type": "BAD_REQUEST"' in answer
    finally:
        import os
        import signal

        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        process.stdout.close()  # type: ignore[union-attr]
