"""The hosted payment page, the e-ticket download and the default return page.

These are what a consumer's browser opens, so they are HTML (or PDF) and
carry the session in the ``sandbox_session`` query parameter, since a
browser sends no ``Sandbox-Session`` header.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, render_template, request

from sandbox import errors, pdf
from sandbox.domain import control
from sandbox.domain.model import Order
from sandbox.web.context import current_session, renderer, sandbox

# The pages live beside the views, in sandbox/web/templates (package data).
bp = Blueprint(
    "checkout", __name__, url_prefix="/_sandbox", template_folder="templates"
)


def _payable(order: Order) -> bool:
    payment = order.payment
    return order.status == "pending" and (
        order.in_basket or (payment is not None and payment.status == "pending")
    )


def _page(order: Order, message: str | None = None, status: int = 200) -> Response:
    payment = order.payment
    html = render_template(
        "checkout.html",
        order=order,
        totals=order.totals,
        message=message,
        payable=_payable(order),
        action=request.full_path.rstrip("?"),
        payment_status=(
            "basket (repayment)"
            if order.in_basket
            else payment.status
            if payment
            else "none"
        ),
    )
    return Response(html, status=status, mimetype="text/html")


@bp.get("/checkout/<uid>")
def checkout(uid: str) -> Response:
    return _page(current_session().shop.order(uid))


@bp.post("/checkout/<uid>")
def choose(uid: str) -> Response:
    session = current_session()
    order = session.shop.order(uid)
    outcome = request.form.get("outcome", "")
    try:
        control.pay(session, order, outcome)
    except errors.ApiError as exc:
        return _page(order, exc.message, exc.status)
    actual = order.payment.status if order.payment else outcome
    target = _redirect_target(order)
    return Response(
        status=303,
        headers={
            "Location": _with_query(target, {"order": order.uid, "outcome": actual})
        },
    )


def _redirect_target(order: Order) -> str:
    if order.redirect_url:
        return order.redirect_url
    app = sandbox().cat.applications.get(order.application)
    if app is not None and app.redirect_url:
        return app.redirect_url
    return renderer().uri("/_sandbox/return")


def _with_query(url: str, extra: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(extra.items())
    session = current_session().name
    if session != "default" and url.startswith(renderer().uri("/_sandbox")):
        query.append(("sandbox_session", session))
    return urlunsplit(parts._replace(query=urlencode(query)))


@bp.get("/return")
def back_at_shop() -> Response:
    html = render_template(
        "return.html",
        order=request.args.get("order", ""),
        outcome=request.args.get("outcome", ""),
    )
    return Response(html, mimetype="text/html")


@bp.get("/etickets/<uid>")
def etickets(uid: str) -> Response:
    """The order's e-tickets as a PDF, opened with its Order token."""
    order = current_session().shop.order(uid)
    if request.args.get("order_token") != order.order_token:
        raise errors.Forbidden("The e-tickets need the order's Order token.")
    tickets = [t for t in order.tickets if t.status == "valid"]
    if order.status != "completed" or not tickets:
        raise errors.NotFound("This order has no valid e-tickets.")
    cat = sandbox().cat
    pages = [_ticket_lines(order, t, cat) for t in tickets]
    return Response(
        pdf.render(pages),
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="etickets-{order.reference}.pdf"'
        },
    )


def _ticket_lines(order: Order, ticket: Any, cat: Any) -> list[tuple[int, str]]:
    event = cat.events[ticket.product.event]
    holder = ticket.consumer or order.consumer
    given = holder.to_dict() if holder else {}
    name = " ".join(filter(None, [given.get("first_name"), given.get("last_name")]))
    lines = [
        (18, "SANDBOX TICKET - NOT VALID FOR ENTRY"),
        (16, event.title["en"]),
        (
            12,
            f"{event.location.get('name', '')}, {event.event_start:%Y-%m-%d %H:%M} UTC",
        ),
        (12, f"Ticket: {ticket.product.name['en']} ({ticket.uid})"),
        (12, f"Barcode: {ticket.code}"),
        (12, f"Order: {order.reference}"),
    ]
    if name:
        lines.append((12, f"Holder: {name}"))
    if ticket.seat:
        lines.append((12, f"Seat: row {ticket.seat[0]}, seat {ticket.seat[1]}"))
    lines.append(
        (
            10,
            "Issued by the Shopping Sandbox, a test double of the Paylogic "
            "Shopping Service API.",
        )
    )
    return lines
