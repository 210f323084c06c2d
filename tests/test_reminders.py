"""Reminders: sent once, at their time, to the right people, in their language."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image

from app.events.services import EventInput, apply_event_changes, create_event, update_event
from app.extensions import db
from app.messages.reminders import (
    ReminderInput,
    add_reminder,
    enqueue_due_reminders,
    update_reminder,
)
from app.models import (
    Event,
    EventFormat,
    EventStatus,
    MessageKind,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    Reminder,
    Role,
)
from app.refusals import Refusal
from tests.conftest import (
    at_once,
    csrf_token_from,
    make_event,
    make_registration,
    make_staff,
    outbox_rows,
    parsed_email,
    requires_postgres,
)

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def add_defaults(event):
    """The event's default reminders, added as creating an event adds them."""
    reminders = Reminder.defaults_for(event)
    db.session.add_all(reminders)
    return reminders


def start_in_two_weeks() -> datetime:
    return (datetime.now(UTC) + timedelta(days=14)).replace(minute=0, second=0, microsecond=0)


def reminder_rows() -> list[OutboxMessage]:
    return outbox_rows(MessageKind.REMINDER)


def recipients() -> list[str]:
    return sorted(row.recipient for row in reminder_rows())


def reminder_at(event: Event, minutes: int) -> Reminder:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(Reminder).where(Reminder.event_id == event.id, Reminder.minutes_before == minutes)
    )


def leaves(message) -> list[str]:
    return [part.get_content_type() for part in message.walk() if not part.is_multipart()]


@pytest.fixture
def seminar(app):
    """A published seminar two weeks ahead with its two default reminders."""
    event = make_event(starts_at=start_in_two_weeks())
    add_defaults(event)
    db.session.commit()
    return event


# --- the defaults ---------------------------------------------------------------


def test_a_new_event_gets_a_reminder_a_day_and_an_hour_before(app):
    start = datetime(2031, 3, 10, 10, 0)
    event = create_event(
        "new-seminar",
        EventInput(
            title="Seminar",
            timezone="Asia/Ashgabat",
            starts_local=start,
            ends_local=start + 4 * HOUR,
            format=EventFormat.HYBRID,
            status=EventStatus.DRAFT,
        ),
    )
    db.session.commit()

    reminders = db.session.scalars(
        sa.select(Reminder).where(Reminder.event_id == event.id).order_by(Reminder.id)
    ).all()
    assert [(r.minutes_before, r.enabled, r.sent_at) for r in reminders] == [
        (1440, True, None),
        (60, True, None),
    ]
    # 10:00 in Ashgabat is 05:00 UTC.
    assert reminders[0].due_at() == datetime(2031, 3, 9, 5, 0, tzinfo=UTC)


# --- sending ----------------------------------------------------------------------


def test_each_confirmed_person_gets_one_reminder_at_its_time(seminar):
    start = seminar.starts_at
    online = make_registration(seminar, name="Online Person", site=None)
    in_person = make_registration(seminar, name="Site Person", site="ahal")
    make_registration(
        seminar, name="Cancelled Person", status=RegistrationStatus.CANCELLED, site="ahal"
    )
    make_registration(
        seminar, name="Waiting Person", status=RegistrationStatus.WAITLISTED, site="ahal"
    )
    late = make_registration(
        seminar, name="Late Person", created_at=start - DAY + timedelta(minutes=1)
    )

    assert enqueue_due_reminders(now=start - DAY - timedelta(seconds=1)) == 0
    assert reminder_rows() == []

    assert enqueue_due_reminders(now=start - DAY) == 2
    assert recipients() == sorted([online.email, in_person.email])
    day_reminder = reminder_at(seminar, 1440)
    assert day_reminder.sent_at == start - DAY and not day_reminder.skipped

    # Called again, and again a little later: nothing more.
    assert enqueue_due_reminders(now=start - DAY) == 0
    assert enqueue_due_reminders(now=start - DAY + timedelta(minutes=5)) == 0
    assert len(reminder_rows()) == 2

    # The hour-before reminder reaches whoever had registered by then, the late one too.
    assert enqueue_due_reminders(now=start - HOUR + timedelta(seconds=30)) == 3
    hour_rows = reminder_rows()[2:]
    assert sorted(r.recipient for r in hour_rows) == sorted(
        [online.email, in_person.email, late.email]
    )
    assert {r.registration_id for r in hour_rows} == {online.id, in_person.id, late.id}


