"""Throughput benchmark of the orders API against a real server.

Starts ``shopping-sandbox serve --port 0`` as ``make run`` does (gunicorn,
one worker with threads) on loopback, fills two sessions through
``POST /_sandbox/generate`` and measures, with keep-alive connections and
several client threads, the time per request of:

- ``GET /status`` (the yardstick of every run),
- ``GET /orders/<uid>`` and ``POST /orders``,
- ``GET /orders?status=completed`` with 1,000 and with 100,000 orders in
  the session,

each as the median over several runs of its ratio to ``GET /status`` in
the same run; then the resident memory of the gunicorn worker. The targets
of issue 4 are checked and printed; the exit status is 1 when one fails.

Bounded: a fixed number of requests per run, a timeout on every request,
and the server is stopped whatever happens. ``BENCH_ORDERS`` lowers the
100,000 for a quick try.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SERVE = ROOT / ".venv" / "bin" / "shopping-sandbox"
BASIC = {"Authorization": "Basic partner:partner-secret"}
WEEKEND = "12365478654238976585643567854323"
IDEAL = "ghr57d5h3gd162fb35c5a3db57ghrydg"
BIG = int(os.environ.get("BENCH_ORDERS", "100000"))
SMALL = 1000
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
RUNS = 5
TIMEOUT = 60.0
# Requests per run and measurement: enough for a stable figure, few enough
# that the whole benchmark takes a couple of minutes.
COUNTS = {"status": 600, "order": 600, "post": 300, "page": 16}
TARGETS = {"GET /orders/<uid>": 1.5, "POST /orders": 3.0, "page 100k / page 1k": 1.5}
RSS_TARGET_MB = 250


class Client:
    """One keep-alive connection to the server."""

    def __init__(self, host: str, port: int) -> None:
        self.conn = http.client.HTTPConnection(host, port, timeout=TIMEOUT)

    def call(
        self,
        method: str,
        path: str,
        session: str,
        body: Any = None,
        expect: int = 200,
        auth: bool = True,
    ) -> Any:
        headers = {"Sandbox-Session": session, **(BASIC if auth else {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        payload = response.read()
        if response.status != expect:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:300]!r}")
        return payload

    def close(self) -> None:
        self.conn.close()


def start_server(log: Any) -> tuple[subprocess.Popen[str], str, int]:
    """The server as ``make run`` starts it, on a free loopback port."""
    env = {**os.environ, "SANDBOX_HOST": "127.0.0.1"}
    process = subprocess.Popen(
        [str(SERVE), "serve", "--host", "127.0.0.1", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        process.kill()
        raise RuntimeError(f"the server did not announce its URL: {url!r}")
    return process, "127.0.0.1", int(url.rsplit(":", 1)[1])


def worker_pid(arbiter: int) -> int:
    """The gunicorn worker: the arbiter's child process."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == arbiter:
                return int(entry.name)
        time.sleep(0.1)
    raise RuntimeError("no gunicorn worker found")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def fill(client: Client, session: str, orders: int) -> str:
    """``orders`` completed orders in ``session``; the uid of one of them."""
    left, first = orders, ""
    while left > 0:
        chunk = min(left, 20000)
        answer = json.loads(
            client.call(
                "POST",
                "/_sandbox/generate",
                session,
                {"orders": chunk, "status": "completed"},
                expect=201,
                auth=False,
            )
        )
        first = first or answer["first"]
        left -= chunk
    return first


