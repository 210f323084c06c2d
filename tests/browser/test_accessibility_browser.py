"""The public pages, the forms and the staff's main pages, checked with axe-core and a keyboard.

axe-core (tests/browser/vendor/axe-core) runs in every page at a phone's and a laptop's width,
and any finding it rates serious or critical fails the test. Every page is seen in every
language.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from app.extensions import db
from app.models import Event, Mode, OrgKind, Registration, Role
from tests.browser.conftest import sign_in
from tests.conftest import make_event, make_registration, make_staff

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
LANGUAGES = ("en", "ru", "tk")
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1280, "height": 800}}
#: What fails the sweep; "moderate" and "minor" findings are left to judgement.
BLOCKING = ("serious", "critical")

#: The findings of axe in the current page that block, each with the elements concerned.
RUN_AXE = r"""
async (blocking) => {
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return results.violations
    .filter((violation) => blocking.includes(violation.impact))
    .map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.map(
        (node) => `${node.target.join(" ")}: ${node.failureSummary.replace(/\s*\n\s*/g, " ")}`
      ),
    }));
}
"""


@pytest.fixture
def seminar(app):
    """A hybrid seminar with one registration, and an organiser to sign in as."""
    event = make_event("seminar", {"ashgabat": 50, "ahal": 10})
    registration = make_registration(event, name="Aýna Orazowa", site="ahal")
    make_staff("organizer@example.org", Role.ORGANIZER)
    found = event.title, registration.manage_token
    db.session.remove()
    return found


@pytest.fixture
def axe_page(browser, live_server):
    """A page with axe-core loaded into every document it opens.

    The app's Content-Security-Policy refuses inline scripts, so axe comes as an init script,
    which the browser runs in the page before the page's own, outside the policy.
    """
    context = browser.new_context(viewport=VIEWPORTS["laptop"], base_url=live_server)
    context.add_init_script(path=AXE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], f"script errors on the page: {errors}"


def blocking_findings(page, where: str) -> list[str]:
    """axe's serious and critical findings in ``page``, one readable line each."""
    return [
        f"{where}: {finding['impact']} {finding['id']} ({finding['help']})\n"
        + "\n".join(f"      {node}" for node in finding["nodes"])
        for finding in page.evaluate(RUN_AXE, list(BLOCKING))
    ]


def open_page(page, path: str, status: int | None = None) -> None:
    """Opens ``path``, which must answer ``status``, or any status below 400."""
    response = page.goto(path)
    assert response is not None, path
    assert response.status == status if status else response.status < 400, (path, response.status)


def fill_registration(page) -> None:
    page.check("#participation-1")
    page.fill("#name", "Ňurgeldi Şükürow")
    page.fill("#email", "nurgeldi@example.org")
    page.fill("#organization", "Ahal information centre for human rights")
    page.select_option("#org_kind", "info_centre")
    page.check("#consent")


def check_failed_form(page, event_title: str, lang: str) -> None:
    """The form sent empty: named in the title, summed up in focus, each field tied to its error."""
    with force_locale(lang):
        title = _("Error: %(page)s", page=_("Register — %(event)s", event=event_title))
    assert page.title() == title
    summary = page.locator(".error-summary")
    assert summary.get_attribute("role") == "alert"
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    links = summary.locator("a")
    assert links.count() >= 4
    for href in links.evaluate_all("links => links.map((link) => link.getAttribute('href'))"):
        assert page.locator(href).count() == 1, href
    invalid = page.locator("[aria-invalid=true]")
    assert invalid.count() >= 4
    for described in invalid.evaluate_all(
        "fields => fields.map((f) => f.getAttribute('aria-describedby')"
        " || f.closest('fieldset').getAttribute('aria-describedby'))"
    ):
        messages = [page.locator(f"#{name}").inner_text() for name in described.split()]
        assert messages and all(messages), described


def test_pages_have_no_serious_accessibility_findings(app, seminar, axe_page):
    """Each page, in each language and at both widths, passes axe without a serious finding."""
    event_title, token = seminar
    page = axe_page
    findings: list[str] = []

    # A real registration first, so that the session can show the confirmation page.
    open_page(page, "/events/seminar/register?lang=en")
    fill_registration(page)
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/register/thanks")

    public = {
        "event page": "/events/seminar",
        "registration form": "/events/seminar/register",
        "confirmation": "/events/seminar/register/thanks",
        "personal page": f"/r/{token}",
        "staff sign-in": "/manage/login",
    }
    staff = {
        "staff home": "/manage/",
        "registrations list": "/manage/events/seminar/registrations",
    }
    for pages, signed_in in ((public, False), (staff, True)):
        if signed_in:
            sign_in(page, app.config["PUBLIC_BASE_URL"], "organizer@example.org")
        for width, viewport in VIEWPORTS.items():
            page.set_viewport_size(viewport)
            for lang in LANGUAGES:
                for name, path in pages.items():
                    open_page(page, f"{path}?lang={lang}")
                    assert page.locator("html").get_attribute("lang") == lang
                    findings += blocking_findings(page, f"{name} {path} [{lang}, {width}]")
                    if name == "registration form":
                        page.click("form.form button[type=submit]")
                        page.locator(".error-summary").wait_for()
                        check_failed_form(page, event_title, lang)
                        where = f"registration form with errors [{lang}, {width}]"
                        findings += blocking_findings(page, where)

    assert findings == [], "axe found serious problems:\n" + "\n".join(findings)


