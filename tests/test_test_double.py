"""The sandbox as a test double: the control client and the pytest plugin.

These tests use the plugin's own ``sandbox`` fixture (the package registers
it through its ``pytest11`` entry point), next to the suite's ``app`` and
``api`` fixtures, which it must not disturb.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sandbox.client import SandboxClient, SandboxError
from sandbox.config import Settings
from sandbox.pytest_plugin import Sandbox, _Server
from sandbox.web.app import create_app
from tests.helpers import SEED_PENDING, WEEKEND, order_body

ROOT = Path(__file__).resolve().parent.parent


def place(sandbox: Sandbox, *selection: tuple[str, int], **extra: object) -> dict:
    answer = sandbox.http.post(
        sandbox.url_for("/orders"),
        json=order_body(*selection, **extra),
        auth=sandbox.credentials.partner,
        timeout=5,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def read(sandbox: Sandbox, uid: str) -> dict:
    answer = sandbox.http.get(
        sandbox.url_for(f"/orders/{uid}"), auth=sandbox.credentials.partner, timeout=5
    )
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


# -- the fixture ------------------------------------------------------------------


def test_the_fixture_is_a_real_server_with_a_session_of_its_own(sandbox, api):
    assert sandbox.url.startswith("http://127.0.0.1:")
    assert sandbox.session.startswith("pytest-")
    assert sandbox.http.headers["Sandbox-Session"] == sandbox.session
    assert sandbox.headers == {"Sandbox-Session": sandbox.session}
    assert sandbox.control.session == sandbox.session
    assert sandbox.control.requests() == []
    # The suite's own fixtures live on beside it.
    assert api.get("/status").status == 200


@pytest.mark.parametrize(
    "who, status",
    [("partner", 200), ("partner-b", 403), ("merchant", 200), ("guest", 403)],
)
def test_the_basic_credentials_are_ready(sandbox, who, status):
    answer = sandbox.http.get(
        sandbox.url_for(f"/orders/{SEED_PENDING}"),
        headers=sandbox.credentials.basic(who),
        timeout=5,
    )
    as_tuple = sandbox.http.get(
        sandbox.url_for(f"/orders/{SEED_PENDING}"),
        auth=getattr(sandbox.credentials, who.replace("-", "_")),
        timeout=5,
    )
    wrong = sandbox.http.get(
        sandbox.url_for(f"/orders/{SEED_PENDING}"), auth=(who, "wrong"), timeout=5
    )

    assert answer.status_code == as_tuple.status_code == status
    assert wrong.status_code == 401


def test_the_bearer_and_cognito_credentials_are_ready(sandbox):
    headers = {**sandbox.credentials.bearer(), **sandbox.credentials.cognito(2)}
    answer = sandbox.http.post(
        sandbox.url_for("/orders"),
        headers=headers,
        json=order_body((WEEKEND, 1)),
        timeout=5,
    )
    assert answer.status_code == 201, answer.text
    secrets = sandbox.control.order_secrets(answer.json()["uid"])
    assert secrets["cognito_user"] is not None


@pytest.mark.sandbox_scenario("10mer", "payment-always-fails")
def test_the_marker_arms_named_scenarios(sandbox):
    armed = sandbox.control.rules()
    assert {r["source"] for r in armed} == {
        "scenario:10mer",
        "scenario:payment-always-fails",
    }


def test_without_the_marker_nothing_is_armed(sandbox):
    assert sandbox.control.rules() == []


# -- the control client ---------------------------------------------------------


def test_reset_forgets_orders_and_takes_a_seed(sandbox):
    order = place(sandbox, (WEEKEND, 1))

    assert sandbox.control.reset(seed=5)["seed"] == 5

    gone = sandbox.http.get(
        sandbox.url_for(f"/orders/{order['uid']}"),
        auth=sandbox.credentials.partner,
        timeout=5,
    )
    assert gone.status_code == 404


def test_a_rule_fires_once_and_disarming_clears_the_rest(sandbox):
    rule = sandbox.control.arm_rule(
        "orders.create", error="10MER", match={"external_reference": "X-1"}
    )
    assert (rule["error"], rule["times"], rule["left"]) == ("10MER", 1, 1)
    sandbox.control.arm_rule("payment", outcome="failed", times=0)

    refused = sandbox.http.post(
        sandbox.url_for("/orders"),
        json=order_body((WEEKEND, 1), external_reference="X-1"),
        auth=sandbox.credentials.partner,
        timeout=5,
    )

    assert refused.json()["type"] == "10MER"
    assert [r["action"] for r in sandbox.control.rules()] == ["payment"]
    assert sandbox.control.disarm_rules() == 1
    assert sandbox.control.rules() == []


def test_arm_rule_needs_one_outcome(sandbox):
    with pytest.raises(ValueError):
        sandbox.control.arm_rule("orders.create")
    with pytest.raises(ValueError):
        sandbox.control.arm_rule("payment", error="10MER", outcome="failed")


@pytest.mark.parametrize(
    "call, status, kind",
    [
        (lambda c: c.arm_scenario("no-such-scenario"), 404, "NOT_FOUND"),
        (lambda c: c.pay("0" * 32, "paid"), 404, "NOT_FOUND"),
        (lambda c: c.advance_clock("soon"), 400, "BAD_REQUEST"),
        (lambda c: c.import_state({"orders": "none"}), 400, "BAD_REQUEST"),
    ],
)
def test_errors_carry_the_sandbox_type_status_and_message(sandbox, call, status, kind):
    with pytest.raises(SandboxError) as raised:
        call(sandbox.control)

    error = raised.value
    assert (error.status, error.type) == (status, kind)
    assert error.message and error.body["type"] == kind
    assert str(error).startswith(f"{status} {kind}: ")


def test_pay_settles_the_payment_and_the_outbox_has_the_confirmation(sandbox):
    failed = place(sandbox, (WEEKEND, 1))
    paid = place(sandbox, (WEEKEND, 2), n=2)

    assert (
        sandbox.control.pay(failed["uid"], "failed")["payment_attempts"][-1]["status"]
        == "failed"
    )
    secrets = sandbox.control.pay(paid["uid"])

    assert secrets["status"] == "completed" and len(secrets["tickets"]) == 2
    mails = [m for m in sandbox.control.emails() if m["order"] == paid["uid"]]
    assert mails and secrets["order_token"] in mails[0]["body"]


def test_the_clock_expires_unpaid_orders(sandbox):
    order = place(sandbox, (WEEKEND, 1))
    assert sandbox.control.freeze_clock()["frozen"] is True

    sandbox.control.advance_clock(31 * 60)

    assert read(sandbox, order["uid"])["status"] == "canceled"
    moment = datetime(2031, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert sandbox.control.set_clock(moment)["now"] == "2031-01-02T03:04:05Z"
    assert sandbox.control.freeze_clock(False)["frozen"] is False


def test_the_journal_filters_and_clears(sandbox):
    place(sandbox, (WEEKEND, 1))
    sandbox.http.get(
        sandbox.url_for("/events"), auth=sandbox.credentials.partner, timeout=5
    )

    assert [e["method"] for e in sandbox.control.requests(method="post")] == ["POST"]
    assert [e["path"] for e in sandbox.control.requests(path="/events")] == ["/events"]
    sandbox.control.clear_requests()
    assert sandbox.control.requests() == []


def test_state_exports_and_imports_into_another_session(sandbox):
    order = place(sandbox, (WEEKEND, 1))
    state = sandbox.control.export_state()
    other = SandboxClient(sandbox.url, sandbox.session + "-copy")

    other.import_state(state)

    assert other.order_secrets(order["uid"])["status"] == "pending"
    sandbox.control.reset()
    with pytest.raises(SandboxError):
        sandbox.control.order_secrets(order["uid"])
    other.http.close()


def test_overrides_change_this_session_only(sandbox):
    sandbox.control.overrides(stock={WEEKEND: 0})

    refused = sandbox.http.post(
        sandbox.url_for("/orders"),
        json=order_body((WEEKEND, 1)),
        auth=sandbox.credentials.partner,
        timeout=5,
    )

    assert refused.status_code >= 400
    other = SandboxClient(sandbox.url, sandbox.session + "-other")
    assert other.index()["session"] == sandbox.session + "-other"
    other.http.close()


def test_the_admin_token_is_sent_when_the_control_plane_is_locked():
    server = _Server(create_app(Settings(seed=1, admin_token="s3cret"))).start()
    try:
        with pytest.raises(SandboxError) as locked:
            SandboxClient(server.url, "locked").index()
        assert (locked.value.status, locked.value.type) == (401, "UNAUTHORIZED")
        assert (
            SandboxClient(server.url, "locked", "s3cret").index()["session"] == "locked"
        )
    finally:
        server.stop()


def test_an_unreachable_sandbox_is_a_sandbox_error():
    with pytest.raises(SandboxError) as raised:
        SandboxClient("http://127.0.0.1:1", timeout=2).reset()
    assert raised.value.type == "UNREACHABLE"


# -- the plugin in a suite of its own ----------------------------------------------

THROWAWAY = """
    import pytest


    def test_order_and_pay(sandbox):
        answer = sandbox.http.post(
            sandbox.url_for("/orders"), auth=sandbox.credentials.partner,
            json={"products": [{"product": "12365478654238976585643567854323",
                                "quantity": 1}],
                  "consumer": {"email": "a@example.com", "first_name": "A",
                               "last_name": "B", "country": "NL"},
                  "payment_method": "ghr57d5h3gd162fb35c5a3db57ghrydg"})
        assert answer.status_code == 201, answer.text
        assert sandbox.control.pay(answer.json()["uid"])["status"] == "completed"


    @pytest.mark.sandbox_scenario("insufficient-consecutive-seats")
    def test_scenario(sandbox):
        assert len(sandbox.control.rules()) == 1


    def test_sessions_apart(sandbox):
        assert sandbox.control.requests() == []
