"""UTC datetimes in whole seconds, ISO 8601 durations, and parsing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache

_DURATION = re.compile(
    r"^(?P<sign>[+-])?P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def parse_duration(text: str) -> timedelta:
    """An ISO 8601 duration such as ``PT31M``, ``P1DT2H`` or ``-P30D``."""
    match = _DURATION.match(text.strip().upper()) if isinstance(text, str) else None
    if match is None or text.strip().upper().rstrip("T").endswith("P"):
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as PT31M")
    parts = {k: int(v) for k, v in match.groupdict().items() if v and k != "sign"}
    try:
        delta = timedelta(**parts)
    except OverflowError:
        raise ValueError(f"{text!r} is too long a duration") from None
    return -delta if match.group("sign") == "-" else delta


def parse_datetime(text: str) -> datetime:
    """An ISO 8601 datetime with any offset (or none: UTC), as UTC."""
    if not isinstance(text, str):
        raise ValueError("a datetime must be a string")
    value = text.strip()
    # A '+' sent unencoded in a query string arrives as a space.
    value = re.sub(r" (\d\d(:?\d\d)?)$", r"+\1", value)
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 datetime") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text!r} is outside the datetimes UTC can show") from None


def isoformat(value: datetime | None) -> str | None:
    """UTC, whole seconds, with ``Z``."""
    if value is None:
        return None
    return _isoformat(value)


# The same few moments (event dates, an order's creation) are written in
# every body that names them; strftime is the dearest step of rendering.
@lru_cache(maxsize=4096)
def _isoformat(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def resolve_time(text: str, now: datetime) -> datetime:
    """A fixture time: absolute, or a duration relative to ``now``."""
    stripped = text.strip()
    if stripped[:1] in "+-P" and "P" in stripped[:2]:
        return now + parse_duration(stripped)
    return parse_datetime(stripped)
