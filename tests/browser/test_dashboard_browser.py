"""The dashboard in a real browser: it refreshes its figures without reloading the page."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app.models import Role
from tests.conftest import PASSWORD, make_event, make_registration, make_staff
from tests.test_attendance_dashboard import add_checkin

CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium"),
]


@pytest.fixture
def live_server(app):
    app.config["DASHBOARD_REFRESH_MS"] = 300
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


def test_dashboard_updates_itself_without_reloading(app, live_server):
    from playwright.sync_api import expect, sync_playwright

    make_staff("organizer@example.org", Role.ORGANIZER)
    event = make_event(sites={"ashgabat": 50, "ahal": 10}, starts_in=timedelta(minutes=-20))
    person = make_registration(event, name="Aýna Orazowa", site="ahal")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            errors = []
            page.on("pageerror", lambda error: errors.append(error))
            page.goto(f"{live_server}/manage/login")
            page.fill("input[name=email]", "organizer@example.org")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.goto(f"{live_server}/manage/events/{event.slug}/dashboard")

            checked_in = page.locator('tr[data-site="ahal"] [data-field="checked_in"]')
            not_arrived = page.locator('tr[data-site="ahal"] [data-field="not_arrived"]')
            expect(checked_in).to_have_text("0")
            expect(not_arrived).to_have_text("1")
            page.evaluate("window.stillTheSamePage = true")

            add_checkin(event, person, "ahal")

            expect(checked_in).to_have_text("1", timeout=10_000)
            expect(not_arrived).to_have_text("0")
            expect(page.locator('[data-chart="ahal"] path.arrivals')).to_have_count(1)
            expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
            assert page.evaluate("window.stillTheSamePage") is True
            assert errors == []
        finally:
            browser.close()
