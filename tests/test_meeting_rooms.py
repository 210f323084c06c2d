"""The regional centres' video rooms: tagged in the import preview, stored once, summarised."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import render_template

from app.attendance.rooms import centre_rooms
from app.extensions import db
from app.models import CheckIn, MeetingSpan, Site
from tests.conftest import make_event, make_registration, make_site
from tests.test_imports import confirm, count_of, upload

START = datetime(2025, 3, 14, 5, 0, tzinfo=UTC)  # 10:00 in Ashgabat

REPORT = """\
Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest,Recording Consent
Aýna Orazowa,ayna@example.org,03/14/2025 09:58:00 AM,03/14/2025 02:00:00 PM,242,Yes,Y
Mary centre room,,03/14/2025 09:55:00 AM,03/14/2025 11:10:00 AM,75,Yes,Y
Mary centre room,,03/14/2025 11:25:00 AM,03/14/2025 01:00:00 PM,95,Yes,Y
Mary centre room,,03/14/2025 01:00:30 PM,03/14/2025 02:00:00 PM,60,Yes,Y
""".encode()


@pytest.fixture
def seminar(app):
    event = make_event("seminar", {"ashgabat": 50, "mary": 10}, starts_at=START)
    ayna = make_registration(event, name="Aýna Orazowa", email="ayna@example.org", site=None)
    return event, ayna


def site_id(slug: str) -> int:
    return db.session.scalar(sa.select(Site.id).where(Site.slug == slug))


def room_key(html: str, name: str) -> str:
    return re.search(rf'data-unmatched="([0-9a-f]+)">\s*<td>{name}', html).group(1)


def tag_as_room(client, event, html: str, key: str, site: int):
    payload = re.search(r'name="payload" type="hidden" value="([^"]+)"', html).group(1)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    return client.post(
        f"/manage/events/{event.slug}/attendance/import/confirm",
        data={"csrf_token": token, "payload": payload, "preview": "1", f"room-{key}": str(site)},
    ).get_data(as_text=True)


def spans(event) -> list[tuple]:
    return db.session.execute(
        sa.select(
            MeetingSpan.label,
            MeetingSpan.registration_id,
            MeetingSpan.site_id,
            MeetingSpan.joined_at,
            MeetingSpan.left_at,
        )
        .where(MeetingSpan.event_id == event.id)
        .order_by(MeetingSpan.label, MeetingSpan.joined_at)
    ).all()


def test_a_name_tagged_as_a_centres_room_is_stored_as_the_centre_once(
    seminar, client, signed_in_organizer
):
    event, ayna = seminar
    html = upload(client, event, REPORT, "zoom.csv").get_data(as_text=True)
    assert count_of(html, "unmatched") == 1
    assert "This is a centre's room: Mary information centre" in html
    key = room_key(html, "Mary centre room")

    preview = tag_as_room(client, event, html, key, site_id("mary"))
    assert count_of(preview, "unmatched") == 0
    assert count_of(preview, "rooms") == 1
    assert f'data-room="{key}"' in preview
    assert "Nothing has been saved yet" in preview
    assert spans(event) == []

    done = confirm(client, event, preview, {f"room-{key}": str(site_id("mary"))})
    assert done.status_code == 302
    message = client.get(done.headers["Location"]).get_data(as_text=True)
    assert re.search("1 centre(&#39;|')s room recorded", message)
    stored = spans(event)
    assert [(label, person, site) for label, person, site, *_ in stored] == [
        ("Aýna Orazowa", ayna.id, None),
        ("Mary centre room", None, site_id("mary")),
        ("Mary centre room", None, site_id("mary")),
        ("Mary centre room", None, site_id("mary")),
    ]
    # The room is not a person: only Aýna has a check-in.
    checkins = db.session.scalars(sa.select(CheckIn)).all()
    assert [c.registration_id for c in checkins] == [ayna.id]

    # The same report again, tagged again: nothing more is stored.
    html = upload(client, event, REPORT, "zoom.csv").get_data(as_text=True)
    preview = tag_as_room(client, event, html, key, site_id("mary"))
    done = confirm(client, event, preview, {f"room-{key}": str(site_id("mary"))})
    assert done.status_code == 302
    assert spans(event) == stored
    assert len(db.session.scalars(sa.select(CheckIn)).all()) == 1


def test_a_room_tag_for_a_site_outside_the_event_is_ignored(seminar, client, signed_in_organizer):
    event, _ayna = seminar
    elsewhere = make_site("lebap")
    html = upload(client, event, REPORT, "zoom.csv").get_data(as_text=True)
    preview = tag_as_room(client, event, html, room_key(html, "Mary centre room"), elsewhere.id)
    assert count_of(preview, "rooms") == 0
    assert count_of(preview, "unmatched") == 1


def test_the_centres_connection_with_a_drop_out(seminar, client, signed_in_organizer):
    event, _ayna = seminar
    html = upload(client, event, REPORT, "zoom.csv").get_data(as_text=True)
    key = room_key(html, "Mary centre room")
    preview = tag_as_room(client, event, html, key, site_id("mary"))
    confirm(client, event, preview, {f"room-{key}": str(site_id("mary"))})

    rooms = centre_rooms(event)
    (mary,) = rooms.centres
    assert mary.site_name == "Mary information centre"
    assert mary.first_join == datetime(2025, 3, 14, 4, 55, tzinfo=UTC)  # 09:55 local
    assert mary.last_leave == datetime(2025, 3, 14, 9, 0, tzinfo=UTC)  # 14:00 local
    # 75 + 95 + 59.5 minutes; the 30-second break at 13:00 is a reconnect, not a drop-out.
    assert mary.minutes == 230
    assert [(gap.start, gap.length) for gap in mary.drop_outs] == [
        (datetime(2025, 3, 14, 6, 10, tzinfo=UTC), timedelta(minutes=15))
    ]

    page = client.get(f"/manage/events/{event.slug}/report").get_data(as_text=True)
    row = re.search(r'<tr data-centre="mary">.*?</tr>', page, re.S).group(0)
    assert "Mary information centre" in row
    assert "230" in row
    assert "11:10\u202fAM, 15 min" in row


def test_overlapping_room_spans_count_once_and_the_night_is_no_drop_out(app):
    event = make_event("two-days", {"mary": 10}, starts_at=START, duration=timedelta(days=1))
    mary = site_id("mary")

    def span(label, start, end):
        db.session.add(
            MeetingSpan(event_id=event.id, site_id=mary, label=label, joined_at=start, left_at=end)
        )

    day_one = START
    day_two = START + timedelta(days=1)
    span("Mary room", day_one, day_one + timedelta(hours=2))
    # A second device in the same room, overlapping the first.
    span("Mary tablet", day_one + timedelta(hours=1), day_one + timedelta(hours=3))
    span("Mary room", day_two, day_two + timedelta(hours=1))
    db.session.commit()

    (centre,) = centre_rooms(event).centres
    assert centre.minutes == 4 * 60
    assert centre.drop_outs == ()
    assert centre.first_join == day_one and centre.last_leave == day_two + timedelta(hours=1)


def test_no_rooms_says_so(app):
    event = make_event("quiet", {"mary": 10}, starts_at=START)
    rooms = centre_rooms(event)
    assert rooms.centres == ()
    assert "No centre" in render_template("attendance/_rooms.html", rooms=rooms)
