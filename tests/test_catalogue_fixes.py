"""Events filters as the root advertises them, channels, pagination, storefront."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from sandbox import openapi
from sandbox.domain.catalogue import channel_uid
from sandbox.web import listing
from tests.helpers import (
    ENDED_EVENT,
    FESTIVAL,
    GROUP,
    JAZZ_EVENT,
    PARTNER_B,
    SEATED_EVENT,
    SEED_FAILED,
    WEEKEND,
)

COMEDY_EVENT = "b5f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def events(answer: Any) -> list[str]:
    assert answer.status == 200, answer
    return [e["uid"] for e in answer.json["_embedded"]["shop:event"]]


def now(api: Any) -> datetime:
    text = api.get("/_sandbox/clock", auth=None).json["now"]
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def template_names(href: str) -> list[str]:
    found = re.search(r"\{\?([^}]*)\}$", href)
    assert found, href
    return found.group(1).split(",")


# -- 1. /events takes every filter the root advertises ------------------------


def test_root_template_lists_exactly_what_events_accepts(api):
    link = api.get("/", auth=None).json["_links"]["shop:event"]
    assert link["templated"] is True
    names = template_names(link["href"])
    assert names == [*listing.EVENT_FILTERS, "page"]
    for upstream in (
        "merchant_name",
        "title",
        "subtitle",
        "sale_start",
        "sale_end",
        "event_start",
        "event_end",
        "location.name",
        "location.postal_code",
        "location.city",
        "location.country",
        "artist",
    ):
        assert upstream in names, upstream
    for moment in ("sale_start", "sale_end", "event_start", "event_end"):
        for lookup in ("__lt", "__lte", "__gt", "__gte"):
            assert moment + lookup in names
    # The collection's own search link and the OpenAPI document agree.
    search = api.get("/events").json["_links"]["search"]["href"]
    assert template_names(search) == names
    declared = openapi.operation("GET", "/events")
    assert declared is not None and list(declared.query) == names


def test_every_advertised_filter_is_accepted(api):
    link = api.get("/", auth=None).json["_links"]["shop:event"]["href"]
    for name in template_names(link):
        if name == "page":
            value = "1"
        elif name.startswith(("sale_", "event_")):
            value = "2030-01-01T00:00:00Z"
        else:
            value = "x"
        answer = api.get(f"/events?{name}={value}")
        assert answer.status == 200, (name, answer)


def test_the_ended_event_is_found_by_its_sale_end(api):
    assert ENDED_EVENT not in events(api.get("/events"))
    ended = api.get(f"/events?sale_end__lt={iso(now(api))}")
    assert events(ended) == [ENDED_EVENT]
    assert ended.json["item_count"] == 1


def test_explicit_on_sale_filters_equal_the_default(api):
    moment = iso(now(api))
    default = events(api.get("/events"))
    explicit = events(
        api.get(f"/events?sale_start__lte={moment}&sale_end__gte={moment}")
    )
    assert default == explicit == [JAZZ_EVENT, SEATED_EVENT, FESTIVAL]


def test_a_sale_start_filter_alone_drops_the_default(api):
    # Every event of the partner started selling before now, the ended one too.
    found = events(api.get(f"/events?sale_start__lt={iso(now(api))}"))
    assert found == [ENDED_EVENT, JAZZ_EVENT, SEATED_EVENT, FESTIVAL]
    assert events(api.get(f"/events?sale_start__gt={iso(now(api))}")) == []


def test_event_start_bounds_keep_the_on_sale_default(api):
    cut = now(api) + timedelta(days=70)
    before = events(api.get(f"/events?event_start__lt={iso(cut)}"))
    after = events(api.get(f"/events?event_start__gte={iso(cut)}"))
    assert before == [JAZZ_EVENT]  # the ended event starts sooner but is off sale
    assert after == [SEATED_EVENT, FESTIVAL]


def test_exact_datetime_and_any_offset(api):
    jazz = api.get(f"/events/{JAZZ_EVENT}").json
    exact = api.get(f"/events?event_start={jazz['event_start']}")
    assert events(exact) == [JAZZ_EVENT]
    start = datetime.fromisoformat(jazz["event_start"].replace("Z", "+00:00"))
    shifted = (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S") + "+02:00"
    assert events(api.get(f"/events?event_start={quote(shifted)}")) == [JAZZ_EVENT]
    end = jazz["event_end"]
    assert events(api.get(f"/events?event_end__gt={end}")) == [SEATED_EVENT, FESTIVAL]
    assert JAZZ_EVENT in events(api.get(f"/events?event_end__lte={end}"))


@pytest.mark.parametrize(
    "query, name",
    [
        ("sale_start=yesterday", "sale_start"),
        ("sale_end__lt=2024-13-01T00:00:00Z", "sale_end__lt"),
        ("event_start__gte=", "event_start__gte"),
        ("event_end__lte=soon", "event_end__lte"),
        (
            "event_end=2030-01-01T00:00:00Z&event_end=2030-01-02T00:00:00Z",
            "event_end",
        ),
        ("sale_end__ne=2030-01-01T00:00:00Z", "sale_end__ne"),
        ("artists=x", "artists"),
    ],
)
def test_bad_datetime_filters_are_400_naming_the_parameter(api, query, name):
    answer = api.get(f"/events?{query}")
    assert (answer.status, answer.json["type"]) == (400, "BAD_REQUEST"), answer
    assert repr(name) in answer.json["message"]
    assert answer.json["errors"][0]["path"] == f"query.{name}"


def test_artist_matches_nothing_in_the_default_fixtures(api):
    assert events(api.get("/events?artist=a")) == []
    jazz = api.get(f"/events/{JAZZ_EVENT}").json
    assert set(jazz["artists"].values()) == {""}


def test_artist_matches_any_language_of_an_events_artists(tmp_path, api_for):
    source = json.loads((FIXTURES / "events.json").read_text())
    jazz = next(e for e in source["events"] if e["uid"] == JAZZ_EVENT)
    jazz["artists"] = {"en": "The Harbour Quartet", "nl": "Het Havenkwartet"}
    (tmp_path / "events.json").write_text(json.dumps({"events": [jazz]}))
    api = api_for(fixtures=[tmp_path])
    assert events(api.get("/events?artist=quartet")) == [JAZZ_EVENT]
    assert events(api.get("/events?artist=HAVENKWARTET")) == [JAZZ_EVENT]
    assert events(api.get("/events?artist=trio")) == []
    body = api.get(f"/events/{JAZZ_EVENT}").json
    assert body["artists"]["nl"] == "Het Havenkwartet"


def test_location_filters_in_both_spellings(api):
    postal = api.get(f"/events/{JAZZ_EVENT}").json["location"]["postal_code"]
    dotted = events(api.get(f"/events?location.postal_code={quote(postal)}"))
    legacy = events(api.get(f"/events?location_postal_code={quote(postal)}"))
    assert JAZZ_EVENT in dotted and dotted == legacy


# -- 2. /channels/<uid> -------------------------------------------------------


def repayment_channel(api: Any) -> str:
    answer = api.post(f"/orders/{SEED_FAILED}/repayment")
    assert answer.status == 200, answer
    query = parse_qs(urlsplit(answer.json["checkout_url"]).query)
    return query["channel"][0]


def test_the_repayment_channel_resolves_without_credentials(api):
    href = repayment_channel(api)
    uid = hashlib.md5(b"partner", usedforsecurity=False).hexdigest()
    assert (
        href
        == f"http://localhost/channels/{uid}"
        == (f"http://localhost/channels/{channel_uid('partner')}")
    )
    answer = api.get(urlsplit(href).path, auth=None)
    assert answer.status == 200, answer
    assert answer.headers["Content-Type"] == "application/hal+json"
    body = answer.json
    assert body["uid"] == uid
    assert body["type"] == "online"
    assert body["title"]["en"] == "Online sales of Partner shop"
    assert set(body["title"]) == {"en", "nl", "de", "fr", "es", "pt", "tr", "ru"}
    links = body["_links"]
    assert links["self"]["href"] == href
    assert links["profile"]["href"].endswith("/channel.html")
    assert links["curies"][0]["name"] == "shop"
    embedded = [e["uid"] for e in body["_embedded"]["shop:event"]]
    assert embedded == [JAZZ_EVENT, SEATED_EVENT, FESTIVAL]  # not the ended one
    assert body["item_count"] == 3


def test_each_application_has_its_channel(api):
    body = api.get(f"/channels/{channel_uid('partner-b')}", auth=None).json
    assert body["title"]["en"] == "Online sales of Second partner shop"
    assert [e["uid"] for e in body["_embedded"]["shop:event"]] == [
        COMEDY_EVENT,
        FESTIVAL,
    ]
    guest = api.get(f"/channels/{channel_uid('guest')}", auth=PARTNER_B)
    assert guest.status == 200, guest


def test_channel_events_follow_the_session_clock(api):
    assert api.post("/_sandbox/clock", {"advance": "P61D"}, auth=None).status == 200
    body = api.get(f"/channels/{channel_uid('partner')}", auth=None).json
    assert [e["uid"] for e in body["_embedded"]["shop:event"]] == [
        SEATED_EVENT,
        FESTIVAL,
    ]
    assert body["item_count"] == 2


@pytest.mark.parametrize("uid", ["0" * 32, "partner", channel_uid("nobody")])
def test_unknown_channel_is_a_json_404(api, uid):
    answer = api.get(f"/channels/{uid}", auth=None)
    assert (answer.status, answer.json["type"]) == (404, "NOT_FOUND"), answer
    assert answer.headers["Content-Type"] == "application/json"


def test_channel_obeys_sandbox_force(api):
    uid = channel_uid("partner")
    forced = api.get(f"/channels/{uid}", auth=None, headers={"Sandbox-Force": "10MER"})
    assert forced.status == 400  # not an error a channel read can give
    forced = api.get(
        f"/channels/{uid}", auth=None, headers={"Sandbox-Force": "UNAUTHORIZED"}
    )
    assert (forced.status, forced.json["type"]) == (401, "UNAUTHORIZED")


def test_channel_is_in_the_openapi_document():
    doc = openapi.document()
    get = doc["paths"]["/channels/{uid}"]["get"]
    assert get["security"] == [{}]
    schema = get["responses"]["200"]["content"]["application/hal+json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/response_channel"}


# -- 3. pagination links --------------------------------------------------------


def test_prev_next_last_name_their_page_and_keep_filters(api_for):
    api = api_for(page_size=1)
    query = "location.country=NL"
    base = f"http://localhost/events?{query}"
    second = api.get(f"/events?{query}&page=2")
    assert events(second) == [SEATED_EVENT]
    links = second.json["_links"]
    assert links["first"]["href"] == base
    assert links["prev"]["href"] == base + "&page=1"
    assert links["next"]["href"] == base + "&page=3"
    assert links["last"]["href"] == base + "&page=3"
    back = api.get(links["prev"]["href"])
    first = api.get(links["first"]["href"])
    assert events(back) == events(first) == [JAZZ_EVENT]
    assert back.json["page"] == first.json["page"] == 1
    assert "prev" not in first.json["_links"]
    third = api.get(links["last"]["href"]).json["_links"]
    assert third["prev"]["href"] == base + "&page=2"
    assert "next" not in third


def test_a_single_page_names_page_1_as_last(api):
    links = api.get("/events?title=jazz").json["_links"]
    assert links["first"]["href"] == "http://localhost/events?title=jazz"
    assert links["last"]["href"] == "http://localhost/events?title=jazz&page=1"
    assert "prev" not in links and "next" not in links


# -- 4. storefront --------------------------------------------------------------


def test_storefront_without_event_is_400_naming_it(api):
    answer = api.get("/storefront")
    assert (answer.status, answer.json["type"]) == (400, "BAD_REQUEST"), answer
    assert "'event'" in answer.json["message"]
    assert answer.json["errors"][0]["path"] == "query.event"
    assert api.get("/storefront?country=NL").status == 400
    assert api.get("/storefront?event=" + "0" * 32).status == 404


def test_storefront_items_carry_unit_price_and_total(api):
    body = api.get(f"/storefront?event={FESTIVAL}").json
    items = {i["product"].rsplit("/", 1)[1]: i for i in body["categories"][0]["items"]}
    weekend = items[WEEKEND]
    assert weekend["unit_price"] == {"amount": "5.95", "currency": "EUR"}
    assert weekend["total"] == {"amount": "5.95", "currency": "EUR"}
    group = items[GROUP]  # 40.00 + 2.00, at least 2 per order
    assert group["unit_price"] == {"amount": "42.00", "currency": "EUR"}
    assert group["total"] == {"amount": "84.00", "currency": "EUR"}
    for item in items.values():
        assert isinstance(item["total"]["amount"], str)
        assert Decimal(item["total"]["amount"]) >= Decimal(item["unit_price"]["amount"])
