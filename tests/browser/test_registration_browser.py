"""A participant registers on a phone, finds their badge, changes and cancels."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from app.extensions import db
from app.models import Mode, Registration, RegistrationStatus
from tests.conftest import make_event


def test_a_participant_registers_in_turkmen_and_manages_the_registration(app, live_server, phone):
    from playwright.sync_api import expect

    event = make_event(sites={"ashgabat": 50, "ahal": 10})
    page = phone
    page.goto(f"{live_server}/events/{event.slug}?lang=tk")
    with force_locale("tk"):
        register_label = _("Register")
        full_name = _("Full name")
    page.get_by_role("link", name=register_label).click()

    page.get_by_label("Ahal information centre").check()
    page.get_by_label(full_name).fill("Ňurgeldi Şükürow")
    page.fill("#email", "nurgeldi@example.org")
    page.fill("#organization", "Ahal information centre for human rights")
    page.select_option("#org_kind", "info_centre")
    page.check("#consent")
    page.get_by_role("button", name=register_label).click()

    with force_locale("tk"):
        expect(page.locator("h1")).to_have_text(_("You are registered"))
        page.get_by_role("link", name=_("Open my registration")).click()
    expect(page.locator("body")).to_contain_text("Ňurgeldi Şükürow")

    db.session.remove()
    registration = db.session.scalar(sa.select(Registration))
    assert registration.language == "tk" and registration.site.slug == "ahal"
    assert page.url.endswith(f"/r/{registration.manage_token}")
    # The QR is shown, large enough to scan from the screen.
    badge = page.locator("img[src$='badge.svg'], img[src$='badge.png']").first
    expect(badge).to_be_visible()
    assert badge.bounding_box()["width"] >= 200

    # Switch to online, then cancel, through the page's own forms.
    page.check("input[name=change-participation][value=online]")
    page.locator("button[name=change-participation]").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("form[action$='/cancel'] button").click()
    page.wait_for_load_state()

    db.session.remove()
    registration = db.session.scalar(sa.select(Registration))
    assert registration.mode == Mode.ONLINE
    assert registration.status == RegistrationStatus.CANCELLED
