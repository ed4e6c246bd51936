"""The session's journal: what the sandbox received, secrets masked."""

from __future__ import annotations

from typing import Any

from flask import Response, g, request

from sandbox.domain.session import Session
from sandbox.timeutil import isoformat

SECRET_HEADERS = {"authorization", "cognito-token", "order-token",
                  "sandbox-admin-token", "cookie"}
MAX_BODY_KEPT = 16 * 1024


def _mask(name: str, value: str) -> str:
    if name.lower() not in SECRET_HEADERS:
        return value
    scheme, _, rest = value.partition(" ")
    if rest and scheme.lower() in ("basic", "bearer"):
        return f"{scheme} ***"
    return "***"


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
    session.journal.append({
        "method": request.method,
        "path": request.path,
        "query": request.query_string.decode("latin-1"),
        "headers": {k: _mask(k, v) for k, v in request.headers.items()},
        "body": _body(),
        "status": response.status_code,
        "type": g.get("error_type"),
        "forced": g.get("forced"),
        "time": isoformat(session.now()),
    })
