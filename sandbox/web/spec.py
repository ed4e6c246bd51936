"""``GET /_sandbox/openapi.json``: the OpenAPI 3.1 document of this sandbox."""

from __future__ import annotations

from flask import Blueprint, Response

from sandbox import jsonio, openapi
from sandbox.web.context import base_url

bp = Blueprint("spec", __name__)


@bp.get("/_sandbox/openapi.json")
def openapi_document() -> Response:
    # Outside the control blueprint on purpose: the document needs no admin token.
    return Response(
        jsonio.dumps(openapi.document(base_url())), mimetype="application/json"
    )