def test_online_people_get_their_join_link_in_their_language(seminar):
    person = make_registration(seminar, name="Irina Petrova", site=None, language="ru")
    enqueue_due_reminders(now=seminar.starts_at - DAY)
    [row] = reminder_rows()
    message = parsed_email(row)

    assert message["Subject"] == f"Напоминание: {seminar.title}"
    assert row.recipient == person.email
    join = f"http://localhost/r/{person.manage_token}/join"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert join in text
    assert "Здравствуйте, Irina Petrova!" in text
    assert "через 1 день" in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert f'href="{join}"' in html and "Подключиться онлайн" in html
    assert f"http://localhost/r/{person.manage_token}" in text
    # A reminder, not a new invite: no calendar part, no badge.
    assert "text/calendar" not in leaves(message)
    assert "image/png" not in leaves(message)


def test_in_person_people_get_their_site_address_and_badge_in_their_language(seminar):
    person = make_registration(seminar, name="Ogulgerek Ataýewa", site="ahal", language="tk")
    enqueue_due_reminders(now=seminar.starts_at - HOUR)
    [row] = reminder_rows()
    message = parsed_email(row)

    assert message["Subject"] == f"Ýatlatma: {seminar.title}"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Ahal information centre, 1 Main street, Ahal" in text
    assert "Hormatly Ogulgerek Ataýewa!" in text
    assert f"http://localhost/r/{person.manage_token}/badge.pdf" in text
    assert "/join" not in text
    html_part = message.get_body(preferencelist=("html",))
    html = html_part.get_content()
    assert "Çap etmek üçin bejik (PDF)" in html
    [image] = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(image.get_content())))
    assert [d.text for d in decoded] == [person.badge_code]
    assert "text/calendar" not in leaves(message)


def test_a_reminder_much_too_late_is_skipped_and_marked_not_sent(seminar):
    make_registration(seminar)
    start = seminar.starts_at
    # The worker was down: a day-before reminder with less than half its time left.
    assert enqueue_due_reminders(now=start - 11 * HOUR) == 0
    assert reminder_rows() == []
    day_reminder = reminder_at(seminar, 1440)
    assert day_reminder.sent_at == start - 11 * HOUR and day_reminder.skipped
    # The hour-before one still goes out, once.
    assert enqueue_due_reminders(now=start - HOUR) == 1
    assert enqueue_due_reminders(now=start - 11 * HOUR) == 0


def test_a_reminder_a_little_late_still_goes_out(seminar):
    make_registration(seminar)
    assert enqueue_due_reminders(now=seminar.starts_at - 13 * HOUR) == 1
    assert not reminder_at(seminar, 1440).skipped


def test_once_the_event_has_started_nothing_goes_out(seminar):
    make_registration(seminar)
    assert enqueue_due_reminders(now=seminar.starts_at + timedelta(minutes=10)) == 0
    assert reminder_rows() == []


@pytest.mark.parametrize("status", [EventStatus.DRAFT, EventStatus.CANCELLED])
def test_only_published_events_send_reminders(app, status):
    event = make_event(starts_at=start_in_two_weeks(), status=status)
    add_defaults(event)
    make_registration(event)
    assert enqueue_due_reminders(now=event.starts_at - DAY) == 0
    assert reminder_rows() == []
    assert reminder_at(event, 1440).sent_at is None


def test_a_switched_off_reminder_is_not_sent(seminar):
    make_registration(seminar)
    reminder_at(seminar, 1440).enabled = False
    db.session.commit()
    assert enqueue_due_reminders(now=seminar.starts_at - DAY) == 0
    assert reminder_at(seminar, 1440).sent_at is None


def test_moving_the_event_moves_its_unsent_reminders(seminar):
    make_registration(seminar)
    old_start = seminar.starts_at
    new_start = old_start + 2 * DAY
    apply_event_changes(seminar, {"starts_at": new_start, "ends_at": new_start + 4 * HOUR})
    db.session.commit()

    assert enqueue_due_reminders(now=old_start - DAY) == 0
    assert enqueue_due_reminders(now=old_start - HOUR) == 0
    assert reminder_rows() == []
    assert reminder_at(seminar, 1440).due_at() == new_start - DAY
    assert enqueue_due_reminders(now=new_start - DAY) == 1


