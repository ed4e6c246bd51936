"""schemathesis against a real server, from the sandbox's own OpenAPI document.

Every operation of the document is fuzzed on the ``live_server`` fixture with
valid and invalid data (the coverage phase's boundary and negative cases, and
hypothesis's fuzzing), under the checks for server errors, undeclared status
codes, content types, response headers and response schema conformance.

Bounded to well under two minutes: the operations that take a whole order
payload or a state export (hundreds or thousands of coverage cases each,
every field at each of its bounds) are fuzzed without the coverage phase,
with more examples instead.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sandbox import openapi
from tests.helpers import PARTNER

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Operations whose body schema is large: the coverage phase would try every
# field at each of its bounds (thousands of cases for a state export).
ORDER_PAYLOADS = (
    "post_bill",
    "post_baskets",
    "put_baskets_uid",
    "post_orders",
    "put_sandbox_state",
)
CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"max-examples": 8},
        "operations": [
            {
                "include-operation-id": list(ORDER_PAYLOADS),
                "phases": {"coverage": {"enabled": False}},
                "generation": {"max-examples": 40},
            }
        ],
    }
)


def _without_forced_crash(doc: dict[str, Any]) -> dict[str, Any]:
    """A ``Sandbox-Force: INTERNAL_SERVER_ERROR`` 500 is asked for, not a fault.

    It stays in the document (a QA engineer may force it); only the fuzzer
    does not pick it, so that every 500 it sees is a real crash.
    """
    doc = copy.deepcopy(doc)
    for item in doc["paths"].values():
        operations = [value for value in item.values() if isinstance(value, dict)]
        for operation in operations:
            for param in operation.get("parameters", []):
                if param.get("name") == "Sandbox-Force":
                    param["schema"]["enum"].remove("INTERNAL_SERVER_ERROR")
    return doc


# Built at import from the same document the server serves (no server is up
# at collection time); the base URL is the live server's, given per call.
# The lazy ``schemathesis.pytest.from_fixture`` loader does not work with this
# pytest (it reads ``request.node._nodeid``, gone in pytest 9).
schema = schemathesis.openapi.from_dict(
    _without_forced_crash(openapi.document()), config=CONFIG
)


@schema.parametrize()
@settings(deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms(case: Any, live_server: str) -> None:
    assert live_server.startswith("http://127.0.0.1:")
    # One session per operation: what one operation arms (a rule forcing a
    # 500 on orders.read, an imported state) never reaches another.
    session = "st-" + re.sub(r"\W+", "-", f"{case.method}{case.path}")
    headers = {**PARTNER, "Sandbox-Session": session}
    case.call_and_validate(base_url=live_server, headers=headers, checks=CHECKS)
