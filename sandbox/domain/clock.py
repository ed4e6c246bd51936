"""A session's clock: real time, moved by an offset, or frozen."""

from __future__ import annotations

from datetime import datetime, timedelta

from sandbox.timeutil import utcnow


class Clock:
    """Every timestamp of a session comes from here."""

    __slots__ = ("offset", "frozen_at", "_last")

    def __init__(self) -> None:
        self.offset = timedelta()
        self.frozen_at: datetime | None = None
        self._last: datetime | None = None

    def now(self) -> datetime:
        if self.frozen_at is not None:
            return self.frozen_at
        now = utcnow() + self.offset
        # Whole seconds: what happens within one second shares one object,
        # which keeps 100,000 orders' timestamps small.
        if now == self._last:
            return self._last
        self._last = now
        return now

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta():
            raise ValueError("the clock only moves forward with 'advance'")
        if self.frozen_at is not None:
            self.frozen_at += delta
        else:
            self.offset += delta

    def set(self, moment: datetime) -> None:
        if self.frozen_at is not None:
            self.frozen_at = moment.replace(microsecond=0)
        else:
            self.offset = moment.replace(microsecond=0) - utcnow()

    def freeze(self, frozen: bool) -> None:
        if frozen and self.frozen_at is None:
            self.frozen_at = self.now()
        elif not frozen and self.frozen_at is not None:
            self.offset = self.frozen_at - utcnow()
            self.frozen_at = None
