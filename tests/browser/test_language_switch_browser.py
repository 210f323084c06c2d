"""The language switcher: a labelled group that keeps the page's filters and a half-filled form."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Registration, Role
from tests.browser.conftest import sign_in
from tests.conftest import make_event, make_registration, make_staff


def test_switching_language_keeps_the_filters(app, live_server, phone):
    from playwright.sync_api import expect

    event = make_event("seminar", {"ashgabat": 50, "ahal": 10})
    make_registration(event, name="Aýna Orazowa", site="ahal")
    make_staff("organizer@example.org", Role.ORGANIZER)
    page = phone
    sign_in(page, live_server, "organizer@example.org")
    page.goto(f"{live_server}/manage/events/seminar/registrations?site=ahal&status=waitlisted")

    switcher = page.get_by_role("group", name="Language")
    expect(switcher).to_be_visible()
    switcher.get_by_role("link", name="Türkmençe").click()
    page.wait_for_url("**lang=tk")
    assert page.locator("html").get_attribute("lang") == "tk"
    assert page.url.endswith("/registrations?site=ahal&status=waitlisted&lang=tk")
    expect(page.locator("select[name=site]")).to_have_value("ahal")
    expect(page.locator("select[name=status]")).to_have_value("waitlisted")

    # And back, without ?lang= piling up.
    page.locator(".langs a[hreflang=en]").click()
    page.wait_for_url("**lang=en")
    assert page.url.endswith("/registrations?site=ahal&status=waitlisted&lang=en")


def test_switching_language_keeps_what_was_typed(app, live_server, phone):
    from playwright.sync_api import expect

    make_event("seminar", {"ashgabat": 50, "ahal": 10})
    page = phone
    page.goto(f"{live_server}/events/seminar/register?lang=en")
    page.check("#participation-1")
    page.fill("#name", "Ňurgeldi Şükürow")
    page.fill("#email", "nurgeldi@example.org")
    page.fill("#organization", "Ahal information centre for human rights")
    page.select_option("#org_kind", "info_centre")
    page.check("#consent")

    page.locator(".langs a[hreflang=ru]").click()
    page.wait_for_url("**lang=ru")
    assert page.locator("html").get_attribute("lang") == "ru"
    expect(page.locator("#name")).to_have_value("Ňurgeldi Şükürow")
    expect(page.locator("#email")).to_have_value("nurgeldi@example.org")
    expect(page.locator("#organization")).to_have_value("Ahal information centre for human rights")
    expect(page.locator("#org_kind")).to_have_value("info_centre")
    expect(page.locator("#participation-1")).to_be_checked()
    expect(page.locator("#consent")).to_be_checked()
    assert page.evaluate("sessionStorage.length") == 0, "the copy outlives the switch"

    # The form, sent in its new language, registers the person with what was typed.
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/register/thanks")
    db.session.remove()
    registration = db.session.scalar(
        sa.select(Registration).where(Registration.email == "nurgeldi@example.org")
    )
    assert registration.name == "Ňurgeldi Şükürow"
    assert registration.site.slug == "ahal"

    # A later visit in another language starts with an empty form.
    page.goto(f"{live_server}/events/seminar/register?lang=tk")
    expect(page.locator("#name")).to_have_value("")
