"""The personal online join link: /r/<token>/join."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.attendance.services import record_online_join
from app.extensions import db
from app.models import (
    CheckIn,
    CheckInMethod,
    EventFormat,
    EventStatus,
    Registration,
    RegistrationStatus,
)
from tests.conftest import (
    at_once,
    make_event,
    make_registration,
    requires_postgres,
    zone_where_it_is_noon,
)


def online_rows(registration):
    return db.session.scalars(
        sa.select(CheckIn).where(CheckIn.registration_id == registration.id)
    ).all()


def test_inside_the_window_the_join_is_recorded_and_redirects(app, client):
    event = make_event(starts_in=timedelta(minutes=10))
    person = make_registration(event, name="Ирина Петрова", email="irina@example.org", site=None)

    response = client.get(f"/r/{person.manage_token}/join")
    assert response.status_code == 302
    assert response.headers["Location"] == "https://meet.example.org/seminar"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    rows = online_rows(person)
    assert len(rows) == 1
    assert rows[0].method == CheckInMethod.ONLINE_JOIN and rows[0].site_id is None
    assert rows[0].scanned_at == rows[0].last_seen_at


def test_repeated_joins_keep_one_row_with_the_first_and_last_join(app, client):
    # One local day from the first join to now, whatever the hour.
    event = make_event(starts_in=timedelta(minutes=-60), timezone=zone_where_it_is_noon())
    person = make_registration(event, site=None)
    first = event.starts_at + timedelta(minutes=2)
    record_online_join(person, now=first)
    db.session.commit()

    assert client.get(f"/r/{person.manage_token}/join").status_code == 302
    assert client.get(f"/r/{person.manage_token}/join").status_code == 302
    db.session.expire_all()
    rows = online_rows(person)
    assert len(rows) == 1
    assert rows[0].scanned_at == first
    assert rows[0].last_seen_at > first + timedelta(minutes=30)


def test_the_window_opens_shortly_before_the_start(app, client):
    app.config["JOIN_OPENS_MINUTES_BEFORE"] = 30
    early = make_event("early", starts_in=timedelta(minutes=45))
    person = make_registration(early, site=None)
    response = client.get(f"/r/{person.manage_token}/join")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-state="not_yet"' in html
    assert "Asia/Ashgabat" in html
    assert f"/r/{person.manage_token}/invite.ics" in html
    assert f"/events/{early.slug}/event.ics" in html
    assert online_rows(person) == []

    app.config["JOIN_OPENS_MINUTES_BEFORE"] = 60
    assert client.get(f"/r/{person.manage_token}/join").status_code == 302
    assert len(online_rows(person)) == 1


def test_after_the_end_the_link_no_longer_redirects(app, client):
    event = make_event(starts_in=timedelta(hours=-5), duration=timedelta(hours=4))
    person = make_registration(event, site=None)
    response = client.get(f"/r/{person.manage_token}/join")
    assert response.status_code == 200
    assert 'data-state="over"' in response.get_data(as_text=True)
    assert online_rows(person) == []


def test_cancelled_registration_gets_a_clear_page(app, client):
    event = make_event(starts_in=timedelta(minutes=-5))
    person = make_registration(event, site=None, status=RegistrationStatus.CANCELLED)
    response = client.get(f"/r/{person.manage_token}/join")
    assert response.status_code == 403
    assert "Your registration was cancelled" in response.get_data(as_text=True)
    assert online_rows(person) == []


def test_in_person_registration_when_online_is_not_allowed(app, client):
    event = make_event(starts_in=timedelta(minutes=-5), format=EventFormat.IN_PERSON)
    person = make_registration(event, site="ahal")
    response = client.get(f"/r/{person.manage_token}/join")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "in person only" in html
    assert "Ahal information centre" in html
    assert online_rows(person) == []


def test_in_person_registration_may_join_a_hybrid_event_online(app, client):
    event = make_event(starts_in=timedelta(minutes=-5))
    person = make_registration(event, site="ahal")
    assert client.get(f"/r/{person.manage_token}/join").status_code == 302
    assert [row.method for row in online_rows(person)] == [CheckInMethod.ONLINE_JOIN]


def test_cancelled_event_or_missing_meeting_link(app, client):
    cancelled = make_event(
        "cancelled", starts_in=timedelta(minutes=-5), status=EventStatus.CANCELLED
    )
    person = make_registration(cancelled, site=None)
    response = client.get(f"/r/{person.manage_token}/join")
    assert response.status_code == 403
    assert "has been cancelled" in response.get_data(as_text=True)

    no_link = make_event("no-link", starts_in=timedelta(minutes=-5), meeting_url="")
    other = make_registration(no_link, site=None)
    response = client.get(f"/r/{other.manage_token}/join")
    assert response.status_code == 403
    assert "has not been published yet" in response.get_data(as_text=True)
    # A link that is not a web address is never followed.
    no_link.meeting_url = "javascript:alert(1)"
    db.session.commit()
    assert client.get(f"/r/{other.manage_token}/join").status_code == 403


def test_unknown_token_is_404(app, client):
    make_event()
    assert client.get("/r/not-a-real-token/join").status_code == 404


@requires_postgres
def test_simultaneous_first_joins_make_one_row(app):
    event = make_event(starts_in=timedelta(minutes=-5))
    person = make_registration(event, site=None)
    registration_id = person.id
    db.session.remove()

    def click() -> None:
        record_online_join(db.session.get(Registration, registration_id))
        db.session.commit()

    at_once(app, click, workers=8, timeout=60)
    rows = db.session.scalars(
        sa.select(CheckIn).where(CheckIn.registration_id == registration_id)
    ).all()
    assert len(rows) == 1
    assert rows[0].last_seen_at >= rows[0].scanned_at
