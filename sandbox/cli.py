"""``shopping-sandbox``: serve the sandbox, or list its named scenarios."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from typing import Any

from sandbox import __version__

# CLI flag -> environment variable, so that gunicorn's worker sees the same.
FLAGS = {
    "seed": "SANDBOX_SEED",
    "fixtures": "SANDBOX_FIXTURES",
    "scenarios": "SANDBOX_SCENARIOS",
    "base_url": "SANDBOX_BASE_URL",
    "page_size": "SANDBOX_PAGE_SIZE",
    "order_ttl": "SANDBOX_ORDER_TTL",
    "admin_token": "SANDBOX_ADMIN_TOKEN",
    "log_level": "SANDBOX_LOG_LEVEL",
}


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="shopping-sandbox",
        description="A stateful sandbox of the Paylogic Shopping Service API. Every "
        "flag of 'serve' can also be set by the environment variable named in its "
        "help; a flag wins over the variable.",
        epilog="'shopping-sandbox serve --help' lists the flags of serve.",
    )
    top.add_argument("--version", action="version", version=__version__)
    commands = top.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="serve the sandbox through gunicorn (one worker, threads)",
        description="Serve the sandbox through gunicorn: one worker with threads, "
        "because state lives in memory. With --port 0 a free port is picked; the "
        "first line printed is the URL served.",
    )
    serve.add_argument(
        "--host",
        default=os.environ.get("SANDBOX_HOST", "127.0.0.1"),
        help="interface to bind (SANDBOX_HOST, default 127.0.0.1)",
    )
    serve.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PORT", "8000")),
        help="port to bind, 0 for a free one (PORT, default 8000)",
    )
    serve.add_argument(
        "--threads",
        type=int,
        default=8,
        help="gunicorn threads of the one worker (default 8)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="gunicorn workers; anything but 1 is refused, because "
        "state lives in the memory of one process",
    )
    serve.add_argument(
        "--seed",
        type=int,
        help="seed of every session's random source (SANDBOX_SEED, default 1)",
    )
    serve.add_argument(
        "--fixtures",
        help="folder of fixture files that extend the "
        "defaults: an entry with the uid (or key) of a default one "
        "replaces it, others are added (SANDBOX_FIXTURES)",
    )
    serve.add_argument(
        "--scenarios", help="folder of extra scenario files (SANDBOX_SCENARIOS)"
    )
    serve.add_argument(
        "--base-url",
        help="base of every link, e.g. behind a proxy "
        "(SANDBOX_BASE_URL; default: the request's own)",
    )
    serve.add_argument(
        "--page-size",
        type=int,
        help="page size of lists, 1 to 500 (SANDBOX_PAGE_SIZE, default 500)",
    )
    serve.add_argument(
        "--order-ttl",
        help="time an unpaid order lives, seconds or "
        "ISO 8601 such as PT30M (SANDBOX_ORDER_TTL, default 30 minutes)",
    )
    serve.add_argument(
        "--admin-token",
        help="lock the control plane with this token "
        "(SANDBOX_ADMIN_TOKEN; default: open)",
    )
    serve.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        help="DEBUG, INFO, WARNING, ERROR or CRITICAL "
        "(SANDBOX_LOG_LEVEL, default INFO)",
    )
    listing = commands.add_parser(
        "scenarios",
        help="list the named scenarios",
        description="List the named scenarios: the packaged ones and those of "
        "--scenarios, one per line with its description.",
    )
    listing.add_argument(
        "--scenarios", help="folder of extra scenario files (SANDBOX_SCENARIOS)"
    )
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "scenarios":
        return list_scenarios(args)
    return serve(args)


def list_scenarios(args: argparse.Namespace) -> int:
    from sandbox.config import Settings
    from sandbox.fixtures import FixtureError, data_dir
    from sandbox.scenarios import load_scenarios

    if args.scenarios is not None:
        os.environ["SANDBOX_SCENARIOS"] = args.scenarios
    try:
        settings = Settings.from_env()
        found = load_scenarios([data_dir("scenarios"), *settings.scenarios])
    except (FixtureError, ValueError) as exc:
        sys.stderr.write(f"shopping-sandbox: {exc}\n")
        return 2
    width = max((len(name) for name in found), default=0)
    for name, scenario in sorted(found.items()):
        sys.stdout.write(f"{name:<{width}}  {scenario['description']}\n")
    return 0


def serve(args: argparse.Namespace) -> int:
    for flag, variable in FLAGS.items():
        value = getattr(args, flag)
        if value is not None:
            os.environ[variable] = str(value)
    level = os.environ.get("SANDBOX_LOG_LEVEL", "INFO").upper()
    if level not in LOG_LEVELS:
        sys.stderr.write(
            f"shopping-sandbox: cannot start: SANDBOX_LOG_LEVEL={level!r}"
            f" is not one of {', '.join(LOG_LEVELS)}\n"
        )
        return 2
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from sandbox.gunicorn_conf import check_workers

    check_workers(args.workers)
    from sandbox.config import Settings
    from sandbox.fixtures import FixtureError
    from sandbox.web.app import create_app

    try:
        app = create_app(Settings.from_env())
    except (FixtureError, ValueError) as exc:
        sys.stderr.write(f"shopping-sandbox: cannot start: {exc}\n")
        return 2
    _Server(
        app,
        {
            "bind": f"{args.host}:{args.port}",
            "workers": 1,
            "threads": args.threads,
            "worker_class": "gthread",
            "keepalive": 5,
            "timeout": 60,
            "loglevel": level.lower(),
            "when_ready": _announce,
            "preload_app": True,
            "post_worker_init": _warm,
        },
    ).run()
    return 0


def _announce(server: Any) -> None:
    """Print the URL served as the first line on stdout (useful with --port 0)."""
    host, port = server.LISTENERS[0].sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    sys.stdout.write(f"http://{shown}:{port}\n")
    sys.stdout.flush()


def _warm(worker: Any) -> None:
    """Build the request validators in the background once the worker is up.

    jsonschema is left out of the start to answer sooner; this loads it before
    the first order arrives rather than during it.
    """
    from sandbox import schemas

    threading.Thread(target=schemas.warm, name="warm-schemas", daemon=True).start()


class _Server:
    """gunicorn with an app object already built."""

    def __new__(cls, app: Any, options: dict[str, Any]) -> Any:
        from gunicorn.app.base import BaseApplication

        class Application(BaseApplication):  # type: ignore[misc]
            def load_config(self) -> None:
                settings = dict(options)
                # gunicorn 25.1+ opens a control socket at one fixed path per
                # user: sandboxes started side by side would take it from each
                # other, and a container's home may not be writable. Not needed.
                if "control_socket_disable" in self.cfg.settings:
                    settings["control_socket_disable"] = True
                for key, value in settings.items():
                    self.cfg.set(key, value)

            def load(self) -> Any:
                return app

        return Application()


if __name__ == "__main__":
    sys.exit(main())
