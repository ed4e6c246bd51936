"""Per-request helpers: the sandbox, the session, credentials, base URL."""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, request

from sandbox import errors
from sandbox.config import Settings
from sandbox.domain.access import Principal
from sandbox.domain.catalogue import Catalogue
from sandbox.domain.rules import valid_outcomes
from sandbox.domain.session import DEFAULT, Session, SessionRegistry
from sandbox.web.hal import Renderer

SESSION_HEADER = "Sandbox-Session"
ADMIN_HEADER = "Sandbox-Admin-Token"
FORCE_HEADER = "Sandbox-Force"
MAX_SESSION_NAME = 100


@dataclass
class Sandbox:
    """What the app holds: settings, the shared catalogue, the sessions."""

    settings: Settings
    cat: Catalogue
    sessions: SessionRegistry
    scenarios: dict[str, dict[str, Any]]


def sandbox() -> Sandbox:
    found: Sandbox = current_app.extensions["sandbox"]
    return found


SESSION_PARAM = "sandbox_session"


def session_name() -> str:
    """The header, or for browser pages the ``sandbox_session`` parameter."""
    header = request.headers.get(SESSION_HEADER, "").strip()
    try:
        # WSGI hands headers over as Latin-1; a UTF-8 name is read as sent.
        header = header.encode("latin-1").decode("utf-8")
    except UnicodeError:
        pass
    name = header or request.args.get(SESSION_PARAM, "").strip() or DEFAULT
    if len(name) > MAX_SESSION_NAME or not name.isprintable() or "," in name:
        # Two Sandbox-Session headers arrive joined by a comma: refused too.
        raise errors.BadRequest(
            f"{SESSION_HEADER} must be one printable name of at most "
            f"{MAX_SESSION_NAME} characters, without commas."
        )
    return name


def current_session(create: bool = True) -> Session:
    """The request's session, kept from its first use on when ``create``."""
    if "session" not in g:
        g.session = sandbox().sessions.get(session_name(), create)
    session: Session = g.session
    return session


def may_create_session() -> bool:
    """Whether this request may bring a new session into being.

    Only requests with credentials the fixtures know (or, under
    ``/_sandbox``, the admin token when one is set), so that a flood of
    refused requests cannot evict the sessions of others.
    """
    if request.path.startswith("/_sandbox"):
        return admin_token_ok()
    cat = sandbox().cat
    try:
        app, _ = _application(cat, request.headers.get("Authorization", "").strip())
    except errors.ApiError:
        return False
    cognito = request.headers.get("Cognito-Token", "").strip()
    if cognito and cognito not in cat.cognito_users:
        return False
    token = request.headers.get("Order-Token", "").strip() or request.args.get(
        "order_token", ""
    )
    # In a session not made yet, only the seeded orders' tokens can be valid.
    if token and token not in seeded_tokens(cat):
        return False
    return app is not None or bool(cognito) or bool(token)


def seeded_tokens(cat: Catalogue) -> set[str]:
    return {spec["order_token"] for spec in cat.seed_orders if "order_token" in spec}


def admin_token_ok() -> bool:
    """True without SANDBOX_ADMIN_TOKEN, else whether the request carries it."""
    token = sandbox().settings.admin_token
    if not token:
        return True
    # A browser sends no header: the dashboard carries it as a parameter.
    given = request.headers.get(ADMIN_HEADER, "") or request.values.get(
        "admin_token", ""
    )
    return hmac.compare_digest(given.encode(), token.encode())


def base_url() -> str:
    """``SANDBOX_BASE_URL``, else the request's own (behind a proxy, its)."""
    if "base_url" not in g:
        configured = sandbox().settings.base_url
        # request.host_url would convert to an IRI, a tenth of a millisecond.
        own = f"{request.scheme}://{request.host}{request.root_path}"
        g.base_url = configured or own.rstrip("/")
    found: str = g.base_url
    return found


def renderer() -> Renderer:
    """The request's renderer: its base URL and session, made once."""
    if "renderer" not in g:
        name = session_name()
        g.renderer = Renderer(
            base_url(), sandbox().cat, None if name == DEFAULT else name
        )
    found: Renderer = g.renderer
    return found


def self_href() -> str:
    """The request's own URL, query string included, on the base URL."""
    query = request.query_string.decode("latin-1")
    return base_url() + request.path + ("?" + query if query else "")


