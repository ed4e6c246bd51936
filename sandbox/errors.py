"""One exception class per upstream error code, each carrying its HTTP status.

The codes and statuses come from the error table of the orders page; the few
that upstream does not name (401, 405, 413, 415, 500) use the plain HTTP
meaning. A single handler in :mod:`sandbox.web.app` renders them all.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answered to the client as the JSON error envelope."""

    type = "BAD_REQUEST"
    status = 400
    default_message = "Bad request."

    def __init__(
        self,
        message: str | None = None,
        errors: list[dict[str, str]] | None = None,
        **extra: Any,
    ) -> None:
        self.message = message or self.default_message
        self.errors = errors or []
        self.extra = extra
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


ERRORS: dict[str, type[ApiError]] = {}


def _error(code: str, status: int, message: str) -> type[ApiError]:
    """Declare the error class of one upstream code."""
    name = "".join(part.capitalize() for part in code.split("_"))
    if name[0].isdigit():
        name = "Code" + name
    cls = type(
        name,
        (ApiError,),
        {
            "type": code,
            "status": status,
            "default_message": message,
        },
    )
    ERRORS[code] = cls
    return cls


# The orders page's table, plus the statuses the design adds.
BadRequest = _error("BAD_REQUEST", 400, "Bad request.")
Unauthorized = _error("UNAUTHORIZED", 401, "Missing or invalid credentials.")
Forbidden = _error("FORBIDDEN", 403, "Forbidden.")
NotFound = _error("NOT_FOUND", 404, "Not found.")
MethodNotAllowed = _error("METHOD_NOT_ALLOWED", 405, "Method not allowed.")
RequestEntityTooLarge = _error(
    "REQUEST_ENTITY_TOO_LARGE", 413, "The request body is larger than allowed."
)
UnsupportedMediaType = _error(
    "UNSUPPORTED_MEDIA_TYPE",
    415,
    "The request body must be JSON, sent as Content-Type: application/json.",
)
InternalServerError = _error(
    "INTERNAL_SERVER_ERROR", 500, "The sandbox failed; the log has the traceback."
)
PaymentMethodMissing = _error(
    "PAYMENT_METHOD_MISSING",
    400,
    "A payment method is needed for the creation of an order.",
)
EmptyBasket = _error(
    "EMPTY_BASKET", 400, "You are trying to create an order with no products."
)
ConsumerMissing = _error(
    "CONSUMER_MISSING", 400, "Not all necessary consumer data was provided."
)
ConstraintViolation = _error("CONSTRAINT_VIOLATION", 400, "Constraint violation.")
NoTicketsOrProductsProvided = _error(
    "NO_TICKETS_OR_PRODUCTS_PROVIDED", 400, "No tickets or products provided."
)
BothTicketsAndProductsProvided = _error(
    "BOTH_TICKETS_AND_PRODUCTS_PROVIDED",
    400,
    "Both tickets and products provided, while only one or the other is allowed.",
)
TicketError = _error(
    "TICKET_ERROR", 400, "Ticket or transfer approval is not in a valid state."
)
TicketNotAvailable = _error(
    "TICKET_NOT_AVAILABLE", 400, "Provided ticket is not valid or not found."
)
NoConsumerUriOrInfoProvided = _error(
    "NO_CONSUMER_URI_OR_INFO_PROVIDED",
    400,
    "Provided consumer information is not valid, or a consumer is not found.",
)
TicketConsumerError = _error(
    "TICKET_CONSUMER_ERROR", 400, "Ticket consumer information is not valid."
)
InsufficientConsecutiveSeats = _error(
    "INSUFFICIENT_CONSECUTIVE_SEATS",
    409,
    "There are not enough seats available in the same row. "
    "The order has been cancelled.",
)
VoucherInvalid = _error("VOUCHER_INVALID", 400, "Voucher code is invalid.")
CaptchaInvalid = _error("CAPTCHA_INVALID", 403, "Captcha token is invalid.")
CaptchaRateLimitReached = _error(
    "CAPTCHA_RATE_LIMIT_REACHED",
    400,
    "Order creation rate limit has been exceeded, please resolve captcha.",
)
CaptchaInvalidDomain = _error(
    "CAPTCHA_INVALID_DOMAIN",
    403,
    "Captcha token is resolved for the domain that is not allowed by the application.",
)
TenMer = _error(
    "10MER",
    403,
    "With this combination of data, it is not possible to buy tickets for this "
    "event. Please contact the Paylogic Customer Service (please supply calling "
    "code: 10MER)",
)
OrderCannotBeModified = _error(
    "ORDER_CANNOT_BE_MODIFIED",
    400,
    "Order is either not in the COMPLETED state or not personalized.",
)


def error_for(code: str) -> type[ApiError]:
    """The error class of an upstream code; KeyError for an unknown one."""
    return ERRORS[code]


class ForcedCrash(RuntimeError):
    """A crash asked for through the control plane, to try the 500 path."""


def raise_forced(code: str) -> None:
    """Raise what a rule or ``Sandbox-Force`` asked for, as the real one would be."""
    if code == "INTERNAL_SERVER_ERROR":
        raise ForcedCrash("a crash forced through the control plane")
    raise error_for(code)()
