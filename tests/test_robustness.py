"""Arbitrary JSON and arbitrary bytes at the calls that take a body.

Whatever arrives, the answer is a success or the JSON error envelope (the
Api wrapper checks each against the document), never a 5xx, and a refused
request stores nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import MERCHANT, SEED_COMPLETED

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)
# Objects that look like the real payloads, so that validation goes deep.
KEYS = st.sampled_from(
    [
        "products",
        "product",
        "quantity",
        "consumer",
        "email",
        "first_name",
        "last_name",
        "payment_method",
        "basket",
        "tickets",
        "external_reference",
        "shipping_consumer",
        "action",
        "error",
        "times",
        "match",
        "vouchers",
    ]
)
PAYLOAD_LIKE = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10**6) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(KEYS | st.text(max_size=8), inner, max_size=6)
    ),
    max_leaves=25,
)
BODIES = st.one_of(
    JSON_VALUES.map(lambda value: ("json", value)),
    PAYLOAD_LIKE.map(lambda value: ("json", value)),
    st.binary(max_size=200).map(lambda raw: ("bytes", raw)),
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/hal+json",
        None,
    ]
)
TARGETS = [
    ("POST", "/orders", None),
    ("POST", "/baskets", None),
    ("PUT", f"/orders/{SEED_COMPLETED}", MERCHANT),
    ("POST", "/_sandbox/rules", None),
]
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _stored(api: Any) -> tuple[Any, ...]:
    """What a refusal must leave alone: orders, baskets, rules, the order."""
    state = api.get("/_sandbox/state", auth=None).json
    order = api.get(f"/orders/{SEED_COMPLETED}", auth=MERCHANT).json
    return (
        len(state["orders"]),
        len(state["baskets"]),
        len(state["rules"]),
        {k: v for k, v in order.items() if k != "_embedded"},
    )


@pytest.mark.parametrize(
    "method, path, auth", TARGETS, ids=[f"{m} {p.split('/')[1]}" for m, p, _ in TARGETS]
)
@FUZZ
@given(body=BODIES, content_type=CONTENT_TYPES)
def test_any_body_is_answered_and_a_refusal_stores_nothing(
    api: Any,
    method: str,
    path: str,
    auth: Any,
    body: tuple[str, Any],
    content_type: str | None,
) -> None:
    kind, value = body
    data = value if kind == "bytes" else _dumps(value)
    before = _stored(api)
    answer = api.request(
        method, path, data=data, content_type=content_type, auth=auth or "default"
    )
    assert answer.status < 500, answer
    if answer.status >= 400:
        assert answer.headers["Content-Type"] == "application/json"
        assert isinstance(answer.json, dict) and answer.json["type"], answer
        assert _stored(api) == before


def _dumps(value: Any) -> bytes:
    import json

    return json.dumps(value).encode()
