"""A session's clock: real time, moved by an offset, or frozen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sandbox.timeutil import utcnow

# The range a session clock may be moved within: far enough for any test,
# near enough that no timestamp, expiry or window can overflow a datetime.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)
# A clock is set no later than this, so that a running one stays within
# LATEST for a year (and its export still imports).
LATEST_SET = datetime(2999, 1, 1, tzinfo=UTC)


def check_moment(moment: datetime) -> datetime:
    """``moment`` if a session clock may show it; ValueError otherwise."""
    if not EARLIEST <= moment <= LATEST_SET:
        raise ValueError(
            f"the session clock is set between {EARLIEST:%Y-%m-%d} and "
            f"{LATEST_SET:%Y-%m-%d}"
        )
    return moment


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

    def copy(self) -> Clock:
        twin = Clock()
        twin.offset, twin.frozen_at = self.offset, self.frozen_at
        return twin

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta():
            raise ValueError("the clock only moves forward with 'advance'")
        if delta > LATEST - EARLIEST:
            raise ValueError("that is further than the session clock can go")
        self.set(self.now() + delta)

    def set(self, moment: datetime) -> None:
        moment = check_moment(moment.replace(microsecond=0))
        if self.frozen_at is not None:
            self.frozen_at = moment
        else:
            self.offset = moment - utcnow()

    def freeze(self, frozen: bool) -> None:
        if frozen and self.frozen_at is None:
            self.frozen_at = self.now()
        elif not frozen and self.frozen_at is not None:
            self.offset = self.frozen_at - utcnow()
            self.frozen_at = None
