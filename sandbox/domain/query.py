"""Indexes over a session's orders so that a filtered page stays cheap.

Orders are numbered in creation order (``seq``), which is the upstream sort
order ("ordered by Order ID, lowest first") and unique, so paging is stable
even when orders share a timestamp. Each index keeps sorted lists of seqs;
a query starts from the smallest candidate lists and only scans when a
filter cannot be answered by an index.
"""

from __future__ import annotations

import heapq
import itertools
import operator
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sandbox.domain.model import Order

STATUSES = ("pending", "completed", "canceled")
COMPARE = {"lt": operator.lt, "lte": operator.le, "gt": operator.gt, "gte": operator.ge}


@dataclass(slots=True)
class OrderQuery:
    """The filters of ``GET /orders``, already parsed and checked."""

    events: frozenset[str] | None = None
    statuses: frozenset[str] = frozenset(STATUSES)
    external_reference: str | None = None
    created_after: list[tuple[str, datetime]] = field(default_factory=list)
    # Visibility: orders of these applications, or of these merchants' events
    # (for merchant-role applications), or of one Cognito user.
    applications: frozenset[str] | None = None
    merchant_events: frozenset[str] | None = None
    cognito_user: str | None = None


class _Sorted:
    """A sorted list of seqs with insert and remove."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[int] = []

    def add(self, seq: int) -> None:
        if not self.items or self.items[-1] < seq:
            self.items.append(seq)
        else:
            insort(self.items, seq)

    def remove(self, seq: int) -> None:
        index = bisect_left(self.items, seq)
        if index < len(self.items) and self.items[index] == seq:
            del self.items[index]


class OrderIndex:
    """All orders of a session by seq, with indexes for the list filters."""

    def __init__(self) -> None:
        self.by_seq: dict[int, Order] = {}
        self._by_app_event_status: dict[tuple[str, str, str], _Sorted] = {}
        self._by_reference: dict[str, _Sorted] = {}
        self._by_user: dict[str, _Sorted] = {}

    def add(self, order: Order) -> None:
        self.by_seq[order.seq] = order
        self._list(self._by_app_event_status, self._key(order)).add(order.seq)
        if order.external_reference is not None:
            self._list(self._by_reference, order.external_reference).add(order.seq)
        if order.cognito_user is not None:
            self._list(self._by_user, order.cognito_user).add(order.seq)

    def status_changed(self, order: Order, old: str) -> None:
        key = (order.application, order.event, old)
        self._list(self._by_app_event_status, key).remove(order.seq)
        self._list(self._by_app_event_status, self._key(order)).add(order.seq)

    def page(
        self, query: OrderQuery, offset: int, size: int
    ) -> tuple[int, list[Order]]:
        """The number of matching orders, and ``size`` of them from ``offset``."""
        lists, residual = self._plan(query)
        if residual is None:
            total = sum(len(items) for items in lists)
            chosen = itertools.islice(self._merged(lists), offset, offset + size)
            return total, [self.by_seq[seq] for seq in chosen]
        matching = [seq for seq in self._merged(lists) if residual(self.by_seq[seq])]
        return len(matching), [self.by_seq[s] for s in matching[offset : offset + size]]

    def _plan(
        self, query: OrderQuery
    ) -> tuple[list[list[int]], Callable[[Order], bool] | None]:
        checks: list[Callable[[Order], bool]] = []
        if query.external_reference is not None or query.cognito_user is not None:
            if query.external_reference is not None:
                base = self._by_reference.get(query.external_reference)
                if query.cognito_user is not None:
                    checks.append(lambda o: o.cognito_user == query.cognito_user)
            else:
                base = self._by_user.get(query.cognito_user or "")
            lists = [base.items] if base else []
            checks.extend(self._index_checks(query))
        else:
            lists = [
                items.items
                for key, items in self._by_app_event_status.items()
                if items.items and self._key_matches(key, query)
            ]
        for op, moment in query.created_after:
            checks.append(_created_check(op, moment))
        if not checks:
            return lists, None
        return lists, lambda order: all(check(order) for check in checks)

    def _index_checks(self, query: OrderQuery) -> list[Callable[[Order], bool]]:
        return [lambda o: self._key_matches(self._key(o), query)]

    @staticmethod
    def _key_matches(key: tuple[str, str, str], query: OrderQuery) -> bool:
        application, event, status = key
        if status not in query.statuses:
            return False
        if query.events is not None and event not in query.events:
            return False
        by_app = query.applications is not None and application in query.applications
        by_merchant = (
            query.merchant_events is not None and event in query.merchant_events
        )
        if query.applications is None and query.merchant_events is None:
            return True
        return by_app or by_merchant

    @staticmethod
    def _key(order: Order) -> tuple[str, str, str]:
        return (order.application, order.event, order.status)

    @staticmethod
    def _list(table: dict, key: object) -> _Sorted:  # type: ignore[type-arg]
        found = table.get(key)
        if found is None:
            found = table[key] = _Sorted()
        return found  # type: ignore[no-any-return]

    @staticmethod
    def _merged(lists: list[list[int]]) -> Iterable[int]:
        return (
            heapq.merge(*lists) if len(lists) > 1 else iter(lists[0] if lists else [])
        )

    def __iter__(self) -> Iterator[Order]:
        return iter(self.by_seq.values())

    def __len__(self) -> int:
        return len(self.by_seq)


def _created_check(op: str, moment: datetime) -> Callable[[Order], bool]:
    compare = COMPARE[op]
    return lambda order: compare(order.created, moment)
