"""Shopping Sandbox: a stateful sandbox of the Paylogic Shopping Service API."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def create_app(*args: Any, **kwargs: Any) -> Any:
    """Build the WSGI app (see :func:`sandbox.web.app.create_app`)."""
    from sandbox.web.app import create_app as factory

    return factory(*args, **kwargs)