def test_moving_the_event_through_its_form_moves_the_reminders(seminar):
    make_registration(seminar)
    old_start = seminar.starts_at
    local = seminar.local(old_start).replace(tzinfo=None) - timedelta(days=3)
    update_event(
        seminar,
        EventInput(
            title=seminar.title,
            timezone=seminar.timezone,
            starts_local=local,
            ends_local=local + 4 * HOUR,
            format=seminar.format,
            status=seminar.status,
            description=seminar.description,
            meeting_url=seminar.meeting_url,
            organizer_name=seminar.organizer_name,
            organizer_email=seminar.organizer_email,
        ),
        move_agenda=True,
    )
    db.session.commit()
    new_start = old_start - 3 * DAY
    assert seminar.starts_at == new_start
    assert enqueue_due_reminders(now=new_start - DAY - timedelta(seconds=1)) == 0
    assert enqueue_due_reminders(now=new_start - DAY) == 1
    assert enqueue_due_reminders(now=old_start - DAY) == 0


# --- the rules for changing them ---------------------------------------------------


def test_the_services_refuse_bad_offsets(seminar):
    now = seminar.starts_at - 2 * HOUR
    with pytest.raises(Refusal) as refused:
        add_reminder(seminar, ReminderInput(minutes_before=60), now=now)
    assert refused.value.field == "offset" and "already" in refused.value.message
    for minutes in (-60, 0, 1, 31 * 24 * 60):
        with pytest.raises(Refusal):
            add_reminder(seminar, ReminderInput(minutes_before=minutes), now=now)
    with pytest.raises(Refusal) as refused:
        add_reminder(seminar, ReminderInput(minutes_before=180), now=now)
    assert "passed" in refused.value.message
    # Off, a past time harms nobody.
    add_reminder(seminar, ReminderInput(minutes_before=180, enabled=False), now=now)
    with pytest.raises(Refusal) as refused:
        update_reminder(reminder_at(seminar, 180), ReminderInput(180, enabled=True), now=now)
    assert refused.value.field == "enabled"


def test_a_sent_reminder_cannot_be_changed(seminar):
    enqueue_due_reminders(now=seminar.starts_at - DAY)
    with pytest.raises(Refusal):
        update_reminder(reminder_at(seminar, 1440), ReminderInput(minutes_before=120))


# --- the page -------------------------------------------------------------------


def page(client, slug="seminar") -> str:
    response = client.get(f"/manage/events/{slug}/reminders")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def post(client, url: str, data: dict):
    return client.post(url, data={**data, "csrf_token": csrf_token_from(page(client))})


def row_of(html: str, reminder: Reminder) -> str:
    return html.split(f'id="reminder-{reminder.id}"', 1)[1].split("</tr>", 1)[0]


def offsets(event) -> list[tuple[int, bool]]:
    db.session.expire_all()
    return list(
        db.session.execute(
            sa.select(Reminder.minutes_before, Reminder.enabled)
            .where(Reminder.event_id == event.id)
            .order_by(Reminder.minutes_before.desc())
        )
    )


def test_the_page_lists_the_reminders_in_the_events_time(client, signed_in_organizer, app):
    # 10:00 in Ashgabat (UTC+5).
    event = make_event(starts_at=datetime(2031, 3, 10, 5, 0, tzinfo=UTC))
    add_defaults(event)
    db.session.commit()
    html = page(client)
    assert "Mar 9, 2031, 10:00" in row_of(html, reminder_at(event, 1440))
    assert "Mar 10, 2031, 9:00" in row_of(html, reminder_at(event, 60))
    assert 'value="1"' in row_of(html, reminder_at(event, 1440))
    assert 'aria-current="page">Reminders</a>' in html
    assert "Scheduled" in html


def test_the_organiser_adds_changes_and_removes_reminders(client, signed_in_organizer, seminar):
    url = "/manage/events/seminar/reminders"
    response = post(client, url, {"offset": "3", "unit": "hours", "enabled": "y"})
    assert response.status_code == 302
    assert offsets(seminar) == [(1440, True), (180, True), (60, True)]

    hour = reminder_at(seminar, 60)
    prefix = f"reminder-{hour.id}-"
    response = post(
        client, f"{url}/{hour.id}", {prefix + "offset": "30", prefix + "unit": "minutes"}
    )
    assert response.status_code == 302
    assert offsets(seminar) == [(1440, True), (180, True), (30, False)]

    response = post(client, f"{url}/{hour.id}/remove", {})
    assert response.status_code == 302
    assert offsets(seminar) == [(1440, True), (180, True)]


