"""Sessions: isolated worlds, each with its shop, clock, rules and journal.

``Sandbox-Session: <name>`` picks one; it is built from the fixtures on first
use. One re-entrant lock per session serialises its requests, which is what
makes stock, seats and rules atomic. Sessions are bounded in number and
evicted when idle (never ``default``), so memory stays bounded.
"""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict, deque
from typing import Any

from sandbox.domain.access import Principal
from sandbox.domain.catalogue import Catalogue
from sandbox.domain.clock import Clock
from sandbox.domain.rules import Rule, RuleBook
from sandbox.domain.shop import Shop
from sandbox.domain.validation import resolve

DEFAULT = "default"


class Session:
    """One isolated world of the sandbox."""

    def __init__(
        self, name: str, cat: Catalogue, seed: int, order_ttl: int, journal_size: int
    ) -> None:
        self.name = name
        self.cat = cat
        self.lock = threading.RLock()
        self.order_ttl = order_ttl
        self.journal_size = journal_size
        self.last_used = time.monotonic()
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        """Back to the fixtures: same seed, same uids and names."""
        if seed is not None:
            self.seed = seed
        self.rng = random.Random(self.seed)
        self.clock = Clock()
        self.shop = Shop(
            self.cat, self.rng, self.seed + 7919, self.clock.now, self.order_ttl
        )
        self.rules = RuleBook()
        self.journal: deque[dict[str, Any]] = deque(maxlen=self.journal_size)
        self.scenarios: list[str] = []
        seed_fixtures(self.shop, self.cat)

    def now(self) -> Any:
        return self.clock.now()

    def take_rule(self, action: str, fields: dict[str, Any]) -> Rule | None:
        return self.rules.take(action, fields, self.clock.now())


def seed_fixtures(shop: Shop, cat: Catalogue) -> None:
    """Place the fixtures' orders and baskets through the shop's own rules."""
    for spec in cat.seed_orders:
        app = cat.applications[spec["application"]]
        payload = _payload(shop, spec)
        draft = resolve(payload, cat, app, shop.now())
        fixed: dict[str, str] = {
            k: spec[k] for k in ("uid", "reference", "order_token") if k in spec
        }
        order = shop.place(draft, Principal(app=app, via="basic"), fixed=fixed)
        if spec.get("payment"):
            shop.pay(order, spec["payment"])
        for ticket, uid in zip(
            list(order.tickets), spec.get("tickets", ()), strict=False
        ):
            del shop.tickets[ticket.uid]
            ticket.uid = uid
            shop.tickets[uid] = ticket
    for spec in cat.seed_baskets:
        shop.new_basket(spec["application"], _payload(shop, spec), uid=spec["uid"])
    shop.rate_log.clear()


def _payload(shop: Shop, spec: dict[str, Any]) -> dict[str, Any]:
    payload = {
        k: v
        for k, v in spec.items()
        if k
        not in ("uid", "reference", "order_token", "application", "payment", "tickets")
    }
    if payload.get("consumer") == "faker":
        payload["consumer"] = shop.fake_consumer().to_dict()
    return payload


class SessionRegistry:
    """All sessions of the process, least recently used first."""

    def __init__(
        self,
        cat: Catalogue,
        seed: int,
        order_ttl: int,
        journal_size: int,
        max_sessions: int,
        idle_seconds: int,
    ) -> None:
        self.cat = cat
        self.seed = seed
        self.order_ttl = order_ttl
        self.journal_size = journal_size
        self.max_sessions = max_sessions
        self.idle_seconds = idle_seconds
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, name: str, create: bool = True) -> Session:
        """The session ``name``; a new one is kept only when ``create`` allows.

        A request that is refused anyway (no valid credentials) gets a
        throwaway session, so that it never evicts someone else's.
        """
        with self._lock:
            session = self._sessions.get(name)
            if session is None and not create and name != DEFAULT:
                return Session(
                    name, self.cat, self.seed, self.order_ttl, self.journal_size
                )
            if session is None:
                self._evict()
                session = Session(
                    name, self.cat, self.seed, self.order_ttl, self.journal_size
                )
                self._sessions[name] = session
            self._sessions.move_to_end(name)
            session.last_used = time.monotonic()
            return session

    def names(self) -> list[str]:
        with self._lock:
            return list(self._sessions)

    def drop(self, name: str) -> bool:
        with self._lock:
            return self._sessions.pop(name, None) is not None

    def _evict(self) -> None:
        cutoff = time.monotonic() - self.idle_seconds
        for name, session in list(self._sessions.items()):
            if name != DEFAULT and session.last_used < cutoff:
                del self._sessions[name]
        while len(self._sessions) >= self.max_sessions:
            victim = next((n for n in self._sessions if n != DEFAULT), None)
            if victim is None:
                break
            del self._sessions[victim]
