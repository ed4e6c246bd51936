"""Named scenarios: JSON files, each a name, a description and its rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sandbox import schemas
from sandbox.fixtures import FixtureError, data_dir


def load_scenarios(folders: list[Path]) -> dict[str, dict[str, Any]]:
    """Every scenario of the folders by name; a later folder wins a name."""
    found: dict[str, dict[str, Any]] = {}
    for folder in folders:
        if not folder.is_dir():
            raise FixtureError(str(folder), "$", "is not a folder")
        # The packaged ones are validated by the test suite, not at each start.
        check = folder != data_dir("scenarios")
        for path in sorted(folder.glob("*.json")):
            scenario = _read(path, check)
            found[scenario["name"]] = scenario
    return found


def _read(path: Path, check: bool = True) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FixtureError(str(path), "$", f"cannot be read as JSON: {exc}") from None
    if not check:
        return data  # type: ignore[no-any-return]
    problems = sorted(
        schemas.validator("scenario").iter_errors(data),
        key=lambda e: list(e.absolute_path),
    )
    if problems:
        first = problems[0]
        raise FixtureError(
            str(path), schemas.json_path(first.absolute_path), first.message
        )
    return data  # type: ignore[no-any-return]
