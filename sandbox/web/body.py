"""Request bodies: media type, JSON parsing and JSON Schema validation.

Every problem is reported with its JSON path; the headline ``message`` is
the most relevant one, and the error ``type`` follows the orders page (a
missing consumer field is ``CONSUMER_MISSING``, a bad ticket consumer is
``TICKET_CONSUMER_ERROR``, anything else ``CONSTRAINT_VIOLATION``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import current_app, g, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from sandbox import errors, jsonio, schemas

if TYPE_CHECKING:
    from jsonschema import ValidationError

MAX_JOURNAL_BODY = 16 * 1024
JSON_TYPES = re.compile(r"^application/([a-z0-9.+-]+\+)?json$")

# Maps one schema error to an upstream type (None: the default).
Classifier = Callable[[str, "ValidationError"], str | None]


def read_raw() -> bytes:
    """The whole body, read once and kept; 413 past the limit, chunked or not."""
    try:
        raw = request.get_data(cache=True)
        _check_chunked_size(raw)
    except HTTPException:
        raise
    except Exception as exc:  # noqa: BLE001 - the server's own framing errors
        # A malformed chunked body or a connection cut mid-body: the client's
        # fault, whatever exception the server's reader raises for it.
        raise errors.BadRequest(
            f"The request body could not be read: {type(exc).__name__}.",
            [{"path": "$", "message": "malformed or incomplete body"}],
        ) from None
    return raw


def read_json() -> Any:
    """The body as JSON, after checking its media type: 415, or 400 saying where."""
    raw = read_raw()
    mimetype = request.mimetype or ""
    if raw and not JSON_TYPES.match(mimetype):
        raise errors.UnsupportedMediaType(
            "The body must be JSON, sent with Content-Type: application/json "
            f"(got {mimetype or 'no Content-Type'})."
        )
    body = jsonio.loads(raw)
    if len(raw) <= MAX_JOURNAL_BODY:
        g.body_json = body
    return body


def _check_chunked_size(raw: bytes) -> None:
    """413 for a chunked body over the limit, which werkzeug only cuts short.

    With a Content-Length the limit is enforced before reading; without one
    (``Transfer-Encoding: chunked``) werkzeug stops reading at the limit and
    hands over the truncated start, which would then fail as broken JSON.
    """
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is None or request.content_length is not None or len(raw) < limit:
        return
    if request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()


def json_object() -> dict[str, Any]:
    """The body as a JSON object; null optional fields count as absent."""
    body = read_json()
    if not isinstance(body, dict):
        raise errors.BadRequest(
            f"The body must be a JSON object, not {_json_type(body)}.",
            [{"path": "$", "message": "must be an object"}],
        )
    return {key: value for key, value in body.items() if value is not None}


def validate(
    body: Any,
    schema: str,
    classify: Classifier | None = None,
    default: type[errors.ApiError] = errors.ConstraintViolation,
) -> None:
    """Check ``body`` against a stored schema; raise with every problem listed."""
    found = list(schemas.validator(schema).iter_errors(body))
    if not found:
        return
    typed = []
    for error in found:
        path = _path(error)
        kind = (classify(path, error) if classify else None) or default.type
        typed.append((kind, path, error))
    rank = {kind: index for index, kind in enumerate(PRIORITY)}
    typed.sort(key=lambda item: (rank.get(item[0], len(PRIORITY)), item[1]))
    listed = [{"path": path, "message": describe(error)} for _, path, error in typed]
    kind, path, error = typed[0]
    raise errors.error_for(kind)(headline(path, error), listed)


PRIORITY = (
    "NO_CONSUMER_URI_OR_INFO_PROVIDED",
    "CONSUMER_MISSING",
    "TICKET_CONSUMER_ERROR",
    "CONSTRAINT_VIOLATION",
    "BAD_REQUEST",
)


def _path(error: ValidationError) -> str:
    path = schemas.json_path(error.absolute_path)
    if error.validator == "required":
        missing = _missing(error)
        if missing:
            path = f"{path}.{missing}"
    return path


def _missing(error: ValidationError) -> str | None:
    match = re.match(r"^'([^']+)' is a required property", error.message)
    return match.group(1) if match else None


def describe(error: ValidationError) -> str:
    """A short message that never echoes a huge value back."""
    v, schema = error.validator, error.validator_value
    if v == "required":
        return "is a required property"
    if v == "maxLength":
        return f"is longer than {schema} characters"
    if v == "minLength":
        return (
            "must not be empty"
            if schema == 1
            else f"is shorter than {schema} characters"
        )
    if v == "type":
        wanted = schema if isinstance(schema, str) else " or ".join(schema)
        return f"must be of type {wanted}, not {_json_type(error.instance)}"
    if v == "pattern":
        return f"does not match the pattern {schema}"
    if v == "format":
        return f"is not a valid {schema}"
    if v in ("minimum", "maximum"):
        return f"must be {'at least' if v == 'minimum' else 'at most'} {schema}"
    if v in ("minItems", "maxItems"):
        return (
            f"must have {'at least' if v == 'minItems' else 'at most'} {schema} items"
        )
    if v in ("enum", "const"):
        allowed = schema if isinstance(schema, list) else [schema]
        return "must be one of " + ", ".join(map(_short, allowed))
    if v in ("unevaluatedProperties", "additionalProperties"):
        names = re.findall(r"'([^']*)'", error.message)
        shown = ", ".join(_short(n) for n in names[:5])
        return f"has unknown field(s): {shown}"
    if v == "anyOf":
        return "is not any of the accepted forms"
    return error.message[:200]


def headline(path: str, error: ValidationError) -> str:
    where = path[2:] if path.startswith("$.") else path
    if error.validator == "required":
        return f"{where} is required"
    return f"{where} {describe(error)}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)) or type(value).__name__ == "Decimal":
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def order_classifier(consumer_type: str = "CONSUMER_MISSING") -> Classifier:
    """How POST /orders names its schema errors."""

    def classify(path: str, error: ValidationError) -> str | None:
        if re.match(r"^\$\.products\[\d+\]\.consumers?(\[|\.|$)", path):
            return "TICKET_CONSUMER_ERROR"
        if path == "$.consumer" or path.startswith("$.consumer."):
            if error.validator == "required" or path == "$.consumer":
                return consumer_type
        return None

    return classify
