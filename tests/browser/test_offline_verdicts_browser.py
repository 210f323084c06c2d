"""Offline, the check-in page judges each scan from the list on the phone, and squares up later."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import CheckIn, CheckInResult, Registration, RegistrationStatus, Role
from tests.browser.conftest import open_ahal_checkin, watched_page
from tests.conftest import add_checkin, make_event, make_registration, make_staff

UNCONFIRMED = "offline — to be confirmed"


@pytest.fixture
def door(app, live_server):
    """The Ahal door: one person expected, one on the waiting list; returns their codes."""
    event = make_event("seminar", {"ashgabat": 50, "ahal": 10})
    make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",))
    expected = make_registration(event, name="Aýna Orazowa", site="ahal").badge_code
    waiting = make_registration(
        event, name="Merdan Annaýew", site="ahal", status=RegistrationStatus.WAITLISTED
    ).badge_code
    db.session.remove()
    return app, live_server, expected, waiting


@pytest.fixture
def door_of_a_seminar_with_others(app, live_server):
    """The Ahal door, with people of Ashgabat (one arrived there) and online, and a session
    that counts attendance; returns the codes by who they are."""
    event = make_event("seminar", {"ashgabat": 50, "ahal": 10})
    event.agenda_items[0].counts_attendance = True
    make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",))
    codes = {
        "ahal": make_registration(event, name="Aýna Orazowa", site="ahal"),
        "ashgabat": make_registration(event, name="Bägül Annaýewa", site="ashgabat"),
        "arrived in ashgabat": make_registration(event, name="Merdan Ataýew", site="ashgabat"),
        "online": make_registration(event, name="Ogulgerek Hojaýewa", site=None),
    }
    add_checkin(event, codes["arrived in ashgabat"], "ashgabat")
    found = {who: registration.badge_code for who, registration in codes.items()}
    db.session.remove()
    return app, live_server, found


def scan(page, code: str) -> None:
    page.fill("#code-input", code)
    page.press("#code-input", "Enter")


def test_offline_scans_get_the_verdict_of_the_list_on_the_phone(door, phone):
    from playwright.sync_api import expect

    app, base_url, expected, waiting = door
    page = phone
    open_ahal_checkin(page, base_url)
    expect(page.locator("#roster")).to_contain_text("Aýna Orazowa")
    expect(page.locator("#checkin")).to_have_attribute("data-list-kept", "1")
    title, detail = page.locator("#result-title"), page.locator("#result-detail")
    page.context.set_offline(True)

    scan(page, "NOSUCHCODE")
    expect(title).to_have_text("Unknown code")
    expect(detail).to_have_text(UNCONFIRMED)

    scan(page, waiting)
    expect(title).to_have_text("Not admitted")
    expect(page.locator("#result-name")).to_have_text("Merdan Annaýew")
    expect(detail).to_contain_text(UNCONFIRMED)

    scan(page, expected)
    expect(title).to_have_text("Admitted")
    expect(detail).to_contain_text(UNCONFIRMED)
    # Counted at once, offline.
    expect(page.locator("#count-arrived")).to_have_text("1")
    expect(page.locator("#count-pending")).to_have_text("0")

    scan(page, expected)
    expect(title).to_have_text("Already checked in")
    expect(detail).to_contain_text(UNCONFIRMED)
    expect(page.locator("#offline-status")).to_contain_text("4")

    page.context.set_offline(False)
    expect(page.locator("#offline-status")).to_be_hidden(timeout=10_000)
    # The server agreed with every verdict: nothing to report, and the card is no longer waiting.
    expect(page.locator("#sync-changes")).to_be_hidden()
    expect(title).to_have_text("Already checked in")
    expect(detail).not_to_contain_text(UNCONFIRMED)
    expect(page.locator("#count-arrived")).to_have_text("1")
    with app.app_context():
        results = db.session.scalars(sa.select(CheckIn.result).order_by(CheckIn.id)).all()
        assert [r.value for r in results] == ["refused", "refused", "admitted", "refused"]
        db.session.remove()


def test_two_phones_offline_at_one_door_learn_who_admitted_the_person(door, browser):
    from playwright.sync_api import expect

    app, base_url, expected, _waiting = door
    first_context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    second_context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    with watched_page(first_context) as first, watched_page(second_context) as second:
        for page in (first, second):
            open_ahal_checkin(page, base_url)
            expect(page.locator("#roster")).to_contain_text("Aýna Orazowa")
            # The list is read from the server and kept on the phone before the network goes.
            expect(page.locator("#checkin")).to_have_attribute("data-list-kept", "1")
            page.context.set_offline(True)
            scan(page, expected)
            expect(page.locator("#result-title")).to_have_text("Admitted")
            expect(page.locator("#count-arrived")).to_have_text("1")

        first_context.set_offline(False)
        expect(first.locator("#offline-status")).to_be_hidden(timeout=10_000)
        expect(first.locator("#result-detail")).not_to_contain_text(UNCONFIRMED)
        expect(first.locator("#sync-changes")).to_be_hidden()

        second_context.set_offline(False)
        expect(second.locator("#offline-status")).to_be_hidden(timeout=10_000)
        changes = second.locator("#sync-changes")
        expect(changes).to_be_visible()
        expect(changes.locator("h2")).to_have_text("Scans changed once sent: 1")
        expect(changes.locator("li")).to_have_text(
            re.compile(
                r"^Aýna Orazowa was already admitted at [\d:]+( [AP]M)? by Ahal on another device$"
            )
        )
        expect(second.locator("#result-title")).to_have_text("Already checked in")
        expect(second.locator("#count-arrived")).to_have_text("1")
        # Screen readers hear it too.
        expect(second.locator("#result-announcement")).to_contain_text("Scans changed once sent")

    with app.app_context():
        checkins = db.session.scalars(sa.select(CheckIn).order_by(CheckIn.scanned_at)).all()
        assert [(c.result.value, c.reason and c.reason.value) for c in checkins] == [
            ("admitted", None),
            ("refused", "already_checked_in"),
        ]
        db.session.remove()


def test_offline_a_code_of_another_site_is_told_apart_from_an_unknown_one(
    door_of_a_seminar_with_others, phone
):
    """The phone holds no name or code of the other sites' people, only hashes of their codes."""
    from playwright.sync_api import expect

    app, base_url, codes = door_of_a_seminar_with_others
    page = phone
    open_ahal_checkin(page, base_url)
    expect(page.locator("#checkin")).to_have_attribute("data-list-kept", "1")
    title, name = page.locator("#result-title"), page.locator("#result-name")
    detail = page.locator("#result-detail")
    page.context.set_offline(True)

    scan(page, codes["online"].lower())
    expect(title).to_have_text("Registered for another site")
    expect(detail).to_have_text(f"Registered to take part online · {UNCONFIRMED}")

    scan(page, codes["arrived in ashgabat"])
    expect(title).to_have_text("Already checked in")
    expect(detail).to_have_text(f"Registered for: Ashgabat information centre · {UNCONFIRMED}")

    scan(page, codes["ashgabat"])
    expect(title).to_have_text("Registered for another site")
    expect(name).to_have_text(codes["ashgabat"])
    expect(detail).to_have_text(f"Registered for: Ashgabat information centre · {UNCONFIRMED}")
    page.click("#admit-here")
    expect(title).to_have_text("Admitted")
    expect(detail).to_contain_text("Admitted at this site instead of the registered one")
    # Counted at once among those from other sites, and listed by code until the server names them.
    expect(page.locator("#count-from-other-sites")).to_have_text("1")
    expect(page.locator("#roster")).to_contain_text(codes["ashgabat"])

    page.context.set_offline(False)
    expect(page.locator("#offline-status")).to_be_hidden(timeout=10_000)
    # Every verdict was the server's: nothing to report.
    expect(page.locator("#sync-changes")).to_be_hidden()
    expect(page.locator("#roster")).to_contain_text("Bägül Annaýewa")
    expect(page.locator("#roster")).not_to_contain_text(codes["ashgabat"])
    expect(page.locator("#count-from-other-sites")).to_have_text("1")
    with app.app_context():
        sent = db.session.execute(
            sa.select(Registration.name, CheckIn.result, CheckIn.reason, CheckIn.forced)
            .join(Registration)
            .where(CheckIn.site_id.is_not(None), CheckIn.staff_user_id.is_not(None))
            .order_by(CheckIn.id)
        ).all()
        assert [(n, r.value, reason and reason.value, f) for n, r, reason, f in sent] == [
            ("Ogulgerek Hojaýewa", "refused", "wrong_site", False),
            ("Merdan Ataýew", "refused", "already_checked_in", False),
            ("Bägül Annaýewa", "refused", "wrong_site", False),
            ("Bägül Annaýewa", "admitted", None, True),
        ]
        db.session.remove()


