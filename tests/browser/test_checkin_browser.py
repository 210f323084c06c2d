"""The check-in page in Chromium, against a live server: scan by typing, undo, walk-in."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AgendaItem, CheckIn, CheckInMethod, Registration, Role
from tests.browser.conftest import open_ahal_checkin, serving, sign_in
from tests.conftest import make_event, make_registration, make_staff


@pytest.fixture
def door_data(app):
    """A coordinator at the Ahal door, and one person expected there; returns the badge code."""
    event = make_event("seminar", {"ashgabat": 50, "ahal": 10})
    make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",))
    person = make_registration(
        event, name="Aýna Orazowa", site="ahal", organization="Ahal information centre"
    )
    code = person.badge_code
    db.session.remove()
    return code


@pytest.fixture
def door(app, live_server, door_data):
    return app, live_server, door_data


def test_a_coordinator_checks_in_undoes_and_registers_a_walk_in(door, phone):
    from playwright.sync_api import expect

    app, base_url, code = door
    page = phone
    sign_in(page, base_url, "ahal@example.org")
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


def test_a_scan_made_offline_is_sent_once_the_connection_is_back(door, phone_context):
    from playwright.sync_api import expect

    app, base_url, code = door
    page = phone_context.new_page()
    open_ahal_checkin(page, base_url)
    expect(page.locator("#roster")).to_contain_text("Aýna Orazowa")
    expect(page.locator("#checkin")).to_have_attribute("data-list-kept", "1")

    phone_context.set_offline(True)
    page.fill("#code-input", code)
    page.press("#code-input", "Enter")
    # The verdict and the name come from the list kept for offline use.
    expect(page.locator("#result-title")).to_have_text("Admitted")
    expect(page.locator("#result-name")).to_have_text("Aýna Orazowa")
    expect(page.locator("#result-detail")).to_contain_text("offline — to be confirmed")
    expect(page.locator("#offline-status")).to_contain_text("1")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CheckIn.id))) == 0
        db.session.remove()

    phone_context.set_offline(False)
    expect(page.locator("#offline-status")).to_be_hidden(timeout=10_000)
    expect(page.locator("#count-arrived")).to_have_text("1")
    # Once sent, the card shows the server's answer, no longer waiting.
    expect(page.locator("#result-detail")).not_to_contain_text("offline — to be confirmed")

    with app.app_context():
        [checkin] = db.session.scalars(sa.select(CheckIn)).all()
        assert checkin.result.value == "admitted"
        # The scan keeps the time it was made at, not the time it reached the server.
        assert checkin.scanned_at < checkin.received_at
        db.session.remove()


def test_the_page_reloads_without_a_connection(app, door_data, phone_context):
    """With the server gone, a reload still shows the page and its list, from the last copy."""
    from playwright.sync_api import expect

    page = phone_context.new_page()
    with serving(app) as (server, base_url):
        open_ahal_checkin(page, base_url)
        expect(page.locator("#checkin")).to_have_attribute("data-offline-ready", "1")
        expect(page.locator("#roster")).to_contain_text("Aýna Orazowa")

        server.shutdown()
        server.server_close()
        page.reload()
        expect(page.locator("h1")).to_contain_text("Ahal information centre")
        expect(page.locator("#roster")).to_contain_text("Aýna Orazowa")


def test_signing_out_forgets_the_offline_copy(door, phone_context):
    from playwright.sync_api import expect

    _app, base_url, _code = door
    page = phone_context.new_page()
    open_ahal_checkin(page, base_url)
    expect(page.locator("#checkin")).to_have_attribute("data-offline-ready", "1")
    assert page.evaluate("caches.has('hybriddesk-checkin-v1')") is True
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base_url}/manage/login")
    # The login page drops the copy as it loads; deleting a cache takes a moment.
    page.wait_for_function("async () => !(await caches.has('hybriddesk-checkin-v1'))")


@pytest.fixture
def session_door(app, live_server):
    """The Ahal door of a seminar with a session that counts attendance (and one that does
    not); returns the app, the base URL, the person's badge code and the session's id."""
    event = make_event("seminar", {"ashgabat": 50, "ahal": 10})
    counted = AgendaItem(
        title="Opening plenary",
        starts_at=event.starts_at,
        ends_at=event.starts_at + timedelta(hours=1),
        counts_attendance=True,
    )
    event.agenda_items.append(counted)
    db.session.commit()
    make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",))
    code = make_registration(event, name="Aýna Orazowa", site="ahal").badge_code
    session_id = counted.id
    db.session.remove()
    return app, live_server, code, session_id


def test_a_coordinator_checks_people_in_to_a_chosen_session(session_door, phone):
    from playwright.sync_api import expect

    app, base_url, code, session_id = session_door
    page = phone
    open_ahal_checkin(page, base_url)
    title = page.locator("#result-title")
    chooser = page.locator("#session-select")
    expect(chooser.locator("option")).to_have_count(2)  # the door, and the counted session
    expect(chooser).to_have_value("")

    chooser.select_option(str(session_id))
    page.fill("#code-input", code)
    page.press("#code-input", "Enter")
    expect(title).to_have_text("Admitted to the session")
    expect(page.locator("#result-detail")).to_contain_text("Opening plenary")
    # The site's list shows the day's admissions at the door: nobody has arrived there yet.
    expect(page.locator("#count-arrived")).to_have_text("0")

    page.fill("#code-input", code)
    page.press("#code-input", "Enter")
    expect(title).to_have_text("Already checked in to this session")
    page.click("#undo")
    expect(title).to_have_text("Check-in undone")

    # The choice stays after a reload; the door is one choice away.
    page.reload()
    expect(page.locator("#session-select")).to_have_value(str(session_id))
    page.locator("#session-select").select_option("")
    page.fill("#code-input", code)
    page.press("#code-input", "Enter")
    expect(title).to_have_text("Admitted")
    expect(page.locator("#count-arrived")).to_have_text("1")

    with app.app_context():
        checkins = db.session.scalars(sa.select(CheckIn).order_by(CheckIn.id)).all()
        assert [(c.session_id, c.result.value, c.annulled_at is not None) for c in checkins] == [
            (session_id, "admitted", True),
            (session_id, "refused", False),
            (None, "admitted", False),
        ]
        db.session.remove()


def test_a_list_kept_from_an_earlier_day_shows_nobody_arrived_yet(door, phone):
    app, base_url, _code = door
    page = phone
    open_ahal_checkin(page, base_url)
    kept = page.evaluate(
        """async () => {
            const { forgetOtherDays } = await import("/static/js/checkin/roster.js");
            const list = (generated) => ({
                generated_at: generated,
                registrations: [{ name: "Aýna Orazowa", arrived_here: true,
                                  checkin: { site: "ahal", scanned_at: generated } }],
            });
            const now = new Date("2025-03-11T12:00:00Z");  // 17:00 in Ashgabat
            const yesterday = list("2025-03-10T12:00:00Z");
            const today = list("2025-03-11T01:00:00Z");  // 06:00 in Ashgabat
            // 22:00 on the 10th in UTC, but 03:00 on the 11th in Ashgabat: the same day.
            const lateUtc = list("2025-03-10T22:00:00Z");
            return [yesterday, today, lateUtc].map((data) => [
                forgetOtherDays(data, "Asia/Ashgabat", now), data.registrations[0].checkin,
            ]);
        }"""
    )
    assert [forgotten for forgotten, _checkin in kept] == [True, False, False]
    assert kept[0][1] is None and kept[1][1] is not None and kept[2][1] is not None
