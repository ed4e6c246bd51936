"""``shopping-sandbox`` as a CI pipeline starts it: real processes on loopback.

Every process is started with ``--port 0`` (or ``PORT=0``), read with a
deadline and killed at the end of its test, whatever happens.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox import schemas
from sandbox.fixtures import data_dir
from tests.helpers import IDEAL, PARTNER, WEEKEND, order_body

SCRIPT = shutil.which("shopping-sandbox", path=str(Path(sys.executable).parent))
COMMAND = [SCRIPT] if SCRIPT else [sys.executable, "-m", "sandbox.cli"]
# Generous against a busy CI machine; `make bench` measures the real figure.
START_DEADLINE = 10.0
ANSWER_BOUND = 3.0
FESTIVAL = "6dd4462cba8b430cb91d73b8a1101593"


@dataclass
class Served:
    url: str
    process: subprocess.Popen[str]
    started: float
    stderr: list[str] = field(default_factory=list)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("headers", PARTNER)
        return requests.get(self.url + path, timeout=5, **kwargs)

    def post(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("headers", PARTNER)
        return requests.post(self.url + path, json=body, timeout=5, **kwargs)

    def log(self) -> str:
        return "".join(self.stderr)


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without SANDBOX_* or PORT, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SANDBOX_") and k != "PORT"
    }
    return {**env, **extra}


def run(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args],
        capture_output=True,
        text=True,
        timeout=START_DEADLINE,
        env=env or clean_env(),
    )


def _drain(stream: Any, sink: list[str]) -> None:
    for line in stream:
        sink.append(line)


@contextmanager
def served(*flags: str, env: dict[str, str] | None = None) -> Iterator[Served]:
    """``shopping-sandbox serve`` on a free loopback port, stopped at the end."""
    args = [*COMMAND, "serve", "--host", "127.0.0.1", *flags]
    if not any(f.startswith("--port") for f in flags) and "PORT" not in (env or {}):
        args += ["--port", "0"]
    started = time.monotonic()
    process = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or clean_env(),
    )
    stderr: list[str] = []
    first: list[str] = []
    drain = threading.Thread(target=_drain, args=(process.stderr, stderr), daemon=True)
    drain.start()
    reader = threading.Thread(
        target=lambda: first.append(process.stdout.readline()), daemon=True
    )
    reader.start()
    try:
        reader.join(START_DEADLINE)
        if not first or not first[0]:
            pytest.fail(f"no URL printed within {START_DEADLINE} s:\n{''.join(stderr)}")
        yield Served(first[0].strip(), process, started, stderr)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        drain.join(5)
        process.stdout.close()
        process.stderr.close()


def wait_for_status(server: Served) -> float:
    """Seconds from the process start to its first 200 on /status."""
    while time.monotonic() - server.started < START_DEADLINE:
        try:
            if requests.get(server.url + "/status", timeout=2).status_code == 200:
                return time.monotonic() - server.started
        except requests.ConnectionError:
            time.sleep(0.01)
    pytest.fail(f"/status did not answer:\n{server.log()}")


# -- help and listing ---------------------------------------------------------

SERVE_FLAGS = {
    "--host": "SANDBOX_HOST",
    "--port": "PORT",
    "--seed": "SANDBOX_SEED",
    "--fixtures": "SANDBOX_FIXTURES",
    "--scenarios": "SANDBOX_SCENARIOS",
    "--base-url": "SANDBOX_BASE_URL",
    "--page-size": "SANDBOX_PAGE_SIZE",
    "--order-ttl": "SANDBOX_ORDER_TTL",
    "--admin-token": "SANDBOX_ADMIN_TOKEN",
    "--log-level": "SANDBOX_LOG_LEVEL",
    "--threads": None,
    "--workers": None,
}


def test_help_documents_every_command_and_flag():
    top = run("--help")
    serve = run("serve", "--help")

    assert top.returncode == 0 and serve.returncode == 0
    assert "serve" in top.stdout and "scenarios" in top.stdout
    text = " ".join(serve.stdout.split())
    for flag, variable in SERVE_FLAGS.items():
        assert flag in text
        if variable:
            assert variable in text


def test_scenarios_lists_the_packaged_and_the_given_ones(tmp_path):
    (tmp_path / "mine.json").write_text(
        json.dumps(
            {
                "name": "my-scenario",
                "description": "Mine, from a folder.",
                "rules": [{"action": "orders.create", "error": "10MER"}],
            }
        )
    )

    listed = run("scenarios", "--scenarios", str(tmp_path))

    assert listed.returncode == 0, listed.stderr
    names = {line.split()[0]: line for line in listed.stdout.splitlines()}
    for required in (
        "insufficient-consecutive-seats",
        "captcha-rate-limit",
        "10mer",
        "payment-fails-then-repayment",
    ):
        assert required in names
    assert names["my-scenario"].endswith("Mine, from a folder.")


# -- serving --------------------------------------------------------------------


def test_port_zero_prints_the_url_first_and_answers_at_once():
    with served("--log-level", "WARNING") as server:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url)
        assert not server.url.endswith(":0")
        elapsed = wait_for_status(server)
        assert elapsed < ANSWER_BOUND, f"first /status after {elapsed:.2f} s"
        assert server.get("/events").status_code == 200
    assert "sandbox.requests" not in server.log()


def test_every_serve_flag_reaches_the_sandbox():
    base = "http://sandbox.example.test:9000"
    flags = (
        "--seed",
        "7",
        "--page-size",
        "2",
        "--base-url",
        base,
        "--order-ttl",
        "PT5M",
        "--admin-token",
        "s3cret",
        "--log-level",
        "DEBUG",
        "--threads",
        "4",
    )
    with served(*flags) as server:
        events = server.get("/events").json()
        assert len(events["_embedded"]["shop:event"]) == 2
        assert events["_links"]["next"]["href"].startswith(base + "/events?")

        assert server.get("/_sandbox/clock").status_code == 401
        admin = {"Sandbox-Admin-Token": "s3cret", "Sandbox-Session": "flags"}
        reset = server.post("/_sandbox/reset", {}, headers=admin)
        assert reset.json()["seed"] == 7

        created = server.post(
            "/orders",
            order_body((WEEKEND, 1)),
            headers={**PARTNER, "Sandbox-Session": "flags"},
        )
        assert created.status_code == 201, created.text
        secrets = server.get(
            f"/_sandbox/orders/{created.json()['uid']}", headers=admin
        ).json()
        lifetime = _time(secrets["expires_at"]) - _time(created.json()["created_date"])
        assert lifetime == timedelta(minutes=5)
    assert "DEBUG" in server.log()


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_environment_configures_serve_as_in_a_container():
    env = clean_env(PORT="0", SANDBOX_PAGE_SIZE="1", SANDBOX_LOG_LEVEL="INFO")
    with served(env=env) as server:
        events = server.get("/events").json()
        assert len(events["_embedded"]["shop:event"]) == 1
    assert "sandbox.requests" in server.log()


def test_sandboxes_side_by_side_do_not_share_a_control_socket(tmp_path):
    env = clean_env(HOME=str(tmp_path))
    with served(env=env) as first, served(env=env) as second:
        assert first.url != second.url
        assert wait_for_status(first) and wait_for_status(second)
    for server in (first, second):
        assert "Control socket" not in server.log()
    assert not (tmp_path / ".gunicorn").exists()


def test_several_workers_are_refused():
    refused = run("serve", "--port", "0", "--workers", "2")

    assert refused.returncode != 0
    assert "one worker" in refused.stderr
    assert refused.stdout == ""


# -- custom fixtures --------------------------------------------------------------

NEW_EVENT = "ab12cd34ef56ab12cd34ef56ab12cd34"
NEW_PRODUCT = "0123456789abcdef0123456789abcdef"


def test_a_fixtures_folder_adds_entries_and_replaces_them_by_uid(tmp_path):
    defaults = json.loads((data_dir("fixtures") / "applications.json").read_text())
    partner = next(a for a in defaults["applications"] if a["key"] == "partner")
    partner["events"].append(NEW_EVENT)
    _write(tmp_path / "applications.json", {"applications": [partner]})
    _write(
        tmp_path / "events.json",
        {
            "events": [
                {
                    "uid": NEW_EVENT,
                    "merchant": "mega",
                    "title": {"en": "Custom night"},
                    "sale_start": "-P1D",
                    "sale_end": "+P30D",
                    "event_start": "+P40D",
                    "event_end": "+P41D",
                    "location": {"name": "Custom hall", "country": "NL"},
                }
            ]
        },
    )
    products = json.loads((data_dir("fixtures") / "products.json").read_text())
    weekend = next(p for p in products["products"] if p["uid"] == WEEKEND)
    _write(
        tmp_path / "products.json",
        {
            "products": [
                {
                    "uid": NEW_PRODUCT,
                    "event": NEW_EVENT,
                    "name": {"en": "Entry"},
                    "price": "12.50",
                },
                {**weekend, "price": "7.00"},
            ]
        },
    )

    with served("--fixtures", str(tmp_path)) as server:
        added = server.get(f"/products/{NEW_PRODUCT}")
        assert added.status_code == 200, added.text
        assert added.json()["price"]["amount"] == "12.50"
        assert server.get(f"/products/{WEEKEND}").json()["price"]["amount"] == "7.00"
        events = {
            e["uid"] for e in server.get("/events").json()["_embedded"]["shop:event"]
        }
        assert {NEW_EVENT, FESTIVAL} <= events
        ordered = server.post("/orders", order_body((NEW_PRODUCT, 2)))
        assert ordered.status_code == 201, ordered.text
        assert ordered.json()["payment_method"]["uid"] == IDEAL


def _write(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


BAD_FIXTURES = {
    "not-json": (
        '{"events": [\n  {"uid": }\n]}',
        "$",
        "is not JSON: Expecting value at line 2, column 11",
    ),
    "wrong-type": (
        json.dumps(
            {
                "products": [
                    {
                        "uid": NEW_PRODUCT,
                        "event": FESTIVAL,
                        "name": {"en": "x"},
                        "price": 5,
                    }
                ]
            }
        ),
        "$.products[0].price",
        "5 is not of type 'string'",
    ),
    "unknown-reference": (
        json.dumps(
            {
                "products": [
                    {
                        "uid": NEW_PRODUCT,
                        "event": NEW_EVENT,
                        "name": {"en": "x"},
                        "price": "5.00",
                    }
                ]
            }
        ),
        f"$.products[{NEW_PRODUCT}].event",
        f"unknown '{NEW_EVENT}'",
    ),
}


@pytest.mark.parametrize("case", BAD_FIXTURES)
def test_a_bad_fixture_file_stops_the_start_saying_where(tmp_path, case):
    text, path, problem = BAD_FIXTURES[case]
    bad = tmp_path / "broken.json"
    bad.write_text(text, encoding="utf-8")

    refused = run("serve", "--port", "0", "--fixtures", str(tmp_path))

    assert refused.returncode == 2
    assert refused.stdout == ""
    assert f"cannot start: {bad}: {path}: {problem}" in refused.stderr


def test_a_bad_scenario_file_stops_the_start(tmp_path):
    (tmp_path / "odd.json").write_text(json.dumps({"name": "odd", "rules": []}))

    refused = run("serve", "--port", "0", "--scenarios", str(tmp_path))

    assert refused.returncode == 2
    assert (
        f"{tmp_path / 'odd.json'}: $: 'description' is a required property"
        in refused.stderr
    )


# -- what the start no longer checks, the suite does -----------------------------


def test_every_schema_is_a_valid_draft_2020_12_schema():
    schemas.check_all()


@pytest.mark.parametrize(
    "kind, schema", [("fixtures", "fixtures"), ("scenarios", "scenario")]
)
def test_every_packaged_fixture_and_scenario_file_is_valid(kind, schema):
    files = sorted(data_dir(kind).glob("*.json"))
    assert files
    for path in files:
        problems = list(
            schemas.validator(schema).iter_errors(
                json.loads(path.read_text(encoding="utf-8"))
            )
        )
        assert problems == [], f"{path}: {problems[0].message}"
