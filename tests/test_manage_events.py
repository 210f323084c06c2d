"""Organisers create and edit events; changes of time or status reach participants."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.mail.notices import expand_notices
from app.models import Event, EventFormat, EventStatus, OutboxMessage, RegistrationStatus, Role
from tests.conftest import make_event, make_registration, make_staff, post_form


def event_form(**overrides) -> dict:
    data = {
        "slug": "law-training",
        "title": "Training on the law of public associations",
        "description": "A day of training.",
        "timezone": "Asia/Ashgabat",
        "starts_at": "2031-03-10T10:00",
        "ends_at": "2031-03-10T13:30",
        "format": "hybrid",
        "meeting_url": "https://meet.example.org/law",
        "registration_opens_at": "2031-02-01T09:00",
        "registration_closes_at": "2031-03-09T18:00",
        "organizer_name": "UNDP Turkmenistan",
        "organizer_email": "Organizer@Example.org",
        "status": "published",
    }
    data.update(overrides)
    return data


def event_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Event.id)))


def outbox(kind: str | None = None) -> list[OutboxMessage]:
    """What the outbox holds once the worker has written the emails of waiting notices."""
    expand_notices()
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def test_create_event_stores_local_times_as_utc(client, signed_in_organizer):
    response = post_form(client, "/manage/events/new", event_form())
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/manage/events/law-training/sites")

    event = db.session.scalar(sa.select(Event).where(Event.slug == "law-training"))
    # Ashgabat is UTC+5: 10:00 there is 05:00 UTC.
    assert event.starts_at == datetime(2031, 3, 10, 5, 0, tzinfo=UTC)
    assert event.ends_at == datetime(2031, 3, 10, 8, 30, tzinfo=UTC)
    assert event.registration_opens_at == datetime(2031, 2, 1, 4, 0, tzinfo=UTC)
    assert event.registration_closes_at == datetime(2031, 3, 9, 13, 0, tzinfo=UTC)
    assert event.timezone == "Asia/Ashgabat"
    assert event.format == EventFormat.HYBRID
    assert event.status == EventStatus.PUBLISHED
    assert event.organizer_email == "organizer@example.org"
    # Nobody is registered yet, so nobody is written to.
    assert outbox() == []


def test_edit_form_shows_times_in_the_events_zone(client, signed_in_organizer):
    post_form(client, "/manage/events/new", event_form())
    html = client.get("/manage/events/law-training/edit").get_data(as_text=True)
    assert 'value="2031-03-10T10:00"' in html
    assert 'value="2031-03-09T18:00"' in html


def test_another_zone_converts_with_its_own_offset(client, signed_in_organizer):
    post_form(client, "/manage/events/new", event_form(timezone="Europe/Berlin"))
    event = db.session.scalar(sa.select(Event).where(Event.slug == "law-training"))
    # March 10 is winter time in Berlin: UTC+1.
    assert event.starts_at == datetime(2031, 3, 10, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "Unknown time zone"),
        ({"timezone": "../../etc/passwd"}, "timezone", "Unknown time zone"),
        ({"timezone": "localtime"}, "timezone", "Unknown time zone"),
        ({"ends_at": "2031-03-10T09:00"}, "ends_at", "The end must be after the start."),
        ({"ends_at": "2031-03-10T10:00"}, "ends_at", "The end must be after the start."),
        (
            {"registration_closes_at": "2031-01-01T09:00"},
            "registration_closes_at",
            "Registration must close after it opens.",
        ),
        ({"slug": "Law Training"}, "slug", "lower-case letters"),
        ({"slug": "law_training"}, "slug", "lower-case letters"),
        ({"slug": "x" * 65}, "slug", "Field cannot be longer than 64 characters"),
        ({"title": ""}, "title", "This field is required."),
        ({"title": "T" * 301}, "title", "Field cannot be longer than 300 characters"),
        ({"starts_at": ""}, "starts_at", "This field is required."),
        ({"starts_at": "tomorrow"}, "starts_at", "Enter a date and time."),
        ({"starts_at": "0001-01-01T00:00"}, "starts_at", "between the years 2000 and 2200"),
        ({"ends_at": "9999-12-31T23:59"}, "ends_at", "between the years 2000 and 2200"),
        ({"meeting_url": "javascript:alert(1)"}, "meeting_url", "starting with https://"),
        ({"organizer_email": "not-an-email"}, "organizer_email", "Invalid email address."),
        ({"status": "archived"}, "status", "Not a valid choice"),
        ({"format": "telepathy"}, "format", "Not a valid choice"),
        # Europe/Berlin skips 02:00-03:00 on the last Sunday of March.
        (
            {"timezone": "Europe/Berlin", "starts_at": "2031-03-30T02:30"},
            "starts_at",
            "does not exist",
        ),
    ],
)
def test_bad_event_input_is_a_field_error_and_writes_nothing(
    client, signed_in_organizer, overrides, field, message
):
    response = post_form(client, "/manage/events/new", event_form(**overrides))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert message in html
    assert event_count() == 0


def test_duplicate_slug_is_a_field_error(client, signed_in_organizer):
    make_event("law-training")
    response = post_form(client, "/manage/events/new", event_form(title="Another"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="slug-error"' in html
    assert "already in use" in html
    assert event_count() == 1
    assert db.session.scalar(sa.select(Event.title)) != "Another"


def test_bad_csrf_token_is_refused_and_writes_nothing(client, signed_in_organizer):
    response = client.post("/manage/events/new", data={**event_form(), "csrf_token": "forged"})
    assert response.status_code == 400
    assert event_count() == 0


def test_editing_the_start_sends_updates_to_active_registrations_only(client, signed_in_organizer):
    event = make_event("seminar", {"ahal": 2})
    confirmed = make_registration(event, name="Aýna Orazowa")
    waitlisted = make_registration(
        event, name="Merdan Ataýew", status=RegistrationStatus.WAITLISTED
    )
    make_registration(event, name="Jeren Gurbanowa", status=RegistrationStatus.CANCELLED)
    sequence = event.ical_sequence
    local_start = event.local(event.starts_at)
    new_start = (local_start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    new_end = event.local(event.ends_at).strftime("%Y-%m-%dT%H:%M")

    form = edit_form_data(client, "seminar", starts_at=new_start, ends_at=new_end)
    response = client.post("/manage/events/seminar/edit", data=form)
    assert response.status_code == 302

    db.session.expire_all()
    event = db.session.get(Event, event.id)
    assert event.local(event.starts_at).strftime("%Y-%m-%dT%H:%M") == new_start
    assert event.ical_sequence == sequence + 1
    updated = outbox("updated")
    assert sorted(m.recipient for m in updated) == sorted([confirmed.email, waitlisted.email])
    assert len(outbox()) == 2


def edit_form_data(client, event_slug: str, **overrides) -> dict:
    """The edit form as the page fills it in, with some fields changed."""
    html = client.get(f"/manage/events/{event_slug}/edit").get_data(as_text=True)
    data = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html):
        data[name] = value
    for name in ("format", "status"):
        selected = re.search(
            rf'<select[^>]*name="{name}".*?<option selected value="([^"]+)"', html, re.S
        )
        data[name] = selected.group(1)
    description = re.search(
        r'<textarea[^>]*name="description"[^>]*>\s*(.*?)</textarea>', html, re.S
    )
    data["description"] = description.group(1)
    data.update(overrides)
    return data


def test_saving_unchanged_times_notifies_nobody(client, signed_in_organizer):
    # Stored times have seconds; the form shows minutes. That must not count as a change.
    event = make_event("seminar", {"ahal": 2})
    event.starts_at = event.starts_at.replace(second=17)
    db.session.commit()
    make_registration(event)
    form = edit_form_data(client, "seminar", description="A longer description.")
    response = client.post("/manage/events/seminar/edit", data=form)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Event, event.id).description == "A longer description."
    assert outbox() == []


def test_cancelling_the_event_tells_everyone_still_registered(client, signed_in_organizer):
    event = make_event("seminar", {"ahal": 2})
    active = make_registration(event, name="Aýna Orazowa")
    make_registration(event, name="Jeren Gurbanowa", status=RegistrationStatus.CANCELLED)
    form = edit_form_data(client, "seminar", status="cancelled")
    response = client.post("/manage/events/seminar/edit", data=form)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Event, event.id).status == EventStatus.CANCELLED
    messages = outbox()
    assert [(m.kind, m.recipient) for m in messages] == [("event_cancelled", active.email)]


def test_invalid_edit_changes_nothing(client, signed_in_organizer):
    event = make_event("seminar", {"ahal": 2})
    make_registration(event)
    before = (event.starts_at, event.ends_at, event.title)
    form = edit_form_data(client, "seminar", title="New title", ends_at="2000-01-01T00:00")
    response = client.post("/manage/events/seminar/edit", data=form)
    assert response.status_code == 200
    assert "The end must be after the start." in response.get_data(as_text=True)
    db.session.expire_all()
    event = db.session.get(Event, event.id)
    assert (event.starts_at, event.ends_at, event.title) == before
    assert outbox() == []


def test_the_slug_cannot_be_changed_by_editing(client, signed_in_organizer):
    make_event("seminar")
    form = edit_form_data(client, "seminar", slug="hijacked")
    assert client.post("/manage/events/seminar/edit", data=form).status_code == 302
    assert db.session.scalar(sa.select(Event.slug)) == "seminar"


def test_unknown_event_is_404(client, signed_in_organizer):
    assert client.get("/manage/events/nope/edit").status_code == 404
    assert client.get("/manage/events/nope/sites").status_code == 404
    assert client.get("/manage/events/nope/agenda").status_code == 404
    assert client.get("/manage/events/nope/registrations").status_code == 404


def test_index_lists_every_event_for_organisers(client, signed_in_organizer):
    make_event("seminar", title="Seminar on rights")
    make_event("draft-one", title="Draft training", status=EventStatus.DRAFT)
    html = client.get("/manage/").get_data(as_text=True)
    assert "Seminar on rights" in html
    assert "Draft training" in html
    assert "/manage/events/seminar/registrations" in html
    assert "/manage/events/draft-one/agenda" in html


def test_coordinator_home_lists_only_events_at_their_sites(client, auth):
    make_event("at-mary", {"mary": 5}, title="Event in Mary")
    make_event("at-ahal", {"ahal": 5}, title="Event in Ahal")
    make_staff("mary@example.org", Role.COORDINATOR, sites=("mary",))
    auth.login("mary@example.org")
    html = client.get("/manage/").get_data(as_text=True)
    assert "Event in Mary" in html
    assert "Event in Ahal" not in html
    # Organiser links are not offered to coordinators.
    assert "/manage/events/at-mary/edit" not in html


def test_event_title_with_html_is_escaped(client, signed_in_organizer):
    make_event("seminar", title="<script>alert(1)</script>")
    html = client.get("/manage/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
