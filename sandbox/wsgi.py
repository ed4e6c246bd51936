"""The only module-level app: what a plain ``gunicorn sandbox.wsgi:app`` serves.

``shopping-sandbox serve`` is the usual way in; this module is for running
gunicorn directly, and refuses several workers the same way.
"""

from __future__ import annotations

import logging
import os
import sys

from sandbox.gunicorn_conf import check_workers
from sandbox.web.app import create_app


def _gunicorn_workers() -> int | None:
    """The worker count of the gunicorn that imports us, read as it read it."""
    if "gunicorn" not in os.path.basename(sys.argv[0] if sys.argv else ""):
        return None
    from gunicorn.app.wsgiapp import WSGIApplication

    try:
        return int(WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").cfg.workers)
    except SystemExit:
        return None


workers = _gunicorn_workers()
if workers is not None:
    try:
        check_workers(workers)
    except SystemExit as refusal:
        # Exit code 3 is gunicorn's "worker failed to boot": the master stops
        # at once, where any other code would have it start the worker again.
        sys.stderr.write(f"{refusal}\n")
        sys.stderr.flush()
        os._exit(3)
if not logging.getLogger().handlers:
    logging.basicConfig(
        level=os.environ.get("SANDBOX_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
app = create_app()
