"""pytest plugin: a real sandbox for every test suite that installs the package.

Registered through the ``pytest11`` entry point, so ``pip install
shopping-sandbox`` is all a suite needs. The ``sandbox`` fixture starts the
sandbox once per test session (once per xdist worker) on a free loopback port,
and gives each test its own fresh ``Sandbox-Session``: tests never see each
other and need no reset::

    def test_checkout(sandbox):
        answer = sandbox.http.get(sandbox.url_for("/events"),
                                  auth=sandbox.credentials.partner)
        assert answer.status_code == 200

    @pytest.mark.sandbox_scenario("insufficient-consecutive-seats")
    def test_no_seats(sandbox): ...

``--sandbox-url`` (or ``SANDBOX_URL``) points the fixture at a sandbox that
already runs, e.g. a CI service container, instead of starting one. The
fixture names are ``sandbox``, ``sandbox_settings`` and ``sandbox_server``,
so they do not clash with the ``app``, ``client`` or ``live_server`` fixtures
of a suite or of other plugins.
"""

from __future__ import annotations

import base64
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import requests

    from sandbox.client import SandboxClient
    from sandbox.config import Settings

MARKER = "sandbox_scenario"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("shopping-sandbox")
    group.addoption(
        "--sandbox-url",
        default=os.environ.get("SANDBOX_URL"),
        help="use the sandbox running at this URL instead of starting one "
        "(SANDBOX_URL)",
    )
    group.addoption(
        "--sandbox-admin-token",
        default=os.environ.get("SANDBOX_ADMIN_TOKEN"),
        help="admin token of the control plane (SANDBOX_ADMIN_TOKEN)",
    )
    parser.addini(
        "sandbox_fixtures",
        type="paths",
        default=[],
        help="folders of fixture files extending the sandbox's defaults",
    )
    parser.addini(
        "sandbox_scenarios",
        type="paths",
        default=[],
        help="folders of extra named scenarios",
    )
    parser.addini(
        "sandbox_seed",
        default="",
        help="seed of the sandbox (default SANDBOX_SEED, else 1)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(*names): arm these named scenarios in the test's sandbox session",
    )


@dataclass(frozen=True)
class Credentials:
    """The credentials of the default fixtures' applications and users.

    The Basic pairs are ``(key, secret)`` tuples, ready for ``auth=`` of
    ``requests``; :meth:`basic`, :meth:`bearer` and :meth:`cognito` give
    headers for any other client.
    """

    partner: tuple[str, str] = ("partner", "partner-secret")
    partner_b: tuple[str, str] = ("partner-b", "partner-b-secret")
    merchant: tuple[str, str] = ("merchant", "merchant-secret")
    guest: tuple[str, str] = ("guest", "guest-secret")
    bearer_token: str = "bearer-frontend"
    cognito_tokens: tuple[str, ...] = ("cognito-user-1", "cognito-user-2")
    captcha_valid: str = "captcha-valid"
    captcha_other_domain: str = "captcha-other-domain"

    def basic(self, application: str = "partner") -> dict[str, str]:
        """The Basic ``Authorization`` header of an application, by key."""
        key, secret = getattr(self, application.replace("-", "_"))
        token = base64.b64encode(f"{key}:{secret}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def bearer(self) -> dict[str, str]:
        """The ``Authorization`` header of the front-end application."""
        return {"Authorization": f"Bearer {self.bearer_token}"}

    def cognito(self, user: int = 1) -> dict[str, str]:
        """The ``Cognito-Token`` header of logged-in user 1 or 2."""
        return {"Cognito-Token": self.cognito_tokens[user - 1]}


@dataclass
class Sandbox:
    """One test's view of the sandbox: its own session on a shared server."""

    url: str
    session: str
    http: requests.Session
    control: SandboxClient
    credentials: Credentials = field(default_factory=Credentials)
    app: Any = None

    @property
    def headers(self) -> dict[str, str]:
        """The ``Sandbox-Session`` header, for HTTP clients other than ``http``."""
        return {"Sandbox-Session": self.session}

    def url_for(self, path: str) -> str:
        """The absolute URL of a path of the sandbox."""
        return self.url + "/" + path.lstrip("/")


class _Server:
    """The sandbox's WSGI app on werkzeug's threaded server, in a thread."""

    def __init__(self, app: Any) -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            # The app logs one line per request itself; werkzeug's would repeat it.
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        self.app = app
        self.server = make_server(
            "127.0.0.1", 0, app, threaded=True, request_handler=Quiet
        )
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        # A short poll interval: shutdown() waits for it at the end of the run.
        self.thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="shopping-sandbox",
            daemon=True,
        )

    def start(self) -> _Server:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="session")
def sandbox_settings(pytestconfig: pytest.Config) -> Settings:
    """Settings of the sandbox the plugin starts; override it to change them.

    ``SANDBOX_*`` variables apply, then the ``sandbox_fixtures``,
    ``sandbox_scenarios`` and ``sandbox_seed`` ini options.
    """
    from sandbox.config import Settings

    settings = Settings.from_env()
    fixtures: list[Path] = pytestconfig.getini("sandbox_fixtures")
    scenarios: list[Path] = pytestconfig.getini("sandbox_scenarios")
    seed = pytestconfig.getini("sandbox_seed")
    return replace(
        settings,
        fixtures=[*settings.fixtures, *fixtures],
        scenarios=[*settings.scenarios, *scenarios],
        seed=int(seed) if seed else settings.seed,
    )


@pytest.fixture(scope="session")
def sandbox_server(
    pytestconfig: pytest.Config, sandbox_settings: Settings
) -> Iterator[tuple[str, Any]]:
    """``(url, app)`` of the sandbox this test session (or xdist worker) uses."""
    external = pytestconfig.getoption("sandbox_url")
    if external:
        yield external.rstrip("/"), None
        return
    from sandbox.web.app import create_app

    server = _Server(create_app(sandbox_settings)).start()
    try:
        yield server.url, server.app
    finally:
        server.stop()


@pytest.fixture
def sandbox(
    request: pytest.FixtureRequest, sandbox_server: tuple[str, Any]
) -> Iterator[Sandbox]:
    """The sandbox, with a fresh ``Sandbox-Session`` of this test's own."""
    import requests

    from sandbox.client import SandboxClient

    url, app = sandbox_server
    name = f"pytest-{uuid.uuid4().hex}"
    http = requests.Session()
    http.headers["Sandbox-Session"] = name
    admin_token = request.config.getoption("sandbox_admin_token")
    if app is not None:
        admin_token = app.extensions["sandbox"].settings.admin_token
    control = SandboxClient(url, name, admin_token)
    try:
        for marker in request.node.iter_markers(MARKER):
            for scenario in marker.args:
                control.arm_scenario(scenario)
        yield Sandbox(url, name, http, control, Credentials(), app)
    finally:
        http.close()
        control.http.close()
