"""Organisers create and edit events; changes of time or status reach participants."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from app.extensions import db
from app.mail.notices import expand_notices
from app.models import (
    AgendaItem,
    Event,
    EventFormat,
    EventStatus,
    OutboxMessage,
    RegistrationStatus,
    Role,
)
from tests.conftest import (
    make_event,
    make_registration,
    make_staff,
    outbox_rows,
    parsed_email,
    post_form,
)


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
    return outbox_rows(kind)


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

    form = edit_form_data(client, "seminar", starts_at=new_start, ends_at=new_end, move_agenda="y")
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
    for tag in re.findall(r"<input[^>]*>", html):
        if 'type="checkbox"' in tag and " checked" not in tag:
            continue  # a browser sends no unticked box
        field = re.search(r'name="([^"]+)"[^>]*value="([^"]*)"', tag)
        if field:
            data[field.group(1)] = field.group(2)
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


# --- the agenda moves with the event ------------------------------------------------


def local_times(event: Event) -> list[tuple[str, str, str]]:
    """The agenda as an organiser reads it: title, start and end in the event's zone."""
    db.session.expire_all()
    items = db.session.scalars(
        sa.select(AgendaItem).where(AgendaItem.event_id == event.id).order_by(AgendaItem.starts_at)
    )
    zone = db.session.get(Event, event.id).zone
    return [
        (
            item.title,
            item.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            item.ends_at.astimezone(zone).strftime("%H:%M"),
        )
        for item in items
    ]


def invite_description(message: OutboxMessage) -> str:
    """The agenda an updated invite carries, as its calendar part's DESCRIPTION."""
    email = parsed_email(message)
    [part] = [p for p in email.walk() if p.get_content_type() == "text/calendar"]
    [vevent] = Calendar.from_ical(part.get_content().encode("utf-8")).walk("VEVENT")
    return str(vevent["DESCRIPTION"])


def seminar_with_a_panel(
    starts_at: datetime, panel_starts_at: datetime, panel_ends_at: datetime, **fields
) -> Event:
    """The seminar, with a Panel on its agenda after the Opening every test event has."""
    event = make_event("seminar", starts_at=starts_at, **fields)
    event.agenda_items.append(
        AgendaItem(title="Panel", starts_at=panel_starts_at, ends_at=panel_ends_at)
    )
    db.session.commit()
    return event


@pytest.fixture
def seminar(app):
    """A published seminar on 10 March 2031, 10:00-14:00 in Ashgabat, with a two-item agenda."""
    event = seminar_with_a_panel(
        datetime(2031, 3, 10, 5, 0, tzinfo=UTC),
        datetime(2031, 3, 10, 8, 0, tzinfo=UTC),  # 13:00 local
        datetime(2031, 3, 10, 8, 45, tzinfo=UTC),
    )
    make_registration(event)
    return event


SEMINAR_AGENDA = [
    ("Opening", "2031-03-10 10:00", "10:30"),
    ("Panel", "2031-03-10 13:00", "13:45"),
]


def test_the_edit_form_offers_to_move_the_agenda_only_when_there_is_one(
    client, signed_in_organizer, seminar
):
    assert "Move the agenda with the event" in client.get("/manage/events/seminar/edit").text
    without_agenda = make_event("no-agenda")
    db.session.execute(sa.delete(AgendaItem).where(AgendaItem.event_id == without_agenda.id))
    db.session.commit()
    assert "Move the agenda with the event" not in client.get("/manage/events/no-agenda/edit").text


