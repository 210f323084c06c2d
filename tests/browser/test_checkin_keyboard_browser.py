"""The check-in page with the keyboard alone, as a screen-reader user works it."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Role
from tests.browser.conftest import open_ahal_checkin
from tests.conftest import make_event, make_registration, make_staff

#: The WCAG contrast ratio of two "rgb(...)" colours, worked out in the page.
CONTRAST = """([a, b]) => {
    const lum = (css) => {
        const [r, g, b] = css.match(/[\\d.]+/g).slice(0, 3).map((v) => {
            const c = Number(v) / 255;
            return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
}"""


@pytest.fixture
def door(app, live_server):
    """The Ahal door: one person expected there, one registered for Ashgabat."""
    event = make_event("seminar", {"ashgabat": 50, "ahal": 10})
    make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",))
    here = make_registration(event, name="Aýna Orazowa", site="ahal").badge_code
    elsewhere = make_registration(event, name="Döwlet Hojaýew", site="ashgabat").badge_code
    db.session.remove()
    return live_server, here, elsewhere


def focused(page) -> str:
    return page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")


def test_a_keyboard_only_check_in_keeps_the_focus_on_the_code_field(door, phone):
    from playwright.sync_api import expect

    base_url, here, elsewhere = door
    page = phone
    keyboard = page.keyboard
    open_ahal_checkin(page, base_url)
    title = page.locator("#result-title")
    announcement = page.locator("#result-announcement")
    expect(announcement).to_have_attribute("aria-live", "assertive")
    assert focused(page) == "code-input"

    keyboard.type(here)
    keyboard.press("Enter")
    expect(title).to_have_text("Admitted")
    # The first result of the page is read out too.
    expect(announcement).to_contain_text("Admitted. Aýna Orazowa")
    assert focused(page) == "code-input"

    keyboard.press("Shift+Tab")
    assert focused(page) == "camera-toggle"
    keyboard.press("Shift+Tab")
    assert focused(page) == "undo"
    keyboard.press("Enter")
    expect(title).to_have_text("Check-in undone")
    expect(announcement).to_contain_text("Check-in undone")
    assert focused(page) == "code-input"

    keyboard.type(elsewhere)
    keyboard.press("Enter")
    expect(title).to_have_text("Registered for another site")
    banner = page.locator("#result")
    colours = banner.evaluate(
        "(el) => [getComputedStyle(el).borderTopColor, getComputedStyle(el).backgroundColor]"
    )
    assert page.evaluate(CONTRAST, colours) >= 3
    keyboard.press("Shift+Tab")
    keyboard.press("Shift+Tab")
    assert focused(page) == "admit-here"
    keyboard.press("Enter")
    expect(title).to_have_text("Admitted")
    expect(announcement).to_contain_text("Döwlet Hojaýew")
    assert focused(page) == "code-input"

    order = []
    for _ in range(3):
        keyboard.press("Tab")
        order.append(focused(page))
    assert order == ["Check in", "search-input", "Register a walk-in"]
    keyboard.press("Enter")
    keyboard.press("Tab")
    assert focused(page) == "walk-in-name"
    keyboard.type("Merdan Annaýew")
    keyboard.press("Tab")
    keyboard.type("merdan@example.org")
    keyboard.press("Enter")
    expect(title).to_have_text("Walk-in registered and admitted")
    assert focused(page) == "code-input"


def test_every_control_of_the_check_in_page_is_a_44_pixel_target(door, phone):
    base_url, _here, _elsewhere = door
    page = phone
    open_ahal_checkin(page, base_url)
    page.click("#walk-in summary")
    small = page.evaluate(
        """() => [...document.querySelectorAll(
                "#checkin button, #checkin input:not([type=checkbox]), #checkin select, "
                + "#checkin summary, #checkin label.check, #checkin .crumbs a")]
            .filter((el) => el.getClientRects().length)
            .map((el) => [el.id || el.textContent.trim(), el.getBoundingClientRect()])
            .filter(([, box]) => box.width < 44 || box.height < 44)
            .map(([name, box]) => `${name}: ${box.width}x${box.height}`)"""
    )
    assert small == []