def test_offline_a_session_scan_is_judged_by_the_sessions_on_the_phone(
    door_of_a_seminar_with_others, phone
):
    from playwright.sync_api import expect

    app, base_url, codes = door_of_a_seminar_with_others
    page = phone
    open_ahal_checkin(page, base_url)
    expect(page.locator("#checkin")).to_have_attribute("data-list-kept", "1")
    page.select_option("#session-select", index=1)
    title = page.locator("#result-title")
    page.context.set_offline(True)

    scan(page, codes["ahal"])
    expect(title).to_have_text("Admitted to the session")
    expect(page.locator("#result-detail")).to_contain_text(UNCONFIRMED)
    scan(page, codes["ahal"])
    expect(title).to_have_text("Already checked in to this session")
    # A session is not the day's admission at the door.
    expect(page.locator("#count-arrived")).to_have_text("0")

    page.context.set_offline(False)
    expect(page.locator("#offline-status")).to_be_hidden(timeout=10_000)
    expect(page.locator("#sync-changes")).to_be_hidden()
    # Online again, the server says the same, and when.
    scan(page, codes["ahal"])
    expect(title).to_have_text("Already checked in to this session")
    expect(page.locator("#result-detail")).to_contain_text("Checked in at")
    with app.app_context():
        rows = db.session.execute(
            sa.select(CheckIn.result, CheckIn.session_id.is_not(None))
            .where(CheckIn.staff_user_id.is_not(None))
            .order_by(CheckIn.id)
        ).all()
        assert [(result, in_session) for result, in_session in rows] == [
            (CheckInResult.ADMITTED, True),
            (CheckInResult.REFUSED, True),
            (CheckInResult.REFUSED, True),
        ]
        db.session.remove()