"""


def run_throwaway(python: str, folder: Path, *args: str) -> subprocess.CompletedProcess:
    """pytest on the throwaway file alone, in a folder with no conftest."""
    (folder / "test_throwaway.py").write_text(textwrap.dedent(THROWAWAY))
    assert not (folder / "conftest.py").exists()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SANDBOX_", "PYTEST_"))
    }
    return subprocess.run(
        [python, "-m", "pytest", "-q", "-W", "error", "-p", "no:cacheprovider", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_the_fixture_can_use_a_sandbox_that_already_runs(sandbox, tmp_path):
    # The heavy plugins of this venv only slow the inner run down.
    result = run_throwaway(
        sys.executable,
        tmp_path,
        "--sandbox-url",
        sandbox.url,
        "-p",
        "no:schemathesis",
        "-p",
        "no:hypothesispytest",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    # Its tests ran here, each in its own session: this one saw none of them.
    assert sandbox.control.requests() == []


PACKAGE = (
    "setup.cfg",
    "pyproject.toml",
    "README.md",
    "sandbox",
    "fixtures",
    "scenarios",
)


@pytest.mark.skipif(
    os.environ.get("SANDBOX_SKIP_FRESH_VENV") == "1", reason="SANDBOX_SKIP_FRESH_VENV=1"
)
def test_pip_install_into_a_fresh_venv_is_all_a_suite_needs(tmp_path):
    """The acceptance of issue 7: install the package outside the repo, then a
    throwaway test file with no conftest passes on the ``sandbox`` fixture."""
    source = tmp_path / "clone"
    source.mkdir()
    for name in PACKAGE:  # what a clean clone holds, without .venv or caches
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, source / name)
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)],
        check=True,
        timeout=60,
    )
    python = str(venv / "bin" / "python")
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(source),
            "pytest",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr
    suite = tmp_path / "suite"
    suite.mkdir()

    result = run_throwaway(python, suite)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
