"""Seats of a seated event: rows, which seats are taken, and allocation."""

from __future__ import annotations

from sandbox.domain.catalogue import Event

Seat = tuple[str, int]


class SeatMap:
    """The free seats of one event in one session."""

    __slots__ = ("rows", "taken")

    def __init__(self, event: Event) -> None:
        self.rows = [(row.name, row.seats) for row in event.rows]
        self.taken: set[Seat] = {
            (row.name, number) for row in event.rows for number in row.sold
        }

    @property
    def free(self) -> int:
        return sum(seats for _, seats in self.rows) - len(self.taken)

    def allocate(self, quantity: int, consecutive: bool) -> list[Seat] | None:
        """Seats for ``quantity`` people, side by side in one row if asked.

        Returns None when they cannot be found; nothing is taken then.
        """
        if consecutive:
            found = self._run(quantity)
        else:
            found = [seat for seat in self._all() if seat not in self.taken][:quantity]
            found = found if len(found) == quantity else None
        if found:
            self.taken.update(found)
        return found

    def release(self, seats: list[Seat]) -> None:
        self.taken.difference_update(seats)

    def longest_run(self) -> int:
        best = 0
        for name, seats in self.rows:
            run = 0
            for number in range(1, seats + 1):
                run = 0 if (name, number) in self.taken else run + 1
                best = max(best, run)
        return best

    def _all(self) -> list[Seat]:
        return [(name, n) for name, seats in self.rows for n in range(1, seats + 1)]

    def _run(self, quantity: int) -> list[Seat] | None:
        for name, seats in self.rows:
            run: list[Seat] = []
            for number in range(1, seats + 1):
                if (name, number) in self.taken:
                    run = []
                    continue
                run.append((name, number))
                if len(run) == quantity:
                    return run
        return None
