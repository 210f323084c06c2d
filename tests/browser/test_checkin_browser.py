"""The check-in page in Chromium, against a live server: scan by typing, undo, walk-in."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from app.models import CheckIn, CheckInMethod, Registration, Role
from config import TestingConfig
from tests.conftest import PASSWORD, make_event, make_registration, make_staff

pytestmark = pytest.mark.browser

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
    for candidate in (
        os.environ.get("CHROMIUM_PATH"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    executable = chromium_path()
    if executable is None:
        pytest.skip("Chromium not found: install Debian's chromium or set CHROMIUM_PATH")
    with sync_api.sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except Exception as error:  # a missing library, a sandbox refusal...
            pytest.skip(f"Chromium at {executable} could not start: {error}")
        yield browser
        browser.close()


@pytest.fixture
def live_server():
    """The app on a SQLite file, served by werkzeug on a free loopback port."""
    folder = tempfile.mkdtemp(prefix="hybriddesk-browser-")

    class LiveConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{folder}/live.sqlite"
        MAIL_FILE_DIR = f"{folder}/outbox"
        PUBLIC_BASE_URL = "http://127.0.0.1"

    app = create_app(LiveConfig)
    with app.app_context():
        db.create_all()
        event = make_event("seminar", {"ashgabat": 50, "ahal": 10})
        make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",))
        person = make_registration(
            event, name="Aýna Orazowa", site="ahal", organization="Ahal information centre"
        )
        code = person.badge_code
        db.session.remove()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}", code
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)


def test_a_coordinator_checks_in_undoes_and_registers_a_walk_in(browser, live_server):
    from playwright.sync_api import expect

    app, base_url, code = live_server
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        _sign_in(page, base_url)
        page.goto(f"{base_url}/manage/events/seminar/checkin")
        expect(page).to_have_url(re.compile(r".*/manage/events/seminar/checkin/ahal$"))
        title = page.locator("#result-title")

        page.fill("#code-input", code.lower())
        page.press("#code-input", "Enter")
        expect(title).to_have_text("Admitted")
        expect(page.locator("#result-name")).to_have_text("Aýna Orazowa")
        expect(page.locator("#count-arrived")).to_have_text("1")

        page.fill("#code-input", code)
        page.press("#code-input", "Enter")
        expect(title).to_have_text("Already checked in")
        expect(page.locator("#result-detail")).to_contain_text("Ahal information centre")

        page.click("#undo")
        expect(title).to_have_text("Check-in undone")
        expect(page.locator("#count-arrived")).to_have_text("0")

        page.fill("#search-input", "orazowa")
        result = page.locator("#search-results li", has_text="Aýna Orazowa")
        expect(result).to_be_visible()
        result.get_by_role("button", name="Check in").click()
        expect(title).to_have_text("Admitted")

        page.click("#walk-in summary")
        page.fill("#walk-in-name", "Merdan Annaýew")
        page.fill("#walk-in-email", "merdan@example.org")
        page.fill("#walk-in-organization", "Mary information centre")
        page.click("#walk-in-form button[type=submit]")
        expect(title).to_have_text("Walk-in registered and admitted")
        expect(page.locator("#result-name")).to_have_text("Merdan Annaýew")
        expect(page.locator("#roster")).to_contain_text("Merdan Annaýew")
        expect(page.locator("#count-arrived")).to_have_text("2")
    finally:
        context.close()

    assert errors == []
    with app.app_context():
        checkins = db.session.scalars(sa.select(CheckIn).order_by(CheckIn.id)).all()
        assert all(c.staff_user.email == "ahal@example.org" for c in checkins)
        assert [(c.method, c.result.value, c.annulled_at is not None) for c in checkins] == [
            (CheckInMethod.QR, "admitted", True),
            (CheckInMethod.QR, "refused", False),
            (CheckInMethod.SEARCH, "admitted", False),
            (CheckInMethod.WALK_IN, "admitted", False),
        ]
        walk_in = db.session.scalar(
            sa.select(Registration).where(Registration.email == "merdan@example.org")
        )
        assert walk_in.site.slug == "ahal"
        db.session.remove()


def _sign_in(page, base_url: str) -> None:
    page.goto(f"{base_url}/manage/login")
    page.fill("input[name=email]", "ahal@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/manage/.*"))


def test_a_scan_made_offline_is_sent_once_the_connection_is_back(browser, live_server):
    from playwright.sync_api import expect

    app, base_url, code = live_server
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    page = context.new_page()
    try:
        _sign_in(page, base_url)
        page.goto(f"{base_url}/manage/events/seminar/checkin/ahal")
        expect(page.locator("#roster")).to_contain_text("Aýna Orazowa")

        context.set_offline(True)
        page.fill("#code-input", code)
        page.press("#code-input", "Enter")
        expect(page.locator("#result-title")).to_have_text("Saved offline")
        # The name comes from the list kept for offline use.
        expect(page.locator("#result-name")).to_have_text("Aýna Orazowa")
        expect(page.locator("#offline-status")).to_contain_text("1")
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count(CheckIn.id))) == 0
            db.session.remove()

        context.set_offline(False)
        expect(page.locator("#offline-status")).to_be_hidden(timeout=10_000)
        expect(page.locator("#count-arrived")).to_have_text("1")
    finally:
        context.close()

    with app.app_context():
        [checkin] = db.session.scalars(sa.select(CheckIn)).all()
        assert checkin.result.value == "admitted"
        # The scan keeps the time it was made at, not the time it reached the server.
        assert checkin.scanned_at < checkin.received_at
        db.session.remove()
