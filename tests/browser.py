"""A real headless Chromium for the tests of the sandbox's HTML pages.

Debian's chromium and chromium-driver drive it. Without them the tests that
use the ``browser`` fixture are skipped, unless ``SANDBOX_REQUIRE_BROWSER`` is
set (``.ci/run`` sets it), in which case a missing browser fails them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
TIMEOUT = 20


def _browser_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.access(path, os.X_OK) or shutil.which(os.path.basename(path))):
            return f"{path} is not installed"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed"
    return None


def start_browser(tmp_path_factory: Any) -> Iterator[Any]:
    missing = _browser_missing()
    if missing is not None:
        if os.environ.get("SANDBOX_REQUIRE_BROWSER"):
            pytest.fail(
                f"SANDBOX_REQUIRE_BROWSER is set but {missing}; install "
                "Debian's chromium and chromium-driver (.ci/run does)."
            )
        pytest.skip(
            f"no headless browser: {missing} (apt-get install chromium "
            "chromium-driver to run the checkout page tests)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ):
        options.add_argument(flag)
    profile = tmp_path_factory.mktemp("chromium-profile")
    options.add_argument(f"--user-data-dir={profile}")
    service = Service(executable_path=shutil.which("chromedriver") or CHROMEDRIVER)
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(TIMEOUT)
    try:
        yield driver
    finally:
        driver.quit()