def test_the_pages_are_named_in_their_titles(app, seminar, axe_page):
    """The browser tab and a screen reader's first words say which page this is."""
    event_title, token = seminar
    page = axe_page
    open_page(page, "/events/seminar/register")
    assert page.title() == f"Register — {event_title}"
    fill_registration(page)
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/register/thanks")
    assert page.title() == f"You are registered — {event_title}"
    open_page(page, f"/r/{token}")
    assert page.title() == f"Your registration — {event_title}"


def relative_luminance(rgb: str) -> float:
    """WCAG 2's relative luminance of a computed colour such as ``rgb(118, 127, 138)``."""
    channels = [int(part) / 255 for part in rgb[rgb.index("(") + 1 : -1].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_field_edges_and_focus_rings_stand_out_from_the_page(seminar, axe_page):
    """Text fields' borders and the focus ring reach 3:1 against the page (WCAG 1.4.11)."""
    page = axe_page
    open_page(page, "/events/seminar/register")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    borders = page.locator("form.form input:not([type=hidden]), form.form select").evaluate_all(
        "fields => fields.filter((f) => !['radio', 'checkbox'].includes(f.type))"
        ".map((f) => [f.id, getComputedStyle(f).borderTopColor])"
    )
    assert len(borders) >= 8
    for field_id, border in borders:
        assert contrast(border, background) >= 3, (field_id, border, background)

    # The ring around a field on the page, and around a link in the header's panel.
    page.focus("#name")
    assert_focus_ring_stands_out(page, background)
    for _step in range(3):  # back past the radio buttons and the link to the event
        page.keyboard.press("Shift+Tab")
    assert focused(page) == "a:Türkmençe"
    header = page.evaluate("getComputedStyle(document.querySelector('.topbar')).backgroundColor")
    assert_focus_ring_stands_out(page, header)


def assert_focus_ring_stands_out(page, background: str) -> None:
    ring = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth, s.outlineColor]; })()"
    )
    assert ring[0] == "solid" and float(ring[1].removesuffix("px")) >= 2, ring
    assert contrast(ring[2], background) >= 3, (ring, background)


def focused(page) -> str:
    """The focused element, as a short description: its id, else its tag and text."""
    return page.evaluate(
        """(() => {
          const el = document.activeElement;
          return el.id || `${el.tagName.toLowerCase()}:${el.textContent.trim()}`;
        })()"""
    )


def test_registering_with_the_keyboard_alone(app, seminar, axe_page):
    """Tab from the skip link through the form, fill it with keys, send it with Enter."""
    event_title, _token = seminar
    page = axe_page
    open_page(page, "/events/seminar/register")

    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert focused(page) == "a:Skip to content"
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0 and box["width"] > 20, "skip link stays hidden"

    # The skip link leads into the page, past the header.
    page.keyboard.press("Enter")
    assert focused(page) == "main"
    page.keyboard.press("Tab")
    assert focused(page) == f"a:← {event_title}"

    open_page(page, "/events/seminar/register")
    order = []
    for _step in range(16):
        page.keyboard.press("Tab")
        order.append(focused(page))
    assert order == [
        "a:Skip to content",
        "a:HybridDesk",
        "a:Русский",
        "a:Türkmençe",
        f"a:← {event_title}",
        "participation-0",
        "name",
        "email",
        "phone",
        "organization",
        "position",
        "org_kind",
        "gender",
        "language",
        "consent",
        "button:Register",
    ]

    # Back to the top, then through the form again, filling it in this time.
    open_page(page, "/events/seminar/register")
    for _step in range(6):
        page.keyboard.press("Tab")
    assert focused(page) == "participation-0"
    page.keyboard.press("ArrowDown")  # the second site, Ahal
    page.keyboard.press("Tab")
    page.keyboard.type("Ňurgeldi Şükürow")
    page.keyboard.press("Tab")
    page.keyboard.type("nurgeldi@example.org")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type("Ahal information centre for human rights")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert focused(page) == "org_kind"
    assert page.locator("#org_kind").input_value() == "", "a kind is chosen beforehand"
    for _step in range(3):  # Choose…, state, public, then the information centre
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert focused(page) == "consent"
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/register/thanks")
    assert page.locator("h1").inner_text() == "You are registered"

    db.session.remove()
    registration = db.session.scalar(
        sa.select(Registration).where(Registration.email == "nurgeldi@example.org")
    )
    assert registration.name == "Ňurgeldi Şükürow"
    assert registration.mode == Mode.IN_PERSON and registration.site.slug == "ahal"
    assert registration.org_kind == OrgKind.INFO_CENTRE


