"""Browser tests: Debian's Chromium (/usr/bin/chromium, never a downloaded browser) driven by
Playwright, against the whole stack started as `make run` starts it.

Fixtures:
- `browser`: one headless Chromium for this package's tests. Missing Chromium skips the test on a
  laptop (`apt-get install chromium`) and fails it under CI=true.
- `page`: a fresh browser context (empty local storage) at a desktop size, per test;
  `new_page(**context_options)` opens more, e.g. a phone-sized one.
- `running_stack` (tests/conftest.py): the whole stack the pages talk to.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("TINSEL_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (required under CI)")
    pytest.skip(reason)


# Package scope: Playwright's sync API holds an asyncio loop running in this thread while it is
# open, and the conversation tests after this package run loops of their own.
@pytest.fixture(scope="package")
def browser():
    if not CHROMIUM.exists():
        _missing(f"Chromium not found at {CHROMIUM}: sudo apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    """Opens a page in its own context (own local storage); all are closed after the test."""
    contexts = []

    def open_page(**context_options):
        context = browser.new_context(**{**DESKTOP, **context_options})
        context.set_default_timeout(30_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()
