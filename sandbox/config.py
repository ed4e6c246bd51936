"""Settings from environment variables, overridden by CLI flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from sandbox.timeutil import parse_duration

MIB = 1024 * 1024


def _seconds(text: str) -> int:
    """Seconds from ``1800`` or an ISO 8601 duration such as ``PT30M``."""
    text = text.strip()
    seconds = int(text) if text.isdigit() else int(parse_duration(text).total_seconds())
    if seconds <= 0:
        raise ValueError(f"{text!r} must be a positive duration")
    return seconds


def _flag(text: str) -> bool:
    return text.strip().lower() in {"1", "true", "yes", "on"}


def _paths(text: str) -> list[Path]:
    return [Path(part) for part in text.split(os.pathsep) if part.strip()]


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _page_size(text: str) -> int:
    size = int(text)
    if not 1 <= size <= 500:
        raise ValueError("SANDBOX_PAGE_SIZE must be between 1 and 500")
    return size


# Environment variable -> (setting, parser). The README lists every one.
ENVIRONMENT = {
    "SANDBOX_SEED": ("seed", int),
    "SANDBOX_BASE_URL": ("base_url", str),
    "SANDBOX_PAGE_SIZE": ("page_size", _page_size),
    "SANDBOX_FIXTURES": ("fixtures", _paths),
    "SANDBOX_SCENARIOS": ("scenarios", _paths),
    "SANDBOX_ORDER_TTL": ("order_ttl", _seconds),
    "SANDBOX_ADMIN_TOKEN": ("admin_token", str),
    "SANDBOX_MAX_SESSIONS": ("max_sessions", int),
    "SANDBOX_SESSION_IDLE": ("session_idle", _seconds),
    "SANDBOX_JOURNAL_SIZE": ("journal_size", int),
    "SANDBOX_TRUST_PROXY": ("trust_proxy", _flag),
    "SANDBOX_CORS_ORIGINS": ("cors_origins", _list),
    "SANDBOX_MAX_BODY": ("max_body", int),
    "SANDBOX_LOG_LEVEL": ("log_level", str),
}


@dataclass(frozen=True)
class Settings:
    seed: int = 1
    base_url: str | None = None
    page_size: int = 500
    fixtures: list[Path] = field(default_factory=list)
    scenarios: list[Path] = field(default_factory=list)
    order_ttl: int | None = None
    admin_token: str | None = None
    max_sessions: int = 200
    session_idle: int = 7 * 24 * 3600
    journal_size: int = 500
    trust_proxy: bool = True
    cors_origins: list[str] = field(default_factory=lambda: ["*"])
    max_body: int = MIB
    log_level: str = "INFO"

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, **overrides: Any
    ) -> Settings:
        """Settings from ``SANDBOX_*`` variables, then ``overrides`` (CLI flags)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name, (setting, parse) in ENVIRONMENT.items():
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            try:
                values[setting] = parse(raw)  # type: ignore[operator]
            except ValueError as exc:
                raise ValueError(f"{name}={raw!r}: {exc}") from None
        known = {f.name for f in fields(cls)}
        values.update(
            {k: v for k, v in overrides.items() if k in known and v is not None}
        )
        settings = cls(**values)
        if settings.base_url:
            settings = replace(settings, base_url=settings.base_url.rstrip("/"))
        return settings
