"""The control plane under ``/_sandbox``: force outcomes, see, reset, export."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request

from sandbox import errors, jsonio
from sandbox.domain import control, state
from sandbox.domain.session import DEFAULT
from sandbox.timeutil import isoformat
from sandbox.web import body
from sandbox.web.context import (
    ADMIN_HEADER,
    SESSION_PARAM,
    admin_token_ok,
    current_session,
    renderer,
    sandbox,
)
from sandbox.web.listing import hal

bp = Blueprint("control", __name__, url_prefix="/_sandbox")


def _json(payload: Any, status: int = 200) -> Response:
    return (
        hal(payload, status)
        if isinstance(payload, dict) and "_links" in payload
        else Response(jsonio.dumps(payload), status=status, mimetype="application/json")
    )


@bp.before_request
def admin_only() -> None:
    """With SANDBOX_ADMIN_TOKEN set, the control plane needs it."""
    if not admin_token_ok():
        raise errors.Unauthorized(f"The control plane needs the {ADMIN_HEADER} header.")


def _optional_object(schema: str) -> dict[str, Any]:
    if not request.get_data(cache=True).strip():
        return {}
    payload = body.json_object()
    body.validate(payload, schema, default=errors.BadRequest)
    return payload


def _links() -> dict[str, Any]:
    r = renderer()
    names = [
        "reset",
        "scenarios",
        "rules",
        "clock",
        "requests",
        "emails",
        "state",
        "overrides",
        "openapi.json",
    ]
    links: dict[str, Any] = {
        name.split(".")[0]: {"href": r.uri(f"/_sandbox/{name}")} for name in names
    }
    links["self"] = {"href": r.uri("/_sandbox")}
    links["order"] = {"href": r.uri("/_sandbox/orders/{uid}"), "templated": True}
    links["payment"] = {
        "href": r.uri("/_sandbox/orders/{uid}/payment"),
        "templated": True,
    }
    links["checkout"] = {
        "href": r.uri("/_sandbox/checkout/{uid}"),
        "templated": True,
        "type": "text/html",
    }
    return links


@bp.get("")
def index() -> Any:
    session = current_session()
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    if (
        best == "text/html"
        and request.accept_mimetypes["text/html"]
        > request.accept_mimetypes["application/json"]
    ):
        shop = session.shop
        orders = list(shop.orders.values())[-50:][::-1]
        return render_template(
            "dashboard.html",
            session=session,
            orders=orders,
            rules=[control.rule_view(r) for r in session.rules.rules],
            scenarios=sandbox().scenarios,
            journal=list(session.journal)[-20:][::-1],
            emails=shop.outbox[-10:][::-1],
            clock=control.clock_view(session),
            base=renderer().uri("/_sandbox"),
            query=_browser_query(),
        )
    return _json(
        {
            "_links": _links(),
            "session": session.name,
            "clock": control.clock_view(session),
            "rules": [control.rule_view(r) for r in session.rules.rules],
            "orders": len(session.shop.orders),
        }
    )


@bp.post("/reset")
def reset() -> Response:
    payload = _form_or_json("reset")
    seed = payload.get("seed")
    current_session().reset(int(seed) if seed is not None else None)
    return _after_form(
        {"session": current_session().name, "seed": current_session().seed}
    )


def _form_or_json(schema: str) -> dict[str, Any]:
    if request.mimetype == "application/x-www-form-urlencoded":
        return {}
    return _optional_object(schema)


def _browser_query() -> str:
    """What a browser must carry from page to page: it sends no headers of ours."""
    session = current_session().name
    kept = {
        SESSION_PARAM: "" if session == DEFAULT else session,
        "admin_token": request.values.get("admin_token", "").strip(),
    }
    return urlencode({name: value for name, value in kept.items() if value})


def _after_form(payload: dict[str, Any], status: int = 200) -> Response:
    """Dashboard buttons post forms; they go back to the dashboard, same session."""
    if request.mimetype == "application/x-www-form-urlencoded":
        query = _browser_query()
        target = renderer().uri("/_sandbox") + ("?" + query if query else "")
        return Response(status=303, headers={"Location": target})
    return _json(payload, status)


@bp.get("/scenarios")
def scenarios() -> Response:
    session = current_session()
    return _json(
        {
            "scenarios": [
                {
                    "name": s["name"],
                    "description": s["description"],
                    "rules": s["rules"],
                    "overrides": s.get("overrides", {}),
                }
                for s in sandbox().scenarios.values()
            ],
            "armed": [control.rule_view(r) for r in session.rules.rules],
            "armed_scenarios": session.scenarios,
        }
    )


@bp.post("/scenarios/<name>")
def arm_scenario(name: str) -> Response:
    scenario = sandbox().scenarios.get(name)
    if scenario is None:
        raise errors.NotFound(
            f"No scenario named {name!r}.",
            [{"path": "name", "message": "known: " + ", ".join(sandbox().scenarios)}],
        )
    armed = control.arm_scenario(current_session(), scenario)
    return _after_form(
        {"scenario": name, "rules": [control.rule_view(r) for r in armed]}, 201
    )


@bp.get("/rules")
def rules() -> Response:
    rules = current_session().rules.rules
    return _json({"rules": [control.rule_view(r) for r in rules]})


@bp.post("/rules")
def arm_rule() -> Response:
    payload = body.json_object()
    body.validate(payload, "rule", default=errors.BadRequest)
    rule = control.arm_rule(current_session(), payload)
    return _json(control.rule_view(rule), 201)


@bp.delete("/rules")
def disarm_all() -> Response:
    removed = current_session().rules.disarm()
    return _json({"disarmed": removed})


@bp.delete("/rules/<int:rule_id>")
def disarm(rule_id: int) -> Response:
    if not current_session().rules.disarm(rule_id):
        raise errors.NotFound(f"No armed rule {rule_id}.")
    return _json({"disarmed": 1})


@bp.post("/overrides")
def overrides() -> Response:
    payload = body.json_object()
    body.validate(payload, "overrides", default=errors.BadRequest)
    control.apply_overrides(current_session(), payload)
    return _json({"applied": payload})


@bp.get("/orders/<uid>")
def order_secrets(uid: str) -> Response:
    session = current_session()
    return _json(control.order_secrets(session, session.shop.order(uid)))


@bp.post("/orders/<uid>/payment")
def payment(uid: str) -> Response:
    payload = body.json_object()
    body.validate(payload, "payment", default=errors.BadRequest)
    session = current_session()
    order = control.pay(session, session.shop.order(uid), payload["outcome"])
    return _json(control.order_secrets(session, order))


@bp.get("/clock")
def clock() -> Response:
    return _json(control.clock_view(current_session()))


@bp.post("/clock")
def move_clock() -> Response:
    payload = body.json_object()
    body.validate(payload, "clock", default=errors.BadRequest)
    session = current_session()
    control.move_clock(session, payload)
    return _json(control.clock_view(session))


@bp.get("/requests")
def requests_seen() -> Response:
    entries = list(current_session().journal)
    method = request.args.get("method")
    path = request.args.get("path")
    if method:
        entries = [e for e in entries if e["method"] == method.upper()]
    if path:
        entries = [e for e in entries if e["path"].startswith(path)]
    return _json({"requests": entries, "count": len(entries)})


@bp.delete("/requests")
def forget_requests() -> Response:
    current_session().journal.clear()
    return _json({"requests": [], "count": 0})


@bp.get("/emails")
def emails() -> Response:
    r = renderer()
    out = []
    for mail in current_session().shop.outbox:
        links = {k: r.browser_link(v) for k, v in mail["links"].items()}
        body = mail["body"]
        # Plain replacement, never str.format: the body holds consumer names.
        for name, url in links.items():
            body = body.replace("{" + name + "}", url)
        out.append(
            {
                **mail,
                "body": body,
                "links": links,
                "sent_at": isoformat(mail["sent_at"]),
            }
        )
    return _json({"emails": out, "count": len(out)})


@bp.get("/state")
def export_state() -> Response:
    return _json(state.export_session(current_session()))


@bp.put("/state")
def import_state() -> Response:
    payload = body.json_object()
    body.validate(payload, "state", default=errors.BadRequest)
    state.import_session(current_session(), payload)
    return _json({"imported": True, "orders": len(current_session().shop.orders)})
