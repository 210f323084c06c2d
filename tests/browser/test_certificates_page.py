"""The organiser issues certificates from the event's tabs; a stranger checks one by its code."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Certificate, Role
from tests.browser.conftest import sign_in, watched_page
from tests.conftest import add_checkin, make_event, make_registration, make_staff
from tests.test_certificates import STARTS


def test_an_organiser_issues_and_anyone_verifies(browser, live_server):
    event = make_event("seminar", {"balkan": 20}, starts_at=STARTS)
    person = make_registration(event, name="Ňurgeldi Şükürow", site="balkan")
    add_checkin(event, person, "balkan", at=STARTS)
    make_staff("organizer@example.org", Role.ORGANIZER)
    db.session.remove()

    with watched_page(browser.new_context(locale="en-GB")) as page:
        sign_in(page, live_server, "organizer@example.org")
        page.goto(f"{live_server}/manage/events/seminar/registrations")
        page.get_by_role("navigation", name="This event").get_by_role(
            "link", name="Certificates"
        ).click()
        assert page.locator("#count-to-issue").inner_text() == "1"
        page.get_by_role("button", name="Issue 1 certificate and email it").click()
        page.wait_for_selector(".flash-success")
        assert "1 certificate issued" in page.locator(".flash-success").inner_text()
        assert page.locator("#count-issued").inner_text() == "1"

    code = db.session.scalar(sa.select(Certificate.code))
    with watched_page(browser.new_context(locale="en-GB")) as page:
        page.goto(f"{live_server}/verify/{code}")
        assert page.locator("#verdict").inner_text().startswith("Valid")
        assert "Ňurgeldi Şükürow" in page.inner_text("main")
        altered = code[:-1] + ("x" if code[-1] != "x" else "y")
        page.goto(f"{live_server}/verify/{altered}")
        assert page.locator("#verdict").inner_text().startswith("Not valid")