def timed(
    host: str, port: int, count: int, request: Callable[[Client, int], Any]
) -> float:
    """Milliseconds per request of ``count`` requests over THREADS connections."""
    clients = [Client(host, port) for _ in range(THREADS)]
    for client in clients:  # open the connections before the clock starts
        request(client, -1)
    errors: list[BaseException] = []

    def work(client: Client, index: int) -> None:
        try:
            for n in range(index, count, THREADS):
                request(client, n)
        except BaseException as exc:  # reported after the join
            errors.append(exc)

    threads = [
        threading.Thread(target=work, args=(c, i)) for i, c in enumerate(clients)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    for client in clients:
        client.close()
    if errors:
        raise errors[0]
    return elapsed * 1000 / count


def one_run(host: str, port: int, run: int, uid: str) -> dict[str, float]:
    post_session = f"bench-post-{run}"
    order = {
        "products": [{"product": WEEKEND, "quantity": 1}],
        "consumer": {
            "email": "bench@example.com",
            "first_name": "Bench",
            "last_name": "Mark",
            "country": "NL",
        },
        "payment_method": IDEAL,
        "captcha": "captcha-valid",
    }

    def status() -> float:
        return timed(
            host,
            port,
            COUNTS["status"],
            lambda c, n: c.call("GET", "/status", "bench-1k", auth=False),
        )

    # GET /status is measured right before each measurement it is the yardstick
    # of, so that a load changing during the run touches both alike.
    got = {
        "GET /status": status(),
        "GET /orders/<uid>": timed(
            host,
            port,
            COUNTS["order"],
            lambda c, n: c.call("GET", f"/orders/{uid}", "bench-1k"),
        ),
    }
    got["status before POST"] = status()
    return got | {
        "POST /orders": timed(
            host,
            port,
            COUNTS["post"],
            lambda c, n: (
                c.call("POST", "/orders", post_session, order, 201)
                if n >= 0
                else c.call("GET", "/_sandbox/clock", post_session, auth=False)
            ),
        ),
        "page 1k": timed(
            host,
            port,
            COUNTS["page"],
            lambda c, n: c.call("GET", "/orders?status=completed", "bench-1k"),
        ),
        "page 100k": timed(
            host,
            port,
            COUNTS["page"],
            lambda c, n: c.call("GET", "/orders?status=completed", "bench-100k"),
        ),
    }


def report(runs: list[dict[str, float]], rss: float) -> bool:
    """Print medians and ratios; True when every target holds."""

    def median(key: str, base: str = "GET /status") -> float:
        return statistics.median(r[key] / r[base] for r in runs)

    ratios = {
        "GET /orders/<uid>": median("GET /orders/<uid>"),
        "POST /orders": median("POST /orders", "status before POST"),
        "page 1k": median("page 1k"),
        "page 100k": median("page 100k"),
        "page 100k / page 1k": median("page 100k", "page 1k"),
    }
    print(f"\n{RUNS} runs, {THREADS} client threads, keep-alive; median per request")
    print(f"{'measurement':<24}{'ms/request':>12}{'x status':>10}{'target':>10}  ok")
    for key in (
        "GET /status",
        "GET /orders/<uid>",
        "POST /orders",
        "page 1k",
        "page 100k",
    ):
        ms = statistics.median(r[key] for r in runs)
        ratio = ratios.get(key, 1.0)
        target = TARGETS.get(key)
        shown = f"<= {target}" if target else ""
        ok = "" if target is None else ("yes" if ratio <= target else "NO")
        print(f"{key:<24}{ms:>12.2f}{ratio:>10.2f}{shown:>10}  {ok}")
    page = ratios["page 100k / page 1k"]
    print(
        f"{'page 100k / page 1k':<24}{'':>12}{page:>10.2f}{'<= 1.5':>10}  "
        f"{'yes' if page <= 1.5 else 'NO'}"
    )
    print(
        f"{'RSS at ' + str(BIG) + ' orders':<24}{rss:>9.1f} MB{'':>10}"
        f"{'< ' + str(RSS_TARGET_MB) + ' MB':>10}  "
        f"{'yes' if rss < RSS_TARGET_MB else 'NO'}"
    )
    held = [ratios[k] <= t for k, t in TARGETS.items()]
    return all(held) and rss < RSS_TARGET_MB


def main() -> int:
    if not SERVE.exists() or shutil.which(str(SERVE)) is None:
        sys.stderr.write(f"{SERVE} is missing: run 'make bench' (it installs).\n")
        return 2
    print(f"machine: {os.cpu_count()} CPUs; orders: {SMALL} and {BIG}")
    with tempfile.TemporaryFile("w+") as log:
        process, host, port = start_server(log)
        try:
            worker = worker_pid(process.pid)
            setup = Client(host, port)
            started = time.perf_counter()
            uid = fill(setup, "bench-1k", SMALL - 3)  # 3 seeded orders already
            fill(setup, "bench-100k", BIG - 3)
            setup.close()
            print(f"generated in {time.perf_counter() - started:.1f} s")
            runs = []
            for run in range(RUNS):
                runs.append(one_run(host, port, run, uid))
                print(
                    f"run {run + 1}: "
                    + ", ".join(
                        f"{k} {v:.2f} ms"
                        for k, v in runs[-1].items()
                        if k != "status before POST"
                    ),
                    flush=True,
                )
            rss = rss_mb(worker)
            print(f"load average after the runs: {os.getloadavg()[0]:.1f}")
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
    return 0 if report(runs, rss) else 1


if __name__ == "__main__":
    sys.exit(main())
