"""Who is calling, and what the orders page lets them do with an order."""

from __future__ import annotations

from dataclasses import dataclass

from sandbox import errors
from sandbox.domain.catalogue import Application, Catalogue
from sandbox.domain.model import Order


@dataclass(frozen=True, slots=True)
class Principal:
    """The credentials of one request, already checked against the fixtures."""

    app: Application | None = None
    via: str | None = None  # "basic" or "bearer"
    cognito_user: str | None = None
    order_token: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.app is None and self.cognito_user is None and not self.order_token

    @property
    def basic(self) -> bool:
        return self.via == "basic"

    def require_app(self) -> Application:
        """Basic or Bearer must be present."""
        if self.app is None:
            raise errors.Unauthorized(
                "This call needs Basic or Bearer authentication of an application."
            )
        return self.app

    def require_permission(self, permission: str) -> Application:
        app = self.require_app()
        if not app.may(permission):
            raise errors.Forbidden(
                f"The application {app.key!r} lacks the {permission!r} permission."
            )
        return app


def app_may_access(
    app: Application, order: Order, cat: Catalogue, bearer: bool
) -> bool:
    """Basic: the application's own orders, those of the applications it has
    access to (its front end), or its merchant's for a merchant role.

    Bearer: only the orders the front-end application created.
    """
    if order.application == app.key:
        return True
    if bearer:
        return False
    if order.application in app.order_access:
        return True
    event = cat.events.get(order.event)
    return app.is_merchant and event is not None and event.merchant == app.merchant


def token_may_access(principal: Principal, order: Order) -> bool:
    """An Order token of this order, or the Cognito user who created it."""
    if principal.order_token and principal.order_token == order.order_token:
        return True
    return principal.cognito_user is not None and (
        principal.cognito_user == order.cognito_user
    )


def may_read(principal: Principal, order: Order, cat: Catalogue) -> bool:
    if token_may_access(principal, order):
        return True
    app = principal.app
    if app is None or not app.may("orders.read"):
        return False
    return app_may_access(app, order, cat, bearer=principal.via == "bearer")


def check_read(principal: Principal, order: Order, cat: Catalogue) -> None:
    if principal.anonymous:
        raise errors.Unauthorized("Reading an order needs credentials.")
    if not may_read(principal, order, cat):
        raise errors.Forbidden("These credentials give no access to this order.")
