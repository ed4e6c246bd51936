"""gunicorn settings for the sandbox: one worker with threads, state in memory."""

from __future__ import annotations

import os
from typing import Any

bind = os.environ.get("SANDBOX_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("SANDBOX_WORKERS", "1"))
threads = int(os.environ.get("SANDBOX_THREADS", "8"))
worker_class = "gthread"
keepalive = 5
timeout = 60
accesslog = None
# gunicorn 25.1+ opens a control socket at one path per user, which sandboxes
# side by side would take from each other; older versions ignore the name.
control_socket_disable = True
loglevel = os.environ.get("SANDBOX_LOG_LEVEL", "info").lower()

MEMORY_STORE_MESSAGE = (
    "Shopping Sandbox keeps its state in the memory of one process: started with "
    "{workers} workers, orders created on one worker would be missing on the others. "
    "Serve it with one worker and threads (the default), e.g. --workers 1 --threads 8."
)


def check_workers(workers: int) -> None:
    if workers != 1:
        raise SystemExit(MEMORY_STORE_MESSAGE.format(workers=workers))


def on_starting(server: Any) -> None:
    """Refuse to start with several workers on the memory store."""
    check_workers(server.cfg.workers)


def on_reload(server: Any) -> None:
    check_workers(server.cfg.workers)