def test_the_agenda_moves_with_the_event_when_asked(client, signed_in_organizer, seminar):
    assert local_times(seminar) == SEMINAR_AGENDA
    # To 08:00 the next morning: 22 hours later, across midnight.
    form = edit_form_data(
        client,
        "seminar",
        starts_at="2031-03-11T08:00",
        ends_at="2031-03-11T12:00",
        move_agenda="y",
    )
    response = client.post("/manage/events/seminar/edit", data=form)
    assert response.status_code == 302

    assert local_times(seminar) == [
        ("Opening", "2031-03-11 08:00", "08:30"),
        ("Panel", "2031-03-11 11:00", "11:45"),
    ]
    # One change, one updated invite, and it carries the moved agenda.
    [message] = outbox()
    assert message.kind == "updated"
    description = invite_description(message)
    assert "08:00–08:30 Opening" in description
    assert "11:00–11:45 Panel" in description


def test_a_moved_agenda_keeps_its_local_times_across_a_daylight_saving_change(
    client, signed_in_organizer
):
    # Berlin is UTC+1 on 20 March 2031 and UTC+2 on 3 April.
    event = seminar_with_a_panel(
        datetime(2031, 3, 20, 9, 0, tzinfo=UTC),  # 10:00 local
        datetime(2031, 3, 20, 13, 0, tzinfo=UTC),  # 14:00 local
        datetime(2031, 3, 20, 14, 0, tzinfo=UTC),
        timezone="Europe/Berlin",
        duration=timedelta(hours=6),
    )
    form = edit_form_data(
        client,
        "seminar",
        starts_at="2031-04-03T10:00",
        ends_at="2031-04-03T16:00",
        move_agenda="y",
    )
    assert client.post("/manage/events/seminar/edit", data=form).status_code == 302
    assert local_times(event) == [
        ("Opening", "2031-04-03 10:00", "10:30"),
        ("Panel", "2031-04-03 14:00", "15:00"),
    ]


def test_the_agenda_stays_when_not_asked_and_still_fits(client, signed_in_organizer, seminar):
    form = edit_form_data(client, "seminar", starts_at="2031-03-10T09:00")
    response = client.post("/manage/events/seminar/edit", data=form)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Event, seminar.id).starts_at == datetime(2031, 3, 10, 4, 0, tzinfo=UTC)
    assert local_times(seminar) == SEMINAR_AGENDA
    assert [m.kind for m in outbox()] == ["updated"]


def refused_edit(client, form: dict) -> str:
    """The seminar's edit form posted and sent back with errors: its HTML, quotes unescaped."""
    response = client.post("/manage/events/seminar/edit", data=form)
    assert response.status_code == 200
    return response.get_data(as_text=True).replace("&#39;", "'")


def test_moving_the_event_away_from_its_agenda_is_refused_at_the_start(
    client, signed_in_organizer, seminar
):
    form = edit_form_data(
        client, "seminar", starts_at="2031-03-11T10:00", ends_at="2031-03-11T14:00"
    )
    html = refused_edit(client, form)
    assert (
        '<p class="error" id="starts_at-error">2 agenda items would fall outside the event\'s '
        "new times. Tick “Move the agenda with the event” to move them along" in html
    )
    db.session.expire_all()
    event = db.session.get(Event, seminar.id)
    assert event.starts_at == datetime(2031, 3, 10, 5, 0, tzinfo=UTC)
    assert event.ends_at == datetime(2031, 3, 10, 9, 0, tzinfo=UTC)
    assert local_times(seminar) == SEMINAR_AGENDA
    assert outbox() == []


def test_shortening_the_event_under_its_agenda_is_refused_at_the_end(
    client, signed_in_organizer, seminar
):
    form = edit_form_data(client, "seminar", ends_at="2031-03-10T13:30", move_agenda="y")
    html = refused_edit(client, form)
    assert (
        '<p class="error" id="ends_at-error">1 agenda item would fall outside the event\'s '
        "new times. Change it on the agenda page first." in html
    )
    db.session.expire_all()
    assert db.session.get(Event, seminar.id).ends_at == datetime(2031, 3, 10, 9, 0, tzinfo=UTC)
    assert local_times(seminar) == SEMINAR_AGENDA
    assert outbox() == []
