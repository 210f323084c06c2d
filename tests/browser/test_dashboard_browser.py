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


def test_dashboard_reads_out_only_the_numbers_that_changed(app, live_server, phone):
    """Refreshes that change nothing stay silent; a check-in is read out, then not again
    for 30 seconds, and the time of each refresh never is."""
    from playwright.sync_api import expect

    app.config["DASHBOARD_REFRESH_MS"] = 200

    make_staff("organizer@example.org", Role.ORGANIZER)
    event = make_event(sites={"ashgabat": 50, "ahal": 10}, starts_in=timedelta(minutes=-20))
    first = make_registration(event, name="Aýna Orazowa", site="ahal")
    second = make_registration(event, name="Merdan Ataýew", site="ahal")

    page = phone
    sign_in(page, live_server, "organizer@example.org")
    page.goto(f"{live_server}/manage/events/{event.slug}/dashboard")
    live_regions = page.locator("[aria-live]")
    expect(live_regions).to_have_count(1)
    announcement = page.locator("#dashboard-announcement")
    status = page.locator("#live-status [data-live-text]")
    checked_in = page.locator('tr[data-site="ahal"] [data-field="checked_in"]')

    # Several refreshes with nothing new: the time line moves, the live region says nothing.
    time_line = status.inner_text()
    expect(status).not_to_have_text(time_line, timeout=5_000)
    page.wait_for_timeout(1_000)
    assert announcement.inner_text() == ""
    assert page.locator("#live-status").get_attribute("aria-live") is None

    add_checkin(event, first, "ahal")
    expect(announcement).to_have_text("Ahal information centre: 1 attended here", timeout=10_000)

    # A second arrival within 30 seconds shows in the table at once but is read out later.
    add_checkin(event, second, "ahal")
    expect(checked_in).to_have_text("2", timeout=10_000)
    page.wait_for_timeout(1_500)
    expect(announcement).to_have_text("Ahal information centre: 1 attended here")
