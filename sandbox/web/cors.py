"""CORS for browser shops: preflights answered before any credentials check,
and the CORS headers on every answer, errors included."""

from __future__ import annotations

from flask import Response, current_app, request

ALLOWED_HEADERS = (
    "Authorization",
    "Content-Type",
    "Accept",
    "Cognito-Token",
    "Order-Token",
    "Sandbox-Session",
    "Sandbox-Force",
    "Sandbox-Admin-Token",
)
EXPOSED_HEADERS = ("Location", "Allow", "Sandbox-Session")


def _origin() -> str | None:
    """``*`` when every origin is allowed, the request's origin when it is listed."""
    origin = request.headers.get("Origin")
    if not origin:
        return None
    allowed = current_app.extensions["sandbox"].settings.cors_origins
    if origin in allowed:
        return origin
    return "*" if "*" in allowed else None


def preflight() -> Response | None:
    """Answer an ``OPTIONS`` preflight with the methods the path supports."""
    if request.method != "OPTIONS":
        return None
    adapter = current_app.url_map.bind("")
    try:
        methods = adapter.allowed_methods(request.path)
    except Exception:  # noqa: BLE001 - an unmatched path has no methods
        methods = []
    if not methods:
        return None
    response = Response(status=204)
    response.headers["Allow"] = ", ".join(sorted(methods))
    if _origin() is not None:
        response.headers["Access-Control-Allow-Methods"] = ", ".join(sorted(methods))
        asked = request.headers.get("Access-Control-Request-Headers", "")
        extra = [h.strip() for h in asked.split(",") if h.strip()]
        known = {h.lower() for h in ALLOWED_HEADERS}
        listed = list(ALLOWED_HEADERS) + [h for h in extra if h.lower() not in known]
        response.headers["Access-Control-Allow-Headers"] = ", ".join(listed)
        response.headers["Access-Control-Max-Age"] = "600"
    return response


def decorate(response: Response) -> None:
    origin = _origin()
    if origin is None:
        return
    response.headers["Access-Control-Allow-Origin"] = origin
    # Credentials (cookies, HTTP auth kept by the browser) only for origins
    # listed by name: with "*" any page could otherwise drive the sandbox as
    # its visitor. An Authorization header set by the shop's code needs none.
    if origin != "*":
        response.headers["Access-Control-Allow-Credentials"] = "true"
    response.headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
    response.vary.add("Origin")
