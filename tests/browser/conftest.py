"""Chromium through Playwright, and the app served on a loopback port.

Without Playwright or Chromium these tests are skipped with a one-line reason.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from tests.conftest import PASSWORD

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    candidates = (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium"))
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    return None


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


EXPECT_TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def playwright_driver():
    """The one Playwright driver of the run: its sync API allows no second one at a time."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    if chromium_path() is None:
        pytest.skip("Chromium not found: install Debian's chromium or set CHROMIUM_PATH")
    # The suite shares two cores with a server, a database and a browser: an expectation
    # gets 15 s to come true rather than 5, which a busy machine can exceed.
    sync_api.expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_api.sync_playwright() as playwright:
        yield playwright


def launch_chromium(playwright, extra_args: tuple[str, ...] = ()):
    """Debian's Chromium, headless; the test is skipped if it cannot start here."""
    executable = chromium_path()
    try:
        return playwright.chromium.launch(
            executable_path=executable, args=[*CHROMIUM_ARGS, *extra_args]
        )
    except Exception as error:  # noqa: BLE001  a missing library, a sandbox refusal...
        pytest.skip(f"Chromium at {executable} could not start: {error}")


@pytest.fixture(scope="session")
def browser(playwright_driver):
    browser = launch_chromium(playwright_driver)
    yield browser
    browser.close()


@contextmanager
def serving(app) -> Iterator[tuple[BaseWSGIServer, str]]:
    """Serve ``app`` with werkzeug on a free loopback port; yields the server and its base URL.

    Loopback counts as a secure context, so service workers and caches work there. A test
    may shut the server down early to play a lost connection; stopping it twice is harmless.
    """
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def live_server(app):
    """The test app served by werkzeug on a free loopback port; yields its base URL."""
    with serving(app) as (_server, base_url):
        app.config["PUBLIC_BASE_URL"] = base_url
        yield base_url


@pytest.fixture
def phone_context(browser):
    """A fresh browser context the size of a phone, closed after the test."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    yield context
    context.close()


@contextmanager
def watched_page(context) -> Iterator:
    """A new page in ``context``, which is closed after; any script error fails the test."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], f"script errors on the page: {errors}"


@pytest.fixture
def phone(phone_context):
    """A page in ``phone_context`` (also ``page.context``); fails the test on any script error."""
    with watched_page(phone_context) as page:
        yield page


def sign_in(page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/manage/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/manage/**")


def open_ahal_checkin(page, base_url: str) -> None:
    """Sign in as the Ahal coordinator and open the seminar's check-in page for Ahal."""
    sign_in(page, base_url, "ahal@example.org")
    page.goto(f"{base_url}/manage/events/seminar/checkin/ahal")
    wait_until_ready(page)


def wait_until_ready(page) -> None:
    """Until the check-in page's script has read the device's store and answers."""
    from playwright.sync_api import expect

    expect(page.locator("#checkin")).to_have_attribute("data-ready", "1")
