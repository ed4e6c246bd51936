"""The session's journal: what the sandbox received, secrets masked."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Response, g, request

from sandbox.domain.session import Session
from sandbox.timeutil import isoformat

SECRET_HEADERS = {
    "authorization",
    "cognito-token",
    "order-token",
    "sandbox-admin-token",
    "cookie",
}
SECRET_PARAMS = {"order_token", "admin_token"}
MAX_BODY_KEPT = 16 * 1024


def _mask(name: str, value: str) -> str:
    if name.lower() not in SECRET_HEADERS:
        return value
    scheme, _, rest = value.partition(" ")
    if rest and scheme.lower() in ("basic", "bearer"):
        return f"{scheme} ***"
    return "***"


def _query() -> str:
    # The confirmation e-mail's link carries the Order token in the query.
    raw = request.query_string.decode("latin-1")
    pairs = parse_qsl(raw, keep_blank_values=True)
    if not any(k.lower() in SECRET_PARAMS for k, _ in pairs):
        return raw
    return urlencode(
        [(k, "***" if k.lower() in SECRET_PARAMS else v) for k, v in pairs]
    )


def _body() -> Any:
    # Only what a view read already: the journal never reads a body itself,
    # so an oversized one is never buffered here.
    if "body_json" in g:
        return g.body_json
    raw = getattr(request, "_cached_data", None)
    if not raw:
        return None
    if len(raw) > MAX_BODY_KEPT:
        return {"truncated": True, "bytes": len(raw)}
    return raw.decode("utf-8", "replace")


def record(session: Session, response: Response) -> None:
    session.journal.append(
        {
            "method": request.method,
            "path": request.path,
            "query": _query(),
            "headers": {k: _mask(k, v) for k, v in request.headers.items()},
            "body": _body(),
            "status": response.status_code,
            "type": g.get("error_type"),
            "forced": g.get("forced"),
            "time": isoformat(session.now()),
        }
    )
