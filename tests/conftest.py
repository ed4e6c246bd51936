"""Fixtures: the app, a client bound to a fresh session per test, a real server."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests
from werkzeug.serving import WSGIRequestHandler, make_server

from sandbox.config import Settings
from sandbox.web.app import create_app
from tests import contract
from tests.browser import start_browser
from tests.helpers import PARTNER


class Answer:
    """A response with its JSON body parsed, amounts as Decimal."""

    def __init__(self, response: Any) -> None:
        self.raw = response
        self.status = response.status_code
        self.headers = response.headers
        self.text = response.get_data(as_text=True)
        self.json: Any = None
        if response.mimetype in ("application/json", "application/hal+json"):
            self.json = json.loads(self.text, parse_float=Decimal)

    def __repr__(self) -> str:
        return f"<Answer {self.status} {self.text[:300]}>"


class Api:
    """A test client bound to one sandbox session, Basic partner by default."""

    def __init__(self, app: Any, session: str) -> None:
        self.app = app
        self.client = app.test_client()
        self.session = session
        self.auth: dict[str, str] = dict(PARTNER)

    def request(
        self,
        method: str,
        path: str,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        auth: Any = "default",
        **kwargs: Any,
    ) -> Answer:
        sent = {"Sandbox-Session": self.session}
        if auth == "default":
            sent.update(self.auth)
        elif auth:
            sent.update(auth)
        sent.update(headers or {})
        if json_body is not None:
            kwargs["data"] = json.dumps(json_body, default=str)
            kwargs.setdefault("content_type", "application/json")
        answer = Answer(self.client.open(path, method=method, headers=sent, **kwargs))
        contract.check(
            self.app.url_map,
            method,
            path,
            answer.status,
            answer.raw.mimetype,
            answer.text,
            answer.headers,
        )
        return answer

    def get(self, path: str, **kw: Any) -> Answer:
        return self.request("GET", path, **kw)

    def post(self, path: str, json_body: Any = None, **kw: Any) -> Answer:
        return self.request("POST", path, json_body, **kw)

    def put(self, path: str, json_body: Any = None, **kw: Any) -> Answer:
        return self.request("PUT", path, json_body, **kw)

    def delete(self, path: str, **kw: Any) -> Answer:
        return self.request("DELETE", path, **kw)

    # Shortcuts for the steps most journeys take.
    def create(self, body: dict[str, Any], **kw: Any) -> Answer:
        return self.post("/orders", body, **kw)

    def pay(self, uid: str, outcome: str = "paid") -> Answer:
        return self.post(
            f"/_sandbox/orders/{uid}/payment", {"outcome": outcome}, auth=None
        )

    def secrets(self, uid: str) -> dict[str, Any]:
        answer = self.get(f"/_sandbox/orders/{uid}", auth=None)
        assert answer.status == 200, answer
        return answer.json  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def app() -> Any:
    return create_app(Settings(seed=1))


@pytest.fixture
def make_app() -> Any:
    """An app with other settings, for the tests that need them."""

    def build(**overrides: Any) -> Any:
        return create_app(Settings(**{"seed": 1, **overrides}))

    return build


@pytest.fixture
def api(app: Any) -> Api:
    """A client on a fresh session of its own: tests never see each other."""
    return Api(app, f"test-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def api_for(make_app: Any) -> Any:
    def build(**overrides: Any) -> Api:
        return Api(make_app(**overrides), f"test-{uuid.uuid4().hex[:12]}")

    return build


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request, and no Nagle delay on small answers."""

    disable_nagle_algorithm = True

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@pytest.fixture(scope="session")
def live_server(app: Any) -> Iterator[str]:
    """The same app on a real threaded HTTP server on a free loopback port."""
    server = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    LIVE[base] = app
    yield base
    LIVE.pop(base, None)
    server.shutdown()


# Real servers whose answers are checked against the document: base -> app.
LIVE: dict[str, Any] = {}


def check_live(response: requests.Response) -> requests.Response:
    """Check a ``requests`` answer from a live server against the document."""
    for base, app in LIVE.items():
        if response.url.startswith(base + "/") or response.url == base:
            contract.check(
                app.url_map,
                response.request.method or "GET",
                response.url,
                response.status_code,
                response.headers.get("Content-Type", "").split(";")[0],
                response.text,
                response.headers,
            )
    return response


@pytest.fixture(autouse=True)
def _live_answers_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ``requests`` call of a test to a live server is checked too."""
    send = requests.Session.send

    def checked_send(self: requests.Session, request: Any, **kwargs: Any) -> Any:
        response = send(self, request, **kwargs)
        if not kwargs.get("stream"):
            check_live(response)
        return response

    monkeypatch.setattr(requests.Session, "send", checked_send)


@pytest.fixture(scope="session")
def browser(tmp_path_factory: Any) -> Iterator[Any]:
    """A headless Chromium shared by the tests of the HTML pages."""
    yield from start_browser(tmp_path_factory)