def principal() -> Principal:
    """The request's credentials; wrong ones are 401 at once."""
    if "principal" in g:
        found: Principal = g.principal
        return found
    cat = sandbox().cat
    app, via = _application(cat, request.headers.get("Authorization", "").strip())
    cognito = request.headers.get("Cognito-Token", "").strip() or None
    user = None
    if cognito is not None:
        user = cat.cognito_users.get(cognito)
        if user is None:
            raise errors.Unauthorized("The Cognito-Token is not valid.")
    token = request.headers.get("Order-Token", "").strip() or None
    if token is None and request.method == "GET":
        # The confirmation e-mail's link carries the token in its query,
        # as upstream's does: a click opens the order.
        token = request.args.get("order_token", "").strip() or None
    if token is not None and token not in current_session().shop.tokens:
        raise errors.Unauthorized("The Order-Token is not valid.")
    g.principal = Principal(app=app, via=via, cognito_user=user, order_token=token)
    return g.principal


def _application(cat: Catalogue, header: str) -> tuple[Any, str | None]:
    """The application of an Authorization header; 401 when it is wrong.

    Remembered for the request: the session check and the view both ask.
    """
    known = g.get("application")
    if known is not None and known[0] == header:
        return known[1]  # type: ignore[no-any-return]
    found = _parse_application(cat, header)
    g.application = (header, found)
    return found


def _parse_application(cat: Catalogue, header: str) -> tuple[Any, str | None]:
    if not header:
        return None, None
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() == "basic":
        key, secret = _basic_pair(value)
        app = cat.application_by_basic(key, secret)
        if app is None:
            raise errors.Unauthorized("Unknown application key or wrong secret.")
        return app, "basic"
    if scheme.lower() == "bearer":
        app = cat.application_by_bearer(value)
        if app is None:
            raise errors.Unauthorized("The Bearer token is not valid.")
        return app, "bearer"
    raise errors.Unauthorized("Authorization must use the Basic or Bearer scheme.")


def _basic_pair(value: str) -> tuple[str, str]:
    # The docs print ``Basic <app>:<secret>`` unencoded; standard Basic is base64.
    if ":" not in value:
        try:
            padded = value + "=" * (-len(value) % 4)  # some clients drop padding
            value = base64.b64decode(padded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise errors.Unauthorized("The Basic credentials are not valid.") from None
    key, sep, secret = value.partition(":")
    if not sep:
        raise errors.Unauthorized("The Basic credentials are not key:secret.")
    return key, secret


def refuse_unforceable() -> None:
    """``Sandbox-Force`` on a call that no rule can reach is refused, not ignored."""
    if not request.headers.get(FORCE_HEADER, "").strip() or request.url_rule is None:
        return
    from sandbox.openapi import operation

    found = operation(request.method, request.url_rule.rule)
    if found is None or found.action is None:
        raise errors.BadRequest(
            f"{FORCE_HEADER} cannot be used on {request.method} {request.path}: "
            "nothing can be forced there.",
            [{"path": f"header {FORCE_HEADER}", "message": "not forceable here"}],
        )


def forced_type(action: str) -> str | None:
    """The ``Sandbox-Force`` header, checked against what ``action`` can give."""
    wanted = request.headers.get(FORCE_HEADER, "").strip()
    if not wanted:
        return None
    allowed = valid_outcomes(action)
    if wanted not in allowed or action == "payment":
        raise errors.BadRequest(
            f"{FORCE_HEADER}: {wanted!r} cannot happen on {action}.",
            [
                {
                    "path": f"header {FORCE_HEADER}",
                    "message": "valid here: " + ", ".join(allowed),
                }
            ],
            valid=list(allowed),
        )
    return wanted


def force_for(action: str, fields: dict[str, Any]) -> Any:
    """A callable that says which error to force now: the header, or a rule."""
    header = forced_type(action)
    session = current_session()

    def force() -> str | None:
        if header is not None:
            g.forced = {"source": "header", "type": header}
            current_app.logger.info("forced %s on %s by header", header, action)
            return header
        rule = session.take_rule(action, fields)
        if rule is None:
            return None
        g.forced = {"source": "rule", "rule": rule.id, "type": rule.outcome}
        current_app.logger.info(
            "forced %s on %s by rule %s", rule.outcome, action, rule.id
        )
        return rule.outcome

    return force


def apply_force(action: str, fields: dict[str, Any] | None = None) -> None:
    """Raise the forced error of ``action`` now, if one is armed or asked."""
    forced = force_for(action, fields or {})()
    if forced is not None:
        errors.raise_forced(forced)
