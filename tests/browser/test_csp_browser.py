"""The Content-Security-Policy in Chromium: the main pages run under it without one refusal.

Chromium starts here with a fake camera, so that the check-in page's QR reader really
starts: it builds its decoding worker and its frame over the video.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Registration, RegistrationStatus, Role
from tests.browser.conftest import launch_chromium, sign_in
from tests.conftest import make_event, make_registration, make_staff

FAKE_CAMERA = ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream")

#: Records every refusal of the policy, whatever the page's own scripts do.
WATCH_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(
    `${event.violatedDirective} refused ${event.blockedURI || "inline"} ` +
      `at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


@pytest.fixture(scope="module")
def camera_browser(playwright_driver):
    """A second Chromium, with a fake camera, so that the QR reader really starts."""
    browser = launch_chromium(playwright_driver, FAKE_CAMERA)
    yield browser
    browser.close()


@pytest.fixture
def watched(camera_browser, live_server):
    """A page, in a time zone other than the event's, that records every policy refusal."""
    context = camera_browser.new_context(
        viewport={"width": 390, "height": 844},
        locale="en-GB",
        timezone_id="Europe/London",
        permissions=["camera"],
        base_url=live_server,
    )
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    console: list[str] = []
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))

    def violations() -> list[str]:
        return console + page.evaluate("window.cspViolations")

    yield page, violations
    context.close()
    assert errors == [], f"script errors on the page: {errors}"


@pytest.fixture
def seminar(app):
    event = make_event("seminar", {"ashgabat": 50, "ahal": 10})
    in_person = make_registration(event, name="Aýna Orazowa", site="ahal")
    online = make_registration(event, name="Merdan Annaýew", site=None)
    make_staff("organizer@example.org", Role.ORGANIZER)
    tokens = in_person.manage_token, online.manage_token
    db.session.remove()
    return tokens


def visit(page, violations, url: str) -> None:
    response = page.goto(url)
    assert response.status < 400, url
    assert "script-src 'self'" in response.headers.get("content-security-policy", ""), url
    page.wait_for_load_state("networkidle")
    assert violations() == [], url


def test_the_participants_pages_run_under_the_policy(seminar, watched):
    from playwright.sync_api import expect

    page, violations = watched
    in_person, online = seminar
    for url in ("/", "/events/seminar", "/events/seminar/register", f"/r/{online}"):
        visit(page, violations, url)

    # The join page, before the meeting opens, shows the start in the visitor's own zone.
    visit(page, violations, f"/r/{online}/join")
    expect(page.locator(".join-local")).to_be_visible()
    expect(page.locator("[data-local-time]")).to_contain_text("Europe/London")

    # The badge page asks before cancelling; saying no keeps the registration.
    visit(page, violations, f"/r/{in_person}")
    expect(page.locator("img.wallet-qr")).to_be_visible()
    questions: list[str] = []

    def refuse(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", refuse)
    page.locator("form[action$='/cancel'] button").click()
    assert questions == ["Cancel your registration?"]
    assert page.url.endswith(f"/r/{in_person}")
    db.session.remove()
    statuses = db.session.scalars(sa.select(Registration.status)).all()
    assert statuses == [RegistrationStatus.CONFIRMED] * 2
    assert violations() == []


def test_the_staff_pages_and_the_camera_run_under_the_policy(app, seminar, watched, live_server):
    from playwright.sync_api import expect

    page, violations = watched
    sign_in(page, live_server, "organizer@example.org")
    for url in (
        "/manage/",
        "/manage/events/seminar/dashboard",
        "/manage/events/seminar/report",
        "/manage/events/seminar/checkin/ahal",
    ):
        visit(page, violations, url)

    # The fake camera starts: the reader decodes in its worker, its frame lies over the video.
    page.click("#camera-toggle")
    expect(page.locator("#camera")).to_be_visible()
    # The frame is drawn once the video plays, which a busy machine may take a while to do.
    page.wait_for_function(
        "document.querySelector('#camera-video').readyState >= 2", timeout=30_000
    )
    expect(page.locator("#camera .scan-region-highlight svg").first).to_be_visible(timeout=10_000)
    page.wait_for_timeout(1500)  # several frames read by the worker
    assert page.locator("#camera-message").is_hidden()
    assert violations() == []
