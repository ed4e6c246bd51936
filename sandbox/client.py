"""A client of the control plane (``/_sandbox``), for test suites and scripts.

It is bound to one sandbox, one ``Sandbox-Session`` and, when the control plane
is locked, the admin token::

    from sandbox.client import SandboxClient

    control = SandboxClient("http://127.0.0.1:8000", session="ci-run-42")
    control.arm_scenario("insufficient-consecutive-seats")
    control.pay(order_uid, "failed")

It only speaks to the control plane; the mirrored API is for the integration
under test, with whatever HTTP client it uses. Errors are raised as
:class:`SandboxError` carrying the sandbox's ``type``, status and message.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from requests import RequestException, Response
from requests import Session as HttpSession

SESSION_HEADER = "Sandbox-Session"
ADMIN_HEADER = "Sandbox-Admin-Token"


class SandboxError(Exception):
    """An error answer of the sandbox: its ``type``, status, message and problems."""

    def __init__(
        self,
        type: str,
        status: int,
        message: str,
        errors: list[dict[str, Any]] | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {type}: {message}")
        self.type, self.status, self.message = type, status, message
        self.errors = errors or []
        # The whole error body: some carry more, e.g. the refused order's uid.
        self.body = body or {"type": type, "message": message}

    @classmethod
    def from_response(cls, response: Response) -> SandboxError:
        """The error a response carries, whatever its body."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            text = response.text.strip()[:200] or response.reason or "no body"
            return cls("HTTP_ERROR", response.status_code, text)
        return cls(
            str(body.get("type", "HTTP_ERROR")),
            response.status_code,
            str(body.get("message", "")),
            body.get("errors"),
            body,
        )


def iso_duration(value: timedelta | int | str) -> str:
    """``PT31M`` as given, or an ISO 8601 duration from seconds or a timedelta."""
    if isinstance(value, str):
        return value
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    return f"PT{int(seconds)}S"


def iso_datetime(value: datetime | str) -> str:
    """A datetime as UTC ISO 8601 with ``Z``; a string as given."""
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SandboxClient:
    """The control plane of one sandbox, bound to one ``Sandbox-Session``."""

    def __init__(
        self,
        base_url: str,
        session: str = "default",
        admin_token: str | None = None,
        http: HttpSession | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session
        self.admin_token = admin_token
        self.timeout = timeout
        self.http = http or HttpSession()

    def __repr__(self) -> str:
        return f"<SandboxClient {self.base_url} session={self.session!r}>"

    def headers(self) -> dict[str, str]:
        """The headers every control call sends: the session and the admin token."""
        sent = {SESSION_HEADER: self.session, "Accept": "application/json"}
        if self.admin_token:
            sent[ADMIN_HEADER] = self.admin_token
        return sent

    def call(
        self,
        verb: str,
        route: str,
        json: Any = None,
        params: dict[str, str | None] | None = None,
    ) -> Any:
        """One control call: the parsed JSON answer, or :class:`SandboxError`."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self.http.request(
                verb,
                f"{self.base_url}/_sandbox{route}",
                json=json,
                params=query,
                headers=self.headers(),
                timeout=self.timeout,
            )
        except RequestException as exc:
            raise SandboxError("UNREACHABLE", 0, f"{self.base_url}: {exc}") from exc
        if response.status_code >= 400:
            raise SandboxError.from_response(response)
        return response.json() if response.content else None

    def index(self) -> dict[str, Any]:
        """The control plane's index: the session, its clock, its armed rules."""
        return self.call("GET", "")

    def reset(self, seed: int | None = None) -> dict[str, Any]:
        """Put the session back to its fixtures, optionally with a new seed."""
        return self.call("POST", "/reset", {} if seed is None else {"seed": seed})

    def arm_rule(
        self,
        action: str,
        error: str | None = None,
        outcome: str | None = None,
        times: int = 1,
        match: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Arm one rule: ``action`` gets ``error`` (or ``outcome``) ``times`` times."""
        if (error is None) == (outcome is None):
            raise ValueError("arm_rule needs exactly one of error and outcome")
        rule: dict[str, Any] = {"action": action, "times": times}
        rule.update({"error": error} if error is not None else {"outcome": outcome})
        if match:
            rule["match"] = match
        return self.call("POST", "/rules", rule)

    def rules(self) -> list[dict[str, Any]]:
        """The rules now armed in this session."""
        return self.call("GET", "/rules")["rules"]

    def disarm_rules(self) -> int:
        """Disarm every rule of the session; how many were armed."""
        return int(self.call("DELETE", "/rules")["disarmed"])

    def scenarios(self) -> list[dict[str, Any]]:
        """The named scenarios the sandbox knows."""
        return self.call("GET", "/scenarios")["scenarios"]

    def arm_scenario(self, name: str) -> dict[str, Any]:
        """Arm the rules of the named scenario."""
        return self.call("POST", f"/scenarios/{name}")

    def pay(self, order_uid: str, outcome: str = "paid") -> dict[str, Any]:
        """Settle the order's payment (paid, failed, canceled); its secrets after."""
        return self.call("POST", f"/orders/{order_uid}/payment", {"outcome": outcome})

    def order_secrets(self, uid: str) -> dict[str, Any]:
        """What only the sandbox knows of an order: Order token, expiry, barcodes."""
        return self.call("GET", f"/orders/{uid}")

    def clock(self) -> dict[str, Any]:
        """The session clock: its time and whether it is frozen."""
        return self.call("GET", "/clock")

    def advance_clock(self, duration: timedelta | int | str) -> dict[str, Any]:
        """Move the session clock on (``PT31M``, seconds, a timedelta); timers fire."""
        return self.call("POST", "/clock", {"advance": iso_duration(duration)})

    def set_clock(self, now: datetime | str) -> dict[str, Any]:
        """Set the session clock to ``now`` (a datetime or ISO 8601); timers fire."""
        return self.call("POST", "/clock", {"now": iso_datetime(now)})

    def freeze_clock(self, frozen: bool = True) -> dict[str, Any]:
        """Stop the session clock (or, with ``frozen=False``, let it run again)."""
        return self.call("POST", "/clock", {"freeze": frozen})

    def requests(
        self, method: str | None = None, path: str | None = None
    ) -> list[dict[str, Any]]:
        """The journal of API requests this session received, optionally filtered."""
        answer = self.call("GET", "/requests", params={"method": method, "path": path})
        return answer["requests"]

    def clear_requests(self) -> None:
        """Empty this session's journal."""
        self.call("DELETE", "/requests")

    def emails(self) -> list[dict[str, Any]]:
        """The outbox: confirmations with their Order tokens, refund access mails."""
        return self.call("GET", "/emails")["emails"]

    def export_state(self) -> dict[str, Any]:
        """The session's whole state, to import later or elsewhere."""
        return self.call("GET", "/state")

    def import_state(self, state: dict[str, Any]) -> dict[str, Any]:
        """Replace the session's state with an exported one."""
        return self.call("PUT", "/state", state)

    def overrides(
        self,
        stock: dict[str, int] | None = None,
        rate_limits: dict[str, dict[str, int] | None] | None = None,
        order_ttl: str | None = None,
    ) -> dict[str, Any]:
        """Change this session's fixtures: stock by product, rate limits, order TTL."""
        given = {"stock": stock, "rate_limits": rate_limits, "order_ttl": order_ttl}
        payload = {k: v for k, v in given.items() if v is not None}
        return self.call("POST", "/overrides", payload)
