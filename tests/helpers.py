"""Constants of the default fixtures, and small helpers the tests share."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"

# Products of the orders page, with the prices it shows.
WEEKEND = "12365478654238976585643567854323"  # 5.45 + 0.50 service
DAY_PARKING = "456ghtr45tg678fe5rf456yhgbvsw3lh"  # 1.00 + 0.25, combo parent
PARKING = "267arnr45tg984rd5rf456opshwks0ol"  # 1.23, combo child
SHIRT = "f1e2d3c4b5a697887766554433221100"  # 19.99
DRINKS = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"  # 4.35
BACKSTAGE = "c0ffee00c0ffee00c0ffee00c0ffee05"  # 25.00 + 1.00, only 5 left
GROUP = "9a8b7c6d5e4f30211203f4e5d6c7b8a9"  # 40.00, 2 to 4 per order
FREE = "f4ee00f4ee00f4ee00f4ee00f4ee00f4"  # 0.00
VIP = "71b5e0d3c2a1908f7e6d5c4b3a291807"  # needs voucher VIP-ACCESS
JAZZ = "3c4d5e6f708192a3b4c5d6e7f8091a2b"  # another event
STALLS = "5ea7ed005ea7ed005ea7ed005ea7ed00"  # seated, rows A-D
GALA = "9a1a0e9d8c7b6a5f4e3d2c1b0a9f8e7d"  # sale ended
COMEDY = "c0ed1ec0ed1ec0ed1ec0ed1ec0ed1e01"  # partner-b's merchant only

FESTIVAL = "6dd4462cba8b430cb91d73b8a1101593"
JAZZ_EVENT = "a7c3e1f09b2d4c5e8f6a1b2c3d4e5f60"
SEATED_EVENT = "5eaded0c3a5b4f1d9e8c7b6a5f4e3d21"
ENDED_EVENT = "e4d0e9a1c2b3d4e5f6a7b8c9d0e1f2a3"

IDEAL = "ghr57d5h3gd162fb35c5a3db57ghrydg"  # 1.00
CREDITCARD = "c7ed17ca7dc7ed17ca7dc7ed17ca7d01"  # 1.50
ETICKET = "87a5quvndhe162fb357alt872705zr2j"  # 0.50
POSTAL = "d0c5e1f2a3b4c5d6e7f8091a2b3c4d5e"  # 4.95

SEED_PENDING = "c3a1e5d7f9b24680a1c3e5d7f9b24680"
SEED_FAILED = "0de86b2cbb674529a681b8e3fe99f1f7"
SEED_COMPLETED = "87a2195h3gd162fb35c5a3dbd7bapo1l"
SEED_TICKETS = ("a2e37ee17474417a87259b02b674da9a", "12365478654238976585643567854323")
SEED_BASKET = "d2e37ee17474417a87259b02b674da9b"


def basic(key: str = "partner", secret: str | None = None) -> dict[str, str]:
    secret = secret or f"{key}-secret"
    token = base64.b64encode(f"{key}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


PARTNER = basic("partner")
PARTNER_B = basic("partner-b")
MERCHANT = basic("merchant")
GUEST = basic("guest")
BEARER = {"Authorization": "Bearer bearer-frontend"}


def consumer(n: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "email": f"ci.buyer.{n}@example.com",
        "first_name": "Testa",
        "last_name": "Koper",
        "country": "NL",
        **extra,
    }


def order_body(
    *selections: tuple[str, int], n: int = 1, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "products": [{"product": uid, "quantity": q} for uid, q in selections],
        "consumer": consumer(n),
        "payment_method": IDEAL,
    }
    body.update(extra)
    return body


def page_example() -> dict[str, Any]:
    """The orders page's first example, verbatim."""
    return json.loads((DATA / "page_order_example.json").read_text())


def page_example_text() -> str:
    return (DATA / "page_order_example.json").read_text()


def amount(value: Any) -> Decimal:
    """An Amount's value as Decimal, whether it came as a number or a string."""
    return Decimal(str(value["amount"]))
