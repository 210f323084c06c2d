"""Sync by file: scans saved offline on a phone, uploaded on a computer that is online."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import CheckIn, Role
from tests.browser.conftest import open_ahal_checkin, sign_in, watched_page
from tests.conftest import make_event, make_registration, make_staff


@pytest.fixture
def door(app, live_server):
    """The Ahal door with two people expected; returns their codes."""
    event = make_event("seminar", {"ashgabat": 50, "ahal": 10})
    make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",))
    codes = [
        make_registration(event, name="Aýna Orazowa", site="ahal").badge_code,
        make_registration(event, name="Merdan Annaýew", site="ahal").badge_code,
    ]
    db.session.remove()
    return app, live_server, codes


def admissions(app) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(CheckIn.client_id, CheckIn.result).order_by(CheckIn.id)
        ).all()
        db.session.remove()
    return [(client_id, result.value) for client_id, result in rows]


def test_scans_saved_to_a_file_offline_are_recorded_once_by_an_upload(
    door, phone, browser, tmp_path
):
    from playwright.sync_api import expect

    app, base_url, codes = door
    page = phone
    open_ahal_checkin(page, base_url)
    expect(page.locator("#roster")).to_contain_text("Aýna Orazowa")
    save_button = page.get_by_role("button", name="Save the queue to a file")
    expect(save_button).to_be_hidden()
    expect(page.locator("#checkin")).to_have_attribute("data-list-kept", "1")

    page.context.set_offline(True)
    for code in codes:
        page.fill("#code-input", code)
        page.press("#code-input", "Enter")
        expect(page.locator("#result-title")).to_have_text("Admitted")
    expect(page.locator("#offline-status")).to_contain_text("2")

    with page.expect_download() as download_info:
        save_button.click()
    download = download_info.value
    assert download.suggested_filename.startswith("hybriddesk-queue-seminar-ahal-")
    assert download.suggested_filename.endswith(".json")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    saved = json.loads(path.read_text())
    assert (saved["version"], saved["event"], saved["site"]) == (1, "seminar", "ahal")
    assert [scan["code"] for scan in saved["scans"]] == codes
    expect(page.locator("#queue-file-status")).to_contain_text("2 scans saved to")
    # Saving keeps the scans on the phone.
    expect(page.locator("#offline-status")).to_contain_text("2")
    assert admissions(app) == []

    context = browser.new_context(locale="en-GB")
    with watched_page(context) as computer:
        sign_in(computer, base_url, "ahal@example.org")
        computer.goto(f"{base_url}/manage/events/seminar/checkin/ahal")
        computer.get_by_role("link", name="Upload a queue file").click()
        for summary in ("2 admitted, 0 refused, 0 already recorded", "2 already recorded"):
            computer.set_input_files("input[type=file]", path)
            computer.get_by_role("button", name="Upload and record").click()
            expect(computer.locator("#upload-summary")).to_contain_text(summary)
            expect(computer.locator("#upload-results")).to_contain_text("Aýna Orazowa")
            expect(computer.locator("#upload-results")).to_contain_text("Merdan Annaýew")
            recorded = admissions(app)
            assert recorded == [(scan["client_id"], "admitted") for scan in saved["scans"]]

    # The phone, online again, sends its queue: the same client_ids record nothing new.
    page.context.set_offline(False)
    expect(page.locator("#offline-status")).to_be_hidden(timeout=10_000)
    expect(page.locator("#sync-changes")).to_be_hidden()
    expect(save_button).to_be_hidden()
    assert admissions(app) == recorded