def test_a_sent_reminder_shows_when_it_went_out_and_cannot_be_edited(
    client, signed_in_organizer, seminar
):
    make_registration(seminar)
    enqueue_due_reminders(now=seminar.starts_at - DAY)
    day = reminder_at(seminar, 1440)
    row = row_of(page(client), day)
    assert "Sent" in row and "1 day before the start" in row
    assert "offset" not in row
    prefix = f"reminder-{day.id}-"
    url = f"/manage/events/seminar/reminders/{day.id}"
    response = post(client, url, {prefix + "offset": "2", prefix + "unit": "days"})
    assert response.status_code == 200
    assert "This reminder has gone out already" in response.get_data(as_text=True)
    assert reminder_at(seminar, 1440).minutes_before == 1440


@pytest.mark.parametrize(
    ("offset", "unit", "message"),
    [
        ("-2", "hours", "Enter a whole number above 0."),
        ("abc", "hours", "Enter a whole number above 0."),
        ("1.5", "days", "Enter a whole number above 0."),
        ("", "hours", "Enter how long before the start."),
        ("31", "days", "between 5 minutes and 30 days"),
        ("99999999999999999999", "minutes", "between 5 minutes and 30 days"),
        ("2", "minutes", "between 5 minutes and 30 days"),
        ("24", "hours", "already has a reminder at that time"),
        ("3", "weeks", "Not a valid choice"),
    ],
)
def test_bad_input_is_refused_at_its_field_and_nothing_is_written(
    client, signed_in_organizer, seminar, offset, unit, message
):
    url = "/manage/events/seminar/reminders"
    response = post(client, url, {"offset": offset, "unit": unit, "enabled": "y"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    field = "unit" if unit == "weeks" else "offset"
    error = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', html)
    assert error and message in error.group(1), html
    assert offsets(seminar) == [(1440, True), (60, True)]

    # The same input in a row's form: refused in that row.
    hour = reminder_at(seminar, 60)
    prefix = f"reminder-{hour.id}-"
    if "already" in message:
        offset, unit = "1", "days"
    response = post(
        client,
        f"{url}/{hour.id}",
        {prefix + "offset": offset, prefix + "unit": unit, prefix + "enabled": "y"},
    )
    assert response.status_code == 200
    row = row_of(response.get_data(as_text=True), hour)
    assert f'id="{prefix}{field}-error"' in row and message in row
    assert offsets(seminar) == [(1440, True), (60, True)]


def test_a_time_already_past_is_refused(client, signed_in_organizer, app):
    make_event(starts_in=timedelta(hours=2))
    url = "/manage/events/seminar/reminders"
    response = post(client, url, {"offset": "3", "unit": "hours", "enabled": "y"})
    assert response.status_code == 200
    assert "That time has already passed" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Reminder.id))) == 0


def test_coordinators_may_not_see_or_change_reminders(client, auth, seminar):
    make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",))
    auth.login("ahal@example.org")
    reminder = reminder_at(seminar, 60)
    assert client.get("/manage/events/seminar/reminders").status_code == 403
    token = csrf_token_from(client.get("/manage/").get_data(as_text=True))
    response = client.post(
        f"/manage/events/seminar/reminders/{reminder.id}/remove", data={"csrf_token": token}
    )
    assert response.status_code == 403
    assert reminder_at(seminar, 60) is not None


def test_a_reminder_of_another_event_is_not_found(client, signed_in_organizer, seminar):
    other = make_event("other", starts_at=start_in_two_weeks())
    [theirs, _hour] = add_defaults(other)
    db.session.commit()
    response = post(client, f"/manage/events/seminar/reminders/{theirs.id}/remove", {})
    assert response.status_code == 404
    assert reminder_at(other, 1440) is not None


# --- two workers at once -------------------------------------------------------


@requires_postgres
def test_two_workers_at_once_send_each_person_one_reminder(app):
    events = []
    for index in range(6):
        event = make_event(f"seminar-{index}", starts_at=start_in_two_weeks())
        add_defaults(event)
        for person in range(5):
            make_registration(
                event, name=f"Person {person}", email=f"p{index}-{person}@example.org"
            )
        events.append(event)
    db.session.commit()
    now = events[0].starts_at - DAY
    db.session.remove()

    counts = at_once(app, lambda: enqueue_due_reminders(now=now))
    assert sum(counts) == 30
    per_person = db.session.execute(
        sa.select(OutboxMessage.registration_id, sa.func.count())
        .where(OutboxMessage.kind == MessageKind.REMINDER)
        .group_by(OutboxMessage.registration_id)
    ).all()
    assert len(per_person) == 30
    assert {count for _id, count in per_person} == {1}
    everyone = db.session.scalar(sa.select(sa.func.count(Registration.id)))
    assert everyone == 30
