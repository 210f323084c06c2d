"""The dashboard on a phone: what matters is readable without scrolling sideways."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.models import Role
from tests.browser.conftest import sign_in, watched_page
from tests.conftest import (
    add_checkin,
    make_event,
    make_registration,
    make_staff,
    zone_where_it_is_noon,
)

WIDTH, HEIGHT = 375, 740


@pytest.fixture
def small_phone(browser):
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="en-GB")
    with watched_page(context) as page:
        yield page


def test_the_first_sites_attended_figure_is_on_screen_at_375_pixels(app, live_server, small_phone):
    from playwright.sync_api import expect

    make_staff("organizer@example.org", Role.ORGANIZER)
    event = make_event(
        sites={"ashgabat": 50, "ahal": 10, "balkan": 10},
        starts_in=timedelta(minutes=-20),
        duration=timedelta(minutes=40),
        # Live, and on one local day whatever the hour: an event over midnight has a day
        # chooser above the table.
        timezone=zone_where_it_is_noon(),
    )
    add_checkin(event, make_registration(event, name="Aýna Orazowa", site="ashgabat"), "ashgabat")
    make_registration(event, name="Merdan Atayev", site="ashgabat")

    page = small_phone
    sign_in(page, live_server, "organizer@example.org")
    page.goto(f"{live_server}/manage/events/{event.slug}/dashboard")

    first_site = page.locator("table.dashboard-table tbody tr").first
    expect(first_site).to_have_attribute("data-site", "ashgabat")
    column = (
        page.locator("table.dashboard-table thead th").all_text_contents().index("Attended here")
    )
    checked_in = first_site.locator("th, td").nth(column)
    expect(checked_in).to_contain_text("1")
    assert page.evaluate("[window.scrollX, window.scrollY]") == [0, 0]
    box = checked_in.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, box
    assert box["y"] >= 0 and box["y"] + box["height"] <= HEIGHT, box
    # The table itself does not reach past the screen's edge.
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
