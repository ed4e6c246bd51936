"""A small partner integration of the Paylogic Shopping Service API.

It is what a partner writes: it knows the API, not the sandbox. Its tests in
``examples/tests`` run it against the sandbox through the ``sandbox`` fixture.
"""

from partner_shop.shop import ShopError, TicketShop, follow_payment_link

__all__ = ["ShopError", "TicketShop", "follow_payment_link"]
