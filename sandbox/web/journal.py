"""The session's journal: what the sandbox received, secrets masked."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Request, Response

from sandbox.domain.session import Session
from sandbox.timeutil import isoformat

SECRET_HEADERS = {
    "authorization",
    "cognito-token",
    "order-token",
    "sandbox-admin-token",
    "cookie",
}
# The same names as request.headers spells them, to mask without lowering each.
SECRET_NAMES = {"-".join(p.capitalize() for p in h.split("-")) for h in SECRET_HEADERS}
SECRET_PARAMS = {"order_token", "admin_token"}
MAX_BODY_KEPT = 16 * 1024


def _mask(name: str, value: str) -> str:
    if name.lower() not in SECRET_HEADERS:
        return value
    scheme, _, rest = value.partition(" ")
    if rest and scheme.lower() in ("basic", "bearer"):
        return f"{scheme} ***"
    return "***"


def _headers(req: Request) -> dict[str, str]:
    headers = dict(req.headers.items())
    for name in headers.keys() & SECRET_NAMES:
        headers[name] = _mask(name, headers[name])
    return headers


def _query(req: Request) -> str:
    # The confirmation e-mail's link carries the Order token in the query.
    raw = req.query_string.decode("latin-1")
    pairs = parse_qsl(raw, keep_blank_values=True)
    if not any(k.lower() in SECRET_PARAMS for k, _ in pairs):
        return raw
    return urlencode(
        [(k, "***" if k.lower() in SECRET_PARAMS else v) for k, v in pairs]
    )


def _body(req: Request, ctx: Any) -> Any:
    # Only what a view read already: the journal never reads a body itself,
    # so an oversized one is never buffered here.
    if "body_json" in ctx:
        return ctx.body_json
    raw = getattr(req, "_cached_data", None)
    if not raw:
        return None
    if len(raw) > MAX_BODY_KEPT:
        return {"truncated": True, "bytes": len(raw)}
    return raw.decode("utf-8", "replace")


def record(session: Session, response: Response, req: Request, ctx: Any) -> None:
    """Journal one answered request (``req`` and ``ctx``: the request and g)."""
    session.journal.append(
        {
            "method": req.method,
            "path": req.path,
            "query": _query(req),
            "headers": _headers(req),
            "body": _body(req, ctx),
            "status": response.status_code,
            "type": ctx.get("error_type"),
            "forced": ctx.get("forced"),
            "time": isoformat(session.now()),
        }
    )
