"""Times on a Turkmen page, in a browser whose own language is American English.

Chromium has no Turkmen date formats: left to itself it writes "11:05 PM" there.
"""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models import Role
from tests.browser.conftest import sign_in, wait_until_ready, watched_page
from tests.conftest import make_event, make_registration, make_staff

#: 18:05 UTC is 23:05 in Ashgabat.
MOMENT = "2026-06-12T18:05:00Z"


@pytest.fixture
def american_browser(browser):
    with watched_page(browser.new_context(locale="en-US", timezone_id="Europe/Berlin")) as page:
        yield page


def written(page, base_url: str, call: str):
    page.goto(f"{base_url}/manage/login")
    return page.evaluate(
        f"""async () => {{
          const {{ scanTime, fullTime }} = await import("/static/js/times.js");
          const moment = new Date("{MOMENT}");
          const timeZone = "Asia/Ashgabat";
          return {call};
        }}"""
    )


def test_a_scan_time_follows_the_page_language_not_the_browser(app, live_server, american_browser):
    page = american_browser
    same_day = 'new Date("2026-06-12T10:00:00Z")'
    next_day = 'new Date("2026-06-13T10:00:00Z")'
    cases = {
        "tk": written(
            page, live_server, f'scanTime(moment, {{ timeZone, language: "tk", now: {same_day} }})'
        ),
        "tk next day": written(
            page, live_server, f'scanTime(moment, {{ timeZone, language: "tk", now: {next_day} }})'
        ),
        "ru": written(
            page, live_server, f'scanTime(moment, {{ timeZone, language: "ru", now: {same_day} }})'
        ),
        "en": written(
            page, live_server, f'scanTime(moment, {{ timeZone, language: "en", now: {same_day} }})'
        ),
        # The visitor's own zone here is Berlin: 20:05 in June.
        "tk in full": written(page, live_server, 'fullTime(moment, "tk")'),
    }
    assert cases["tk"] == "23:05"
    assert cases["tk next day"] == "12.06 23:05"
    assert cases["ru"] == "23:05"
    assert cases["en"] == "11:05 PM"
    assert cases["tk in full"] == "12.06.2026 20:05"


def test_the_turkmen_check_in_page_writes_a_24_hour_time(app, live_server, american_browser):
    from playwright.sync_api import expect

    event = make_event("seminar", {"ashgabat": 50, "ahal": 10})
    make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",))
    code = make_registration(event, name="Aýna Orazowa", site="ahal").badge_code
    db.session.remove()

    page = american_browser
    sign_in(page, live_server, "ahal@example.org")
    page.goto(f"{live_server}/manage/events/seminar/checkin/ahal?lang=tk")
    wait_until_ready(page)
    assert page.locator("html").get_attribute("lang") == "tk"
    page.fill("#code-input", code)
    page.press("#code-input", "Enter")
    expect(page.locator("#count-arrived")).to_have_text("1")
    # Again: "already checked in", with the time of arrival.
    page.fill("#code-input", code)
    page.press("#code-input", "Enter")
    expect(page.locator("#result")).to_have_class("result result-already")
    detail = page.locator("#result-detail")
    expect(detail).to_contain_text(re.compile(r"\b\d\d:\d\d\b"))
    assert not re.search(r"\b[AP]M\b", detail.inner_text())
