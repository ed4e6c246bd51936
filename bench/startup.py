"""Start-up benchmark: process start to the first answered ``GET /status``.

Runs ``shopping-sandbox serve --port 0`` several times on loopback and takes
the median of the time from launching the process to the first ``200`` on
``/status``; then the same for a bare Flask app with one route, served the
same way (gunicorn, one gthread worker, ``--port 0`` style). Prints both and
their ratio, and exits 1 when the sandbox's median is not under the target
(1 second, issue 7).

Bounded: every run has a deadline and its process is stopped whatever
happens. ``BENCH_STARTUP_RUNS`` changes the number of runs (default 7).
"""

from __future__ import annotations

import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGET = 1.0
DEADLINE = 20.0
RUNS = int(os.environ.get("BENCH_STARTUP_RUNS", "7"))

# The yardstick: the smallest Flask app, under gunicorn as the sandbox is.
BARE_APP = """
import sys

from flask import Flask
from gunicorn.app.base import BaseApplication

app = Flask("bare")


@app.get("/status")
def status():
    return {"status": "OK"}


def announce(server):
    host, port = server.LISTENERS[0].sock.getsockname()[:2]
    sys.stdout.write(f"http://{host}:{port}\\n")
    sys.stdout.flush()


class Server(BaseApplication):
    def load_config(self):
        options = {"bind": "127.0.0.1:0", "workers": 1, "threads": 8,
                   "worker_class": "gthread", "when_ready": announce,
                   "preload_app": True, "loglevel": "warning"}
        if "control_socket_disable" in self.cfg.settings:
            options["control_socket_disable"] = True
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self):
        return app


Server().run()
"""


def first_status(command: list[str]) -> float:
    """Seconds from launching ``command`` to its first 200 on ``/status``."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=tempfile.gettempdir(),
    )
    try:
        assert process.stdout is not None
        url = urlsplit(process.stdout.readline().strip())
        if not url.hostname or url.hostname not in ("127.0.0.1", "localhost"):
            raise RuntimeError(f"{command[0]} printed no loopback URL first")
        while time.perf_counter() - started < DEADLINE:
            if _answers(url.hostname, url.port or 80):
                return time.perf_counter() - started
            time.sleep(0.002)
        raise RuntimeError(f"{command[0]} did not answer within {DEADLINE} s")
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _answers(host: str, port: int) -> bool:
    connection = http.client.HTTPConnection(host, port, timeout=DEADLINE)
    try:
        connection.request("GET", "/status")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def median_of(command: list[str]) -> float:
    first_status(command)  # warm the file cache, as a CI runner's would be
    return statistics.median(first_status(command) for _ in range(RUNS))


def main() -> int:
    sandbox = median_of(
        [
            str(BIN / "shopping-sandbox"),
            "serve",
            "--port",
            "0",
            "--log-level",
            "WARNING",
        ]
    )
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "bare_flask.py"
        script.write_text(BARE_APP, encoding="utf-8")
        bare = median_of([sys.executable, str(script)])
    verdict = "ok" if sandbox < TARGET else f"FAIL: not under {TARGET:.1f} s"
    # Both figures grow with whatever else runs; the ratio much less so.
    load = os.getloadavg()[0]
    sys.stdout.write(
        f"startup, process start to first GET /status, median of {RUNS} runs "
        f"(load average {load:.1f} on {os.cpu_count()} CPUs):\n"
        f"  shopping-sandbox serve --port 0  {sandbox * 1000:7.0f} ms  {verdict}\n"
        f"  bare Flask app, same gunicorn    {bare * 1000:7.0f} ms\n"
        f"  ratio sandbox / bare             {sandbox / bare:7.2f}\n"
    )
    return 0 if sandbox < TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
