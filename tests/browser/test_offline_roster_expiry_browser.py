"""The site's list kept on a phone for offline use is dropped 12 hours after the event ends."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models import Role
from tests.browser.conftest import sign_in
from tests.conftest import make_event, make_registration, make_staff

HOUR = timedelta(hours=1)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


@pytest.fixture
def ended_event(app, live_server):
    """A seminar at Ahal that ended a day ago, its coordinator and one participant."""
    now = datetime.now(UTC).replace(microsecond=0)
    make_event("seminar", {"ahal": 10}, starts_at=now - 28 * HOUR)
    make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",))
    event = make_event("later", {"ahal": 10}, starts_at=now + 48 * HOUR)
    make_registration(event, name="Aýna Orazowa", site="ahal")
    db.session.remove()
    return live_server, now


KEPT = """async () => {
  const kept = {};
  for (const key of Object.keys(localStorage)) {
    if (key.startsWith("hybriddesk:")) kept[key] = JSON.parse(localStorage.getItem(key));
  }
  const db = await new Promise((resolve, reject) => {
    const opening = indexedDB.open("hybriddesk", 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore("kept");
    opening.onsuccess = () => resolve(opening.result);
    opening.onerror = () => reject(opening.error);
  });
  const store = db.transaction("kept").objectStore("kept");
  const [keys, values] = await Promise.all([store.getAllKeys(), store.getAll()].map(
    (request) => new Promise((resolve) => { request.onsuccess = () => resolve(request.result); })));
  db.close();
  keys.forEach((key, index) => { kept["idb " + key] = values[index]; });
  return kept;
}"""


def kept(page) -> dict:
    """What the page's origin keeps under the app's keys: in localStorage, and in IndexedDB
    (its keys prefixed with "idb ")."""
    return page.evaluate(KEPT)


def test_lists_of_events_over_for_12_hours_are_gone_once_a_checkin_page_loads(ended_event, phone):
    base_url, now = ended_event
    page = phone
    sign_in(page, base_url, "ahal@example.org")
    roster = json.dumps({"registrations": [{"name": "Aýna Orazowa", "code": "ABC"}]})
    stored = {
        # This very event, from a visit during it (its end not yet recorded then).
        "hybriddesk:seminar:ahal:roster": roster,
        "hybriddesk:seminar:ahal:queue": "[]",
        # Another event, over for two days; one check-in of it still waits to be sent.
        "hybriddesk:old:ahal:roster": roster,
        "hybriddesk:old:ahal:ends": json.dumps({"ends": _iso(now - 48 * HOUR)}),
        "hybriddesk:old:ahal:queue": json.dumps([{"method": "POST", "url": "/x", "body": {}}]),
        # One that ended 6 hours ago: still within the grace period.
        "hybriddesk:recent:ahal:roster": roster,
        "hybriddesk:recent:ahal:ends": json.dumps({"ends": _iso(now - 6 * HOUR)}),
        # One still to come.
        "hybriddesk:later:ahal:roster": roster,
        "hybriddesk:later:ahal:ends": json.dumps({"ends": _iso(now + 52 * HOUR)}),
    }
    page.evaluate(
        "(items) => Object.entries(items).forEach(([k, v]) => localStorage.setItem(k, v))",
        stored,
    )

    page.goto(f"{base_url}/manage/events/seminar/checkin/ahal")
    page.wait_for_load_state("networkidle")

    left = kept(page)
    # What an older page kept in localStorage moved to IndexedDB; the small things stay there.
    assert sorted(key for key in left if not key.startswith("idb ")) == [
        "hybriddesk:device",
        "hybriddesk:later:ahal:ends",
        "hybriddesk:old:ahal:ends",
        "hybriddesk:recent:ahal:ends",
        "hybriddesk:seminar:ahal:ends",
    ]
    assert "idb hybriddesk:seminar:ahal:roster" not in left
    assert "idb hybriddesk:seminar:ahal:queue" not in left
    assert "idb hybriddesk:old:ahal:roster" not in left
    # Nothing recorded at the door is lost: the check-in still waiting to be sent stays.
    assert left["idb hybriddesk:old:ahal:queue"] == [{"method": "POST", "url": "/x", "body": {}}]
    assert left["idb hybriddesk:recent:ahal:roster"] == json.loads(roster)
    assert left["idb hybriddesk:later:ahal:roster"] == json.loads(roster)
    assert left["hybriddesk:seminar:ahal:ends"]["ends"].startswith(
        (now - 24 * HOUR).strftime("%Y-%m-%dT%H")
    )

    # The page of an event still to come keeps its list for offline search, as before.
    page.goto(f"{base_url}/manage/events/later/checkin/ahal")
    page.wait_for_load_state("networkidle")
    later = kept(page)["idb hybriddesk:later:ahal:roster"]
    assert [person["name"] for person in later["registrations"]] == ["Aýna Orazowa"]
    # Fetched whole, with the cursor the next refresh asks for changes after.
    assert later["cursor"]