#: The staff's working pages, beyond the home and the registrations list swept above.
STAFF_PAGES = {
    "dashboard": "/manage/events/seminar/dashboard",
    "report": "/manage/events/seminar/report",
    "event form": "/manage/events/seminar/edit",
    "new event form": "/manage/events/new",
    "agenda": "/manage/events/seminar/agenda",
    "certificates": "/manage/events/seminar/certificates",
    "messages": "/manage/events/seminar/messages",
    "new message": "/manage/events/seminar/messages/new",
}


def test_staff_pages_have_no_serious_accessibility_findings(app, seminar, axe_page):
    """The dashboard, the report, the event, agenda, certificate and message pages pass axe."""
    page = axe_page
    sign_in(page, app.config["PUBLIC_BASE_URL"], "organizer@example.org")
    findings: list[str] = []
    for width, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)
        for lang in LANGUAGES:
            for name, path in STAFF_PAGES.items():
                open_page(page, f"{path}?lang={lang}")
                findings += blocking_findings(page, f"{name} {path} [{lang}, {width}]")
    assert findings == [], "axe found serious problems:\n" + "\n".join(findings)


@pytest.fixture
def whole_seminar(app, seminar):
    """The seminar with what the remaining staff pages show: an online participant, a site
    coordinator, an admin to see the staff accounts and the audit log."""
    event_title, token = seminar
    event = db.session.scalar(sa.select(Event).where(Event.slug == "seminar"))
    online = make_registration(event, name="Merdan Ataýew", site=None)
    registration = db.session.scalar(
        sa.select(Registration).where(Registration.name == "Aýna Orazowa")
    )
    make_staff("admin@example.org", Role.ADMIN)
    coordinator = make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",))
    found = {
        "registration_id": registration.id,
        "online_token": online.manage_token,
        "coordinator_id": coordinator.id,
        "item_id": event.agenda_items[0].id,
        "site_id": registration.site_id,
    }
    db.session.remove()
    return found


def every_other_page(ids: dict[str, int | str]) -> dict[str, str]:
    """The pages not swept above: the door, one person's pages, imports, paper, accounts."""
    registration = f"/manage/events/seminar/registrations/{ids['registration_id']}"
    return {
        "check-in, choose a site": "/manage/events/seminar/checkin",
        "check-in at a site": "/manage/events/seminar/checkin/ahal",
        "queue file upload": "/manage/events/seminar/checkin/ahal/upload",
        "registration's staff page": registration,
        "erasing a registration": f"{registration}/erase",
        "import upload": "/manage/events/seminar/attendance/import",
        "paper sheet": "/manage/events/seminar/paper?site=ahal",
        "completion": "/manage/events/seminar/completion",
        "anonymising the event": "/manage/events/seminar/anonymise",
        "an agenda item": f"/manage/events/seminar/agenda/{ids['item_id']}/edit",
        "staff accounts": "/manage/staff",
        "a staff account": f"/manage/staff/{ids['coordinator_id']}",
        "new staff account": "/manage/staff/new",
        "sites": "/manage/sites",
        "a site": f"/manage/sites/{ids['site_id']}/edit",
        "new site": "/manage/sites/new",
        "audit log": "/manage/audit",
        "reminders": "/manage/events/seminar/reminders",
        "sites of the event": "/manage/events/seminar/sites",
        "join page": f"/r/{ids['online_token']}/join",
    }


#: Pages that answer 404 on purpose, and are read all the same.
NOT_FOUND_PAGES = {
    "a certificate code that is not one": "/verify/NOT-A-CERTIFICATE-CODE",
    "a page that does not exist": "/manage/no-such-page",
}


def test_every_other_page_has_no_serious_accessibility_findings(app, whole_seminar, axe_page):
    """The rest of the pages, in every language and at a phone's and a laptop's width, pass axe."""
    page = axe_page
    sign_in(page, app.config["PUBLIC_BASE_URL"], "admin@example.org")
    pages = {name: (path, None) for name, path in every_other_page(whole_seminar).items()}
    pages |= {name: (path, 404) for name, path in NOT_FOUND_PAGES.items()}
    findings: list[str] = []
    for width, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)
        for lang in LANGUAGES:
            for name, (path, status) in pages.items():
                separator = "&" if "?" in path else "?"
                open_page(page, f"{path}{separator}lang={lang}", status)
                if name == "check-in at a site":
                    # Swept once its script has drawn the list and saved it for offline use.
                    page.locator('#checkin[data-offline-ready="1"]').wait_for()
                findings += blocking_findings(page, f"{name} {path} [{lang}, {width}]")
    assert findings == [], "axe found serious problems:\n" + "\n".join(findings)
