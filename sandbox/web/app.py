"""The app factory: settings, the catalogue, sessions, hooks and error handling."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from sandbox import errors, jsonio, schemas
from sandbox.config import Settings
from sandbox.domain.session import SessionRegistry
from sandbox.fixtures import data_dir, load_catalogue
from sandbox.scenarios import load_scenarios
from sandbox.timeutil import utcnow
from sandbox.web import body, cors, journal
from sandbox.web.context import (
    Sandbox,
    current_session,
    may_create_session,
    refuse_unforceable,
    session_name,
)

log = logging.getLogger("sandbox.requests")

HTTP_TYPES = {
    400: errors.BadRequest,
    401: errors.Unauthorized,
    403: errors.Forbidden,
    404: errors.NotFound,
    405: errors.MethodNotAllowed,
    413: errors.RequestEntityTooLarge,
    415: errors.UnsupportedMediaType,
}
# Paths that neither need a session nor go into the journal.
NO_SESSION = ("/status",)
BODY_METHODS = ("POST", "PUT", "PATCH")


class TrailingSlash:
    """One rule for trailing slashes: ``/orders/`` is ``/orders``, never a redirect.

    Werkzeug's default redirects between the two, which turns a POST into a
    GET in some clients; stripping the slash before routing avoids it.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if len(path) > 1 and path.endswith("/"):
            environ["PATH_INFO"] = path.rstrip("/") or "/"
        return self.app(environ, start_response)


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = r"(?:[1-9][0-9]{0,4})"


def _port_ok(text: str) -> bool:
    return re.fullmatch(_PORT, text) is not None and int(text) <= 65535


def _host_ok(text: str) -> bool:
    match = re.fullmatch(
        rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]+))?", text
    )
    return match is not None and (match["port"] is None or _port_ok(match["port"]))


class ForwardedHeaders:
    """Drops ``X-Forwarded-*`` headers no proxy would send, before ProxyFix reads
    them, so that a link is never built on ``javascript:``, a port named
    ``abc`` or a prefix of ``//elsewhere``. Every comma-separated value must
    be well formed: ProxyFix takes the last one.
    """

    VALID = {
        "HTTP_X_FORWARDED_PROTO": lambda v: v in ("http", "https"),
        "HTTP_X_FORWARDED_HOST": _host_ok,
        "HTTP_X_FORWARDED_PORT": _port_ok,
        "HTTP_X_FORWARDED_PREFIX": lambda v: (
            re.fullmatch(r"(?:/[A-Za-z0-9._~-]+)+/?", v) is not None
        ),
    }

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        for key, valid in self.VALID.items():
            value = environ.get(key)
            if value is None:
                continue
            parts = [part.strip() for part in value.split(",")]
            if not all(valid(part) for part in parts):
                del environ[key]
        return self.app(environ, start_response)


def create_app(settings: Settings | None = None) -> Flask:
    """Build the sandbox: one catalogue, many isolated sessions."""
    settings = settings or Settings.from_env()
    # A broken schema is our bug, logged and fatal. Here every schema must load
    # and resolve its refs (tens of milliseconds); the metaschema check, most
    # of a second, runs in the served worker's background right after start
    # (schemas.warm) and in the test suite, so the first answer is not held up.
    try:
        schemas.check_refs()
    except (OSError, ValueError) as exc:
        logging.getLogger("sandbox").critical("broken JSON Schema: %s", exc)
        raise
    cat = load_catalogue(settings.fixtures, settings.seed, utcnow())
    ttl = settings.order_ttl or int(cat.settings["order_ttl_seconds"])
    registry = SessionRegistry(
        cat,
        settings.seed,
        ttl,
        settings.journal_size,
        settings.max_sessions,
        settings.session_idle,
    )
    scenarios = load_scenarios([data_dir("scenarios"), *settings.scenarios])

    app = Flask("sandbox", template_folder="web/templates", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["sandbox"] = Sandbox(settings, cat, registry, scenarios)
    app.url_map.strict_slashes = False

    wsgi: Any = app.wsgi_app
    if settings.trust_proxy:
        wsgi = ProxyFix(wsgi, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)
        wsgi = ForwardedHeaders(wsgi)
    app.wsgi_app = TrailingSlash(wsgi)  # type: ignore[method-assign]

    _register(app)
    _hooks(app)
    _error_handlers(app)
    return app


def _register(app: Flask) -> None:
    from sandbox.web import (
        catalogue_views,
        checkout,
        control,
        order_views,
        shop_views,
        spec,
    )
    from sandbox.web import generate as generate_views

    app.register_blueprint(catalogue_views.bp)
    app.register_blueprint(order_views.bp)
    app.register_blueprint(shop_views.bp)
    app.register_blueprint(control.bp)
    app.register_blueprint(checkout.bp)
    app.register_blueprint(generate_views.bp)
    app.register_blueprint(spec.bp)


def _hooks(app: Flask) -> None:
    @app.before_request
    def start() -> Response | None:
        g.started = time.perf_counter()
        preflight = cors.preflight()
        if preflight is not None:
            return preflight
        if request.url_rule is None:
            return None  # 404 and 405 need no session
        refuse_unforceable()
        if request.path in NO_SESSION:
            return None
        if request.method in BODY_METHODS:
            # Read the whole body before taking the session's lock, so that a
            # slow client holds up nobody else.
            body.read_raw()
        session = current_session(create=may_create_session())
        session.lock.acquire()
        g.locked = session
        session.shop.expire_due()
        return None

    @app.after_request
    def finish(response: Response) -> Response:
        # The objects behind the proxies, once: each proxy access costs.
        req = request._get_current_object()  # type: ignore[attr-defined]
        ctx = g._get_current_object()  # type: ignore[attr-defined]
        cors.decorate(response)
        session = ctx.get("locked")
        if session is not None and not req.path.startswith("/_sandbox"):
            journal.record(session, response, req, ctx)
        elapsed = (time.perf_counter() - ctx.get("started", time.perf_counter())) * 1000
        log.info(
            "session=%s method=%s path=%s status=%s ms=%.1f",
            session.name if session is not None else _name(),
            req.method,
            req.path,
            response.status_code,
            elapsed,
        )
        return response

    @app.teardown_request
    def release(_: BaseException | None) -> None:
        session = g.pop("locked", None)
        if session is not None:
            session.lock.release()


def _name() -> str:
    try:
        return session_name()
    except errors.ApiError:
        return "-"


def error_response(error: errors.ApiError) -> Response:
    g.error_type = error.type
    response = Response(
        jsonio.dumps(error.body()), status=error.status, mimetype="application/json"
    )
    return response


def _error_handlers(app: Flask) -> None:
    @app.errorhandler(errors.ApiError)
    def api_error(error: errors.ApiError) -> Response:
        return error_response(error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        code = error.code or 500
        cls = HTTP_TYPES.get(
            code, errors.BadRequest if code < 500 else errors.InternalServerError
        )
        message = error.description or cls.default_message
        if code == 404:
            message = f"There is no resource at {request.path}."
        elif code == 405:
            message = f"{request.method} is not allowed on {request.path}."
        elif code == 413:
            limit = app.config["MAX_CONTENT_LENGTH"]
            message = f"The request body is larger than {limit} bytes."
        response = error_response(cls(message))
        response.status_code = code
        if code == 405:
            allowed = error.valid_methods or []  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(sorted(allowed))
        return response

    @app.errorhandler(Exception)
    def crash(error: Exception) -> Response:
        app.logger.exception("crash on %s %s", request.method, request.path)
        return error_response(errors.InternalServerError())
