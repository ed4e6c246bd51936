"""Load the fixture files into a :class:`Catalogue`, with faker filling names.

The default fixtures ship inside the package (``sandbox/fixtures`` once
installed, the repository's ``fixtures/`` folder in a checkout). A folder given
with ``SANDBOX_FIXTURES`` or ``--fixtures`` extends them: an entry with the
uid or key of a default one replaces it, a new one is added.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from faker import Faker

from sandbox import schemas
from sandbox.domain.catalogue import (
    Application,
    Catalogue,
    Event,
    Merchant,
    PaymentMethod,
    Product,
    RateLimit,
    Row,
    ShippingMethod,
    TenMerRule,
    Upsell,
    Voucher,
    i18n,
)
from sandbox.timeutil import resolve_time

PACKAGE = Path(__file__).resolve().parent

# How entries of each list section are identified when files are merged.
_KEYS = {
    "applications": "key",
    "cognito_users": "token",
    "events": "uid",
    "products": "uid",
    "payment_methods": "uid",
    "shipping_methods": "uid",
    "merchants": "key",
    "vouchers": "code",
    "upsell": "event",
    "orders": "uid",
    "baskets": "uid",
    "ten_mer": None,
}
_DICTS = ("captcha", "platform", "settings")


class FixtureError(Exception):
    """A fixture file that cannot be used; names the file and the place."""

    def __init__(self, file: str, path: str, message: str) -> None:
        super().__init__(f"{file}: {path}: {message}")
        self.file, self.path, self.message = file, path, message


def data_dir(name: str) -> Path:
    """The packaged folder ``name`` (fixtures or scenarios)."""
    installed = PACKAGE / name
    return installed if installed.is_dir() else PACKAGE.parent / name


def read_files(folders: list[Path]) -> dict[str, Any]:
    """Every ``*.json`` of the folders, merged in order, each one validated.

    Except the packaged defaults: the test suite validates those, and sparing
    the import of jsonschema keeps the start fast.
    """
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for folder in folders:
        if not folder.is_dir():
            raise FixtureError(str(folder), "$", "is not a folder")
        check = folder != data_dir("fixtures")
        for path in sorted(folder.glob("*.json")):
            _merge(merged, _read(path, check), origin, str(path))
    merged["_origin"] = origin
    return merged


def _read(path: Path, check: bool = True) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise FixtureError(str(path), "$", f"cannot be read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise FixtureError(
            str(path),
            "$",
            f"is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
        ) from None
    if not check:
        return data  # type: ignore[no-any-return]
    errors = sorted(
        schemas.validator("fixtures").iter_errors(data), key=lambda e: list(e.path)
    )
    if errors:
        first = errors[0]
        raise FixtureError(str(path), schemas.json_path(first.path), first.message)
    return data  # type: ignore[no-any-return]


def _merge(
    merged: dict[str, Any], data: dict[str, Any], origin: dict[str, str], file: str
) -> None:
    for section, value in data.items():
        origin.setdefault(section, file)
        if section in _DICTS:
            merged.setdefault(section, {}).update(value)
            continue
        key = _KEYS[section]
        entries = merged.setdefault(section, [])
        for entry in value:
            if key is not None:
                entries[:] = [e for e in entries if e.get(key) != entry[key]]
                origin[f"{section}[{entry[key]}]"] = file
            entries.append(entry)


class _Filler:
    """Replaces ``faker:<provider>`` strings with seeded fake data."""

    def __init__(self, seed: int) -> None:
        self.fake = Faker("en_US")
        self.fake.seed_instance(seed)

    def fill(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith("faker:"):
            return str(getattr(self.fake, value[len("faker:") :])())
        if isinstance(value, dict):
            return {k: self.fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        return value


def load_catalogue(folders: list[Path] | None, seed: int, now: datetime) -> Catalogue:
    """The catalogue of the default fixtures extended by ``folders``."""
    data = read_files([data_dir("fixtures"), *(folders or [])])
    return build_catalogue(data, seed, now)


def build_catalogue(data: dict[str, Any], seed: int, now: datetime) -> Catalogue:
    filler = _Filler(seed)
    origin = data.get("_origin", {})
    cat = Catalogue()
    _build_merchants(cat, data, filler)
    _build_events(cat, data, filler, now)
    _build_products(cat, data)
    _build_methods(cat, data)
    _build_applications(cat, data)
    _build_rules(cat, data)
    cat.seed_orders = tuple(data.get("orders", ()))
    cat.seed_baskets = tuple(data.get("baskets", ()))
    cat.settings = {"order_ttl_seconds": 1800, "journal_size": 500}
    cat.settings.update(data.get("settings", {}))
    _check_references(cat, origin)
    return cat


def _build_merchants(cat: Catalogue, data: dict[str, Any], filler: _Filler) -> None:
    for m in data.get("merchants", ()):
        cat.merchants[m["key"]] = Merchant(
            key=m["key"],
            name=m["name"],
            customer_service=dict(m.get("customer_service", {})),
            legal_info=filler.fill(m.get("legal_info", {})),
        )
    cat.platform = filler.fill(data.get("platform", {}))


def _build_events(
    cat: Catalogue, data: dict[str, Any], filler: _Filler, now: datetime
) -> None:
    for number, e in enumerate(data.get("events", ()), start=1):
        location = dict(e.get("location", {}))
        location.setdefault("address", filler.fake.street_address())
        location.setdefault("postal_code", filler.fake.postcode())
        location.setdefault("city", filler.fake.city())
        rows = tuple(
            Row(r["name"], r["seats"], frozenset(r.get("sold", ())))
            for r in e.get("seating", {}).get("rows", ())
        )
        cat.events[e["uid"]] = Event(
            uid=e["uid"],
            reference=e.get("reference", str(1000 + number)),
            merchant=e["merchant"],
            title=i18n(e["title"]),
            subtitle=i18n(e.get("subtitle")),
            description=i18n(e.get("description")),
            sale_start=resolve_time(e["sale_start"], now),
            sale_end=resolve_time(e["sale_end"], now),
            event_start=resolve_time(e["event_start"], now),
            event_end=resolve_time(e["event_end"], now),
            location=location,
            image=e.get("image", ""),
            min_quantity_per_order=e.get("min_quantity_per_order", 1),
            max_quantity_per_order=e.get("max_quantity_per_order", 50),
            refundable=e.get("refundable", False),
            rows=rows,
            artists=i18n(e.get("artists")),
        )


def _build_products(cat: Catalogue, data: dict[str, Any]) -> None:
    raw = list(data.get("products", ()))
    parents: dict[str, list[str]] = {}
    for p in raw:
        for child in p.get("combo", ()):
            parents.setdefault(child, []).append(p["uid"])
    for number, p in enumerate(raw, start=1):
        cat.products[p["uid"]] = Product(
            uid=p["uid"],
            reference=p.get("reference", str(number)),
            event=p["event"],
            name=i18n(p["name"]),
            subtitle=i18n(p.get("subtitle")),
            price=Decimal(p["price"]),
            service_costs=Decimal(p.get("service_costs", "0")),
            availability=p.get("availability", 1000),
            min_per_order=p.get("min_per_order"),
            max_per_order=p.get("max_per_order"),
            separately_saleable=p.get("separately_saleable", True),
            combo=tuple(p.get("combo", ())),
            parents=tuple(parents.get(p["uid"], ())),
            viewing_order=p.get("viewing_order", number),
            types=tuple(p.get("types", ())),
            requires_voucher=p.get("requires_voucher"),
            seated=p.get("seated", False),
        )


def _build_methods(cat: Catalogue, data: dict[str, Any]) -> None:
    for m in data.get("payment_methods", ()):
        cat.payment_methods[m["uid"]] = PaymentMethod(
            uid=m["uid"],
            name=i18n(m["name"]),
            image=m.get("image", ""),
            costs=Decimal(m["costs"]),
            required_consumer_fields=tuple(m.get("required_consumer_fields", ())),
        )
    for m in data.get("shipping_methods", ()):
        cat.shipping_methods[m["uid"]] = ShippingMethod(
            uid=m["uid"], name=i18n(m["name"]), costs=Decimal(m["costs"])
        )


def _build_applications(cat: Catalogue, data: dict[str, Any]) -> None:
    for a in data.get("applications", ()):
        limit = a.get("rate_limit")
        cat.applications[a["key"]] = Application(
            key=a["key"],
            name=a["name"],
            merchant=a["merchant"],
            secret=a.get("secret"),
            bearer_token=a.get("bearer_token"),
            permissions=frozenset(a.get("permissions", ())),
            roles=frozenset(a.get("roles", ())),
            events=frozenset(a.get("events", ())),
            redirect_url=a.get("redirect_url"),
            captcha_domains=frozenset(a.get("captcha_domains", ())),
            order_access=frozenset(a.get("order_access", ())),
            rate_limit=RateLimit(limit["orders"], limit["window_seconds"])
            if limit
            else None,
        )
    cat.cognito_users = {u["token"]: u["user"] for u in data.get("cognito_users", ())}
    captcha = data.get("captcha", {})
    cat.captcha_tokens = dict(captcha.get("tokens", {}))
    cat.captcha_provider = captcha.get("provider", "recaptcha")
    cat.captcha_public_key = captcha.get("public_key", "")


def _build_rules(cat: Catalogue, data: dict[str, Any]) -> None:
    for v in data.get("vouchers", ()):
        cat.vouchers[v["code"].upper()] = Voucher(
            code=v["code"],
            event=v["event"],
            discount_percentage=Decimal(v.get("discount_percentage", "0")),
            description=v.get("description", ""),
        )
    cat.ten_mer = tuple(
        TenMerRule(r["event"], r["email_domain"], r.get("description", ""))
        for r in data.get("ten_mer", ())
    )
    for u in data.get("upsell", ()):
        upsell = Upsell(
            event=u["event"],
            sale=u["sale"],
            shop_url=u.get("shop_url", ""),
            show_images=u.get("show_images", False),
            products=tuple(u["products"]),
        )
        cat.upsell[u["event"]] = upsell
        cat.sales[u["sale"]] = upsell


def _check_references(cat: Catalogue, origin: dict[str, str]) -> None:
    """Every uid a fixture names must exist; the error says where it is."""

    def need(section: str, path: str, uid: str, table: dict[str, Any]) -> None:
        if uid not in table:
            # The file that gave this entry last, e.g. "products[<uid>]".
            entry = path[2:].split("]")[0] + "]"
            file = origin.get(entry, origin.get(section, section))
            raise FixtureError(file, path, f"unknown {uid!r}")

    for p in cat.products.values():
        need("products", f"$.products[{p.uid}].event", p.event, cat.events)
        for child in p.combo:
            need("products", f"$.products[{p.uid}].combo", child, cat.products)
    for e in cat.events.values():
        need("events", f"$.events[{e.uid}].merchant", e.merchant, cat.merchants)
    for a in cat.applications.values():
        need(
            "applications",
            f"$.applications[{a.key}].merchant",
            a.merchant,
            cat.merchants,
        )
        for uid in a.events:
            need("applications", f"$.applications[{a.key}].events", uid, cat.events)
        for key in a.order_access:
            need(
                "applications",
                f"$.applications[{a.key}].order_access",
                key,
                cat.applications,
            )
    for v in cat.vouchers.values():
        need("vouchers", f"$.vouchers[{v.code}].event", v.event, cat.events)
    for u in cat.upsell.values():
        need("upsell", f"$.upsell[{u.event}].event", u.event, cat.events)
        for uid in u.products:
            need("upsell", f"$.upsell[{u.event}].products", uid, cat.products)
    for order in (*cat.seed_orders, *cat.seed_baskets):
        need(
            "orders",
            f"$.orders[{order['uid']}].application",
            order["application"],
            cat.applications,
        )
