"""The dashboard in a real browser: it refreshes its figures without reloading the page."""

from __future__ import annotations

from datetime import timedelta

from app.models import Role
from tests.browser.conftest import sign_in
from tests.conftest import make_event, make_registration, make_staff
from tests.test_attendance_dashboard import add_checkin


def test_dashboard_updates_itself_without_reloading(app, live_server, phone):
    from playwright.sync_api import expect

    app.config["DASHBOARD_REFRESH_MS"] = 300

    make_staff("organizer@example.org", Role.ORGANIZER)
    event = make_event(sites={"ashgabat": 50, "ahal": 10}, starts_in=timedelta(minutes=-20))
    person = make_registration(event, name="Aýna Orazowa", site="ahal")

    page = phone
    sign_in(page, live_server, "organizer@example.org")
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
