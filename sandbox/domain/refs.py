"""References in requests: a full URI on any host, or a bare uid."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# The orders page's own uids are not all hex, so any 32 lowercase letters and
# digits are accepted (design, wire conventions).
UID = re.compile(r"^[a-z0-9]{32}$")


def parse_ref(value: object, *collections: str) -> str | None:
    """The uid that ``value`` names in one of ``collections``, or None.

    ``https://shopping-api.paylogic.com/products/<uid>``, ``/products/<uid>/``
    and ``<uid>`` all name the same product.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if UID.match(text):
        return text
    path = urlsplit(text).path if "://" in text else text
    parts = [part for part in path.split("/") if part]
    if len(parts) >= 2 and parts[-2] in collections and UID.match(parts[-1]):
        return parts[-1]
    return None
