"""What the fixtures define: applications, events, products and methods.

These objects are shared, read-only, by every session; what changes per
session (stock, seats, orders) lives in :mod:`sandbox.domain.shop`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

LANGUAGES = ("en", "nl", "de", "fr", "es", "pt", "tr", "ru")


def i18n(value: dict[str, str] | str | None) -> dict[str, str]:
    """A translated string with every language key, untranslated ones empty."""
    if isinstance(value, str):
        value = {"en": value}
    value = value or {}
    return {lang: value.get(lang, "") for lang in LANGUAGES}


@dataclass(frozen=True, slots=True)
class RateLimit:
    orders: int
    window_seconds: int


@dataclass(frozen=True, slots=True)
class Application:
    key: str
    name: str
    merchant: str
    secret: str | None = None
    bearer_token: str | None = None
    permissions: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    events: frozenset[str] = frozenset()
    redirect_url: str | None = None
    captcha_domains: frozenset[str] = frozenset()
    rate_limit: RateLimit | None = None
    # Other applications whose orders this one may access, e.g. a partner's
    # own front-end application.
    order_access: frozenset[str] = frozenset()

    def may(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def is_merchant(self) -> bool:
        return "merchant" in self.roles


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    seats: int
    sold: frozenset[int]


@dataclass(frozen=True, slots=True)
class Event:
    uid: str
    reference: str
    merchant: str
    title: dict[str, str]
    subtitle: dict[str, str]
    description: dict[str, str]
    sale_start: datetime
    sale_end: datetime
    event_start: datetime
    event_end: datetime
    location: dict[str, str]
    image: str
    min_quantity_per_order: int
    max_quantity_per_order: int
    refundable: bool
    rows: tuple[Row, ...] = ()
    artists: dict[str, str] = field(default_factory=dict)

    @property
    def seated(self) -> bool:
        return bool(self.rows)

    def on_sale(self, now: datetime) -> bool:
        return self.sale_start <= now <= self.sale_end


@dataclass(frozen=True, slots=True)
class Product:
    uid: str
    reference: str
    event: str
    name: dict[str, str]
    subtitle: dict[str, str]
    price: Decimal
    service_costs: Decimal
    availability: int
    min_per_order: int | None
    max_per_order: int | None
    separately_saleable: bool
    combo: tuple[str, ...]
    parents: tuple[str, ...]
    viewing_order: int
    types: tuple[str, ...]
    requires_voucher: str | None
    seated: bool

    @property
    def free(self) -> bool:
        return self.price == 0 and self.service_costs == 0


@dataclass(frozen=True, slots=True)
class PaymentMethod:
    uid: str
    name: dict[str, str]
    image: str
    costs: Decimal
    required_consumer_fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ShippingMethod:
    uid: str
    name: dict[str, str]
    costs: Decimal


@dataclass(frozen=True, slots=True)
class Merchant:
    key: str
    name: str
    customer_service: dict[str, str]
    legal_info: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Voucher:
    code: str
    event: str
    discount_percentage: Decimal
    description: str


@dataclass(frozen=True, slots=True)
class TenMerRule:
    event: str
    email_domain: str
    description: str

    def blocks(self, event: str, email: str) -> bool:
        domain = email.rpartition("@")[2].lower()
        return event == self.event and domain == self.email_domain.lower()


@dataclass(frozen=True, slots=True)
class Upsell:
    event: str
    sale: str
    shop_url: str
    show_images: bool
    products: tuple[str, ...]


@dataclass(slots=True)
class Catalogue:
    """Everything the fixtures define, indexed by uid or key."""

    applications: dict[str, Application] = field(default_factory=dict)
    cognito_users: dict[str, str] = field(default_factory=dict)
    captcha_tokens: dict[str, str] = field(default_factory=dict)
    captcha_provider: str = "recaptcha"
    captcha_public_key: str = ""
    events: dict[str, Event] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    payment_methods: dict[str, PaymentMethod] = field(default_factory=dict)
    shipping_methods: dict[str, ShippingMethod] = field(default_factory=dict)
    merchants: dict[str, Merchant] = field(default_factory=dict)
    platform: dict[str, Any] = field(default_factory=dict)
    vouchers: dict[str, Voucher] = field(default_factory=dict)
    ten_mer: tuple[TenMerRule, ...] = ()
    upsell: dict[str, Upsell] = field(default_factory=dict)
    sales: dict[str, Upsell] = field(default_factory=dict)
    seed_orders: tuple[dict[str, Any], ...] = ()
    seed_baskets: tuple[dict[str, Any], ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)

    def products_of(self, event: str) -> list[Product]:
        found = [p for p in self.products.values() if p.event == event]
        return sorted(found, key=lambda p: (p.viewing_order, p.uid))

    def application_by_basic(self, key: str, secret: str) -> Application | None:
        app = self.applications.get(key)
        if app is None or app.secret is None or app.secret != secret:
            return None
        return app

    def application_by_bearer(self, token: str) -> Application | None:
        for app in self.applications.values():
            if app.bearer_token is not None and app.bearer_token == token:
                return app
        return None

    def application_by_channel(self, uid: str) -> Application | None:
        """The application whose online sales channel ``uid`` is."""
        for app in self.applications.values():
            if channel_uid(app.key) == uid:
                return app
        return None


def channel_uid(app_key: str) -> str:
    """The uid of an application's online sales channel: stable, from its key."""
    return hashlib.md5(app_key.encode(), usedforsecurity=False).hexdigest()
