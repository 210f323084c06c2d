"""The check-in page says where it stands: online, offline, sending, all sent."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import CheckIn, Role
from tests.browser.conftest import open_ahal_checkin
from tests.conftest import make_event, make_registration, make_staff

#: Every text the banner shows, in order, kept by the page itself.
RECORD_BANNER = """() => {
  window.bannerTexts = [];
  const banner = document.getElementById("connection-state");
  new MutationObserver((changes) => {
    for (const change of changes) {
      for (const node of change.addedNodes) window.bannerTexts.push(node.textContent);
    }
  }).observe(banner, { childList: true });
}"""


def test_the_banner_follows_the_connection_and_the_queue(app, live_server, phone):
    from playwright.sync_api import expect

    event = make_event("seminar", {"ashgabat": 50, "ahal": 10})
    make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",))
    code = make_registration(event, name="Aýna Orazowa", site="ahal").badge_code
    db.session.remove()

    page = phone
    open_ahal_checkin(page, live_server)
    banner = page.locator("#connection-state")
    expect(banner).to_have_text("Online: scans are sent at once")
    expect(page.locator("#checkin")).to_have_attribute("data-list-kept", "1")
    page.evaluate(RECORD_BANNER)

    page.context.set_offline(True)
    expect(banner).to_have_text("No connection: scans are kept on this device")
    page.fill("#code-input", code)
    page.press("#code-input", "Enter")
    expect(page.locator("#offline-status")).to_contain_text("1")
    expect(banner).to_have_attribute("data-state", "offline")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckIn)) == 0

    page.context.set_offline(False)
    expect(banner).to_have_text("All sent", timeout=10_000)
    expect(banner).to_have_attribute("data-state", "sent")
    texts = page.evaluate("window.bannerTexts")
    # Retries while the device was offline showed nothing; back online, the scan was sent.
    assert texts[0] == "No connection: scans are kept on this device"
    assert texts[-2:] == ["Sending 1 waiting…", "All sent"]
    assert "Online: scans are sent at once" not in texts
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckIn)) == 1

    # A new scan online is sent at once; the banner still says all was sent.
    page.fill("#code-input", code)
    page.press("#code-input", "Enter")
    expect(page.locator("#result-title")).to_have_text("Already checked in")
    expect(banner).to_have_text("All sent")
