"""The check-in page's rows follow each person's state: after a check-in, an undo, a late answer."""

from __future__ import annotations

import contextlib
import re

import pytest
import sqlalchemy as sa

from app.checkin.roster import event_and_site
from app.checkin.services import admit_checkin
from app.extensions import db
from app.models import Role, StaffUser
from tests.browser.conftest import open_ahal_checkin, sign_in, wait_until_ready, watched_page
from tests.conftest import make_event, make_registration, make_staff, new_id

ARRIVED = re.compile(r"^Arrived \d")


@pytest.fixture
def door(app, live_server):
    """The Ahal door: Aýna expected there, Batyr registered for Ashgabat; their badge codes."""
    event = make_event("seminar", {"ashgabat": 50, "ahal": 10})
    make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",))
    make_staff("organizer@example.org", Role.ORGANIZER)
    ayna = make_registration(
        event, name="Aýna Orazowa", site="ahal", organization="Ahal information centre"
    )
    batyr = make_registration(event, name="Batyr Gurbanow", site="ashgabat")
    codes = {"ayna": ayna.badge_code, "batyr": batyr.badge_code}
    db.session.remove()
    return live_server, codes


@pytest.fixture
def page(browser):
    """A phone-sized page without service workers, so that page.route sees every request."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="en-GB", service_workers="block"
    )
    with watched_page(context) as page:
        yield page


def search(page, query: str):
    page.fill("#search-input", query)


def test_a_search_result_follows_the_check_in_and_its_undo(door, page):
    from playwright.sync_api import expect

    base_url, codes = door
    open_ahal_checkin(page, base_url)
    title = page.locator("#result-title")
    search(page, "orazowa")
    row = page.locator("#search-results li", has_text="Aýna Orazowa")
    expect(row).to_contain_text("Not yet arrived")

    # Scanned while the result is open.
    page.fill("#code-input", codes["ayna"])
    page.press("#code-input", "Enter")
    expect(title).to_have_text("Admitted")
    expect(row.locator(".badge.admitted")).to_have_text(ARRIVED)
    expect(row).not_to_contain_text("Not yet arrived")
    expect(row.get_by_role("button", name="Check in")).to_have_count(0)

    page.click("#undo")
    expect(title).to_have_text("Check-in undone")
    expect(row).to_contain_text("Not yet arrived")
    expect(page.locator("#count-arrived")).to_have_text("0")

    # Checked in from the result itself.
    row.get_by_role("button", name="Check in").click()
    expect(title).to_have_text("Admitted")
    expect(row.locator(".badge.admitted")).to_have_text(ARRIVED)
    expect(row.get_by_role("button", name="Check in")).to_have_count(0)
    expect(page.locator("#count-arrived")).to_have_text("1")
    roster_row = page.locator("#roster li", has_text="Aýna Orazowa")
    expect(roster_row.get_by_role("button", name="Check in")).to_have_count(0)


def test_admitting_someone_from_another_site_updates_their_row_and_the_counts(door, page):
    from playwright.sync_api import expect

    base_url, _codes = door
    sign_in(page, base_url, "organizer@example.org")
    page.goto(f"{base_url}/manage/events/seminar/checkin/ahal")
    wait_until_ready(page)
    search(page, "gurbanow")
    row = page.locator("#search-results li", has_text="Batyr Gurbanow")
    row.get_by_role("button", name="Check in").click()
    expect(page.locator("#result-title")).to_have_text("Registered for another site")

    page.click("#admit-here")
    expect(page.locator("#result-title")).to_have_text("Admitted")
    expect(row.locator(".badge.admitted")).to_have_text(ARRIVED)
    expect(row.get_by_role("button", name="Check in")).to_have_count(0)
    # He is counted apart; Ahal's own figures still add up.
    expect(page.locator("#count-from-other-sites")).to_have_text("1")
    expect(page.locator("#count-arrived")).to_have_text("0")
    expect(page.locator("#count-expected")).to_have_text("1")
    expect(page.locator("#count-pending")).to_have_text("1")
    expect(page.locator("#roster li", has_text="Batyr Gurbanow")).to_contain_text("Arrived")


def test_people_already_arrived_have_no_check_in_button(app, door, page):
    from playwright.sync_api import expect

    base_url, codes = door
    with app.app_context():
        event, site = event_and_site("seminar", "ahal")
        coordinator = db.session.scalar(
            sa.select(StaffUser).where(StaffUser.email == "ahal@example.org")
        )
        assert admit_checkin(event, site, codes["ayna"], new_id(), coordinator).admitted
        db.session.commit()
        db.session.remove()

    open_ahal_checkin(page, base_url)
    roster_row = page.locator("#roster li", has_text="Aýna Orazowa")
    expect(roster_row.locator(".badge.admitted")).to_have_text(ARRIVED)
    expect(roster_row.get_by_role("button", name="Check in")).to_have_count(0)
    search(page, "orazowa")
    row = page.locator("#search-results li", has_text="Aýna Orazowa")
    expect(row.locator(".badge.admitted")).to_have_text(ARRIVED)
    expect(row.get_by_role("button", name="Check in")).to_have_count(0)


def test_a_check_in_saved_offline_shows_in_the_results_once_it_is_sent(door, page):
    from playwright.sync_api import expect

    base_url, _codes = door
    open_ahal_checkin(page, base_url)
    expect(page.locator("#roster")).to_contain_text("Aýna Orazowa")
    search(page, "orazowa")
    row = page.locator("#search-results li", has_text="Aýna Orazowa")
    expect(row).to_contain_text("Not yet arrived")
    expect(page.locator("#checkin")).to_have_attribute("data-list-kept", "1")

    page.context.set_offline(True)
    row.get_by_role("button", name="Check in").click()
    expect(page.locator("#result-title")).to_have_text("Admitted")
    expect(page.locator("#result-detail")).to_contain_text("offline — to be confirmed")
    page.context.set_offline(False)

    expect(page.locator("#offline-status")).to_be_hidden(timeout=10_000)
    expect(row.locator(".badge.admitted")).to_have_text(ARRIVED)
    expect(row.get_by_role("button", name="Check in")).to_have_count(0)
    expect(page.locator("#count-arrived")).to_have_text("1")


def test_a_slower_answer_to_an_older_query_never_replaces_the_newer_one(app, door, page):
    from playwright.sync_api import expect

    base_url, _codes = door
    with app.app_context():
        event, _site = event_and_site("seminar", "ahal")
        make_registration(event, name="Annagül Berdiýewa", site="ahal")
        make_registration(event, name="Kerim Hanmyradow", site="ahal")
        db.session.remove()
    held = []

    def hold(route):
        held.append(route)

    page.route(lambda url: url.endswith("/registrations?q=an"), hold)
    open_ahal_checkin(page, base_url)

    with page.expect_request(lambda request: request.url.endswith("?q=an")):
        search(page, "an")
    search(page, "ann")
    results = page.locator("#search-results")
    expect(results).to_contain_text("Annagül Berdiýewa")
    expect(results).not_to_contain_text("Kerim Hanmyradow")

    # Only now does the answer to "an" (Kerim among them) arrive.
    [route] = held
    with contextlib.suppress(Exception):  # the page may have cancelled it already
        route.fulfill(response=route.fetch())
    page.wait_for_timeout(500)  # time for a late answer to be (wrongly) drawn
    expect(results).to_contain_text("Annagül Berdiýewa")
    expect(results).not_to_contain_text("Kerim Hanmyradow")


def test_a_search_answered_from_before_a_check_in_does_not_undo_it_on_screen(door, page):
    """The server answered the search before the scan, but that answer reaches the page after."""
    from playwright.sync_api import expect

    base_url, codes = door
    held = []

    def hold_the_first_answer(route):
        if held:
            route.continue_()
        else:
            held.append((route, route.fetch()))  # the person is not arrived yet

    page.route(lambda url: url.endswith("/registrations?q=orazowa"), hold_the_first_answer)
    open_ahal_checkin(page, base_url)
    with page.expect_request(lambda request: request.url.endswith("?q=orazowa")):
        search(page, "orazowa")

    page.fill("#code-input", codes["ayna"])
    page.press("#code-input", "Enter")
    expect(page.locator("#result-title")).to_have_text("Admitted")
    [(route, stale_answer)] = held
    with contextlib.suppress(Exception):  # the page may have cancelled it already
        route.fulfill(response=stale_answer)

    row = page.locator("#search-results li", has_text="Aýna Orazowa")
    expect(row.locator(".badge.admitted")).to_have_text(ARRIVED)
    page.wait_for_timeout(500)  # time for the stale answer to be (wrongly) drawn
    expect(row.locator(".badge.admitted")).to_have_text(ARRIVED)
    expect(row.get_by_role("button", name="Check in")).to_have_count(0)
