"""Calendar files: parsed back with icalendar, checked against the event and the rules."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from icalendar import Calendar

from app.events.ical import Method, calendar_links, event_to_ical, registration_to_ical
from app.events.services import apply_event_changes
from app.extensions import db
from app.models import AgendaItem, EventStatus, Mode, RegistrationStatus
from app.registrations.services import cancel_registration, change_participation
from tests.conftest import make_event, make_registration

START = datetime(2030, 3, 10, 5, 0, tzinfo=UTC)  # 10:00 in Ashgabat (UTC+5)


def fixed_event(slug="seminar", **fields):
    """An event at a known instant, with a two-item agenda."""
    event = make_event(slug, **fields)
    event.starts_at, event.ends_at = START, START + timedelta(hours=4)
    event.agenda_items[0].starts_at = START
    event.agenda_items[0].ends_at = START + timedelta(minutes=30)
    event.agenda_items.append(
        AgendaItem(
            title="Human rights in the Constitution",
            speakers="Institute of State, Law and Democracy\nUNDP expert",
            starts_at=START + timedelta(minutes=30),
            ends_at=START + timedelta(hours=2),
        )
    )
    db.session.commit()
    return event


def parse(data: bytes):
    calendar = Calendar.from_ical(data)
    [vevent] = calendar.walk("VEVENT")
    return calendar, vevent


def get_invite(client, registration):
    response = client.get(f"/r/{registration.manage_token}/invite.ics")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/calendar"
    return response.data


def test_invite_is_a_request_with_organizer_attendee_alarms_and_utc_times(client, app):
    event = fixed_event()
    registration = make_registration(event, name="Ňurgeldi Şükürow", site="ahal")
    data = get_invite(client, registration)
    calendar, vevent = parse(data)

    assert calendar["METHOD"] == "REQUEST"
    assert str(vevent["ORGANIZER"]) == "mailto:organizer@example.org"
    assert vevent["ORGANIZER"].params["CN"] == "UNDP Turkmenistan"
    attendee = vevent["ATTENDEE"]
    assert str(attendee) == f"mailto:{registration.email}"
    assert attendee.params["RSVP"] == "TRUE"
    assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
    assert attendee.params["CN"] == "Ňurgeldi Şükürow"
    assert vevent["UID"]
    assert vevent["SEQUENCE"] == 0
    assert vevent["DTSTAMP"].dt.tzinfo is not None
    assert vevent["STATUS"] == "CONFIRMED"
    # The same instant as the event, written in UTC.
    assert vevent["DTSTART"].dt == event.starts_at
    assert vevent["DTEND"].dt == event.ends_at
    assert b"DTSTART:20300310T050000Z" in data
    assert b"VTIMEZONE" not in data
    assert vevent["SUMMARY"] == event.title
    triggers = sorted(alarm["TRIGGER"].dt for alarm in vevent.walk("VALARM"))
    assert triggers == [timedelta(days=-1), timedelta(minutes=-30)]
    assert all(alarm["ACTION"] == "DISPLAY" for alarm in vevent.walk("VALARM"))
    assert vevent["LOCATION"] == "Ahal information centre, 1 Main street, Ahal"


def test_invite_description_holds_agenda_in_event_time_and_personal_link(client, app):
    event = fixed_event()
    registration = make_registration(event, site="ahal")
    _, vevent = parse(get_invite(client, registration))
    description = str(vevent["DESCRIPTION"])
    assert "Agenda (times in Asia/Ashgabat, UTC+05:00):" in description
    assert "10:00–10:30 Opening (UNDP Resident Representative)" in description
    assert (
        "10:30–12:00 Human rights in the Constitution "
        "(Institute of State, Law and Democracy, UNDP expert)" in description
    )
    assert f"http://localhost/r/{registration.manage_token}" in description
    assert f"http://localhost/r/{registration.manage_token}/badge.pdf" in description
    assert "/join" not in description
    assert str(vevent["URL"]) == f"http://localhost/r/{registration.manage_token}"


def test_online_invite_points_location_url_and_conference_at_the_join_link(client, app):
    event = fixed_event()
    registration = make_registration(event, site=None)
    join = f"http://localhost/r/{registration.manage_token}/join"
    data = get_invite(client, registration)
    _, vevent = parse(data)
    assert vevent["LOCATION"] == join
    assert str(vevent["URL"]) == join
    [conference] = vevent.conferences
    assert conference.uri == join
    assert conference.feature == "VIDEO"
    description = str(vevent["DESCRIPTION"])
    assert f"Join online: {join}" in description
    assert "badge.pdf" not in description
    # The raw meeting link is reached only through the personal join link.
    assert b"meet.example.org" not in data
    # Online people are reminded shortly before first: Outlook keeps only one alarm.
    assert vevent.walk("VALARM")[0]["TRIGGER"].dt == timedelta(minutes=-30)


def test_lines_are_crlf_and_folded_at_75_octets(client, app):
    event = fixed_event(
        title="Конституция Туркменистана: гарантия прав и свобод человека — "
        "Türkmenistanyň Konstitusiýasy: adam hukuklarynyň we azatlyklarynyň kepili"
    )
    registration = make_registration(event, name="Гульнара Аманова", site="ahal")
    data = get_invite(client, registration)
    assert data.endswith(b"\r\n")
    lines = data.split(b"\r\n")
    assert b"\n" not in b"".join(lines)
    assert max(len(line) for line in lines) <= 75
    for line in lines:
        line.decode("utf-8")  # no character is cut in half by the folding
    _, vevent = parse(data)
    assert vevent["SUMMARY"] == event.title
    assert vevent["ATTENDEE"].params["CN"] == "Гульнара Аманова"


def test_public_entry_is_publish_without_personal_data(client, app):
    event = fixed_event()
    registration = make_registration(event, name="Aýna Orazowa", site="ahal")
    response = client.get("/events/seminar/event.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    data = response.data
    calendar, vevent = parse(data)
    assert calendar["METHOD"] == "PUBLISH"
    assert "ATTENDEE" not in vevent
    for secret in (
        registration.name,
        registration.email,
        registration.manage_token,
        registration.badge_code,
        "meet.example.org",
    ):
        assert secret.encode() not in data
    assert vevent["DTSTART"].dt == START
    assert vevent["DTEND"].dt == START + timedelta(hours=4)
    assert vevent["SEQUENCE"] == 0
    assert str(vevent["URL"]) == "http://localhost/events/seminar"
    assert "Opening" in str(vevent["DESCRIPTION"])
    assert "Ahal information centre" in str(vevent["LOCATION"])
    assert "Online" in str(vevent["LOCATION"])


def test_public_entry_of_draft_or_unknown_event_is_404(client, app):
    make_event("draft", status=EventStatus.DRAFT)
    assert client.get("/events/draft/event.ics").status_code == 404
    assert client.get("/events/nothing/event.ics").status_code == 404


def test_public_entry_follows_time_changes_and_cancellation(client, app):
    event = fixed_event()
    _, before = parse(client.get("/events/seminar/event.ics").data)
    new_start = START + timedelta(days=1)
    apply_event_changes(event, {"starts_at": new_start, "ends_at": new_start + timedelta(hours=3)})
    db.session.commit()
    _, moved = parse(client.get("/events/seminar/event.ics").data)
    assert moved["UID"] == before["UID"]
    assert moved["SEQUENCE"] == before["SEQUENCE"] + 1
    assert moved["DTSTART"].dt == new_start
    apply_event_changes(event, {"status": EventStatus.CANCELLED})
    db.session.commit()
    calendar, cancelled = parse(client.get("/events/seminar/event.ics").data)
    assert calendar["METHOD"] == "PUBLISH"
    assert cancelled["STATUS"] == "CANCELLED"
    assert cancelled["SEQUENCE"] == moved["SEQUENCE"] + 1


def test_uid_stays_and_sequence_grows_across_change_time_change_and_cancel(client, app):
    event = fixed_event()
    registration = make_registration(event, site="ahal")
    token = registration.manage_token

    def invite():
        calendar, vevent = parse(client.get(f"/r/{token}/invite.ics").data)
        return calendar["METHOD"], vevent

    method, first = invite()
    assert (method, first["SEQUENCE"]) == ("REQUEST", 0)

    change_participation(registration, Mode.IN_PERSON, "ashgabat")
    db.session.commit()
    method, moved = invite()
    assert method == "REQUEST"
    assert moved["UID"] == first["UID"]
    assert moved["SEQUENCE"] == 1
    assert moved["LOCATION"].startswith("Ashgabat information centre")

    new_start = START + timedelta(hours=2)
    apply_event_changes(event, {"starts_at": new_start, "ends_at": new_start + timedelta(hours=4)})
    db.session.commit()
    method, rescheduled = invite()
    assert method == "REQUEST"
    assert rescheduled["UID"] == first["UID"]
    assert rescheduled["SEQUENCE"] == 2
    assert rescheduled["DTSTART"].dt == new_start

    cancel_registration(registration)
    db.session.commit()
    method, cancelled = invite()
    assert method == "CANCEL"
    assert cancelled["UID"] == first["UID"]
    assert cancelled["SEQUENCE"] == 3
    assert cancelled["STATUS"] == "CANCELLED"
    assert str(cancelled["ATTENDEE"]) == f"mailto:{registration.email}"
    assert not cancelled.walk("VALARM")


def test_cancelled_event_turns_every_invite_into_cancel(client, app):
    event = fixed_event()
    registration = make_registration(event, site=None)
    _, before = parse(get_invite(client, registration))
    apply_event_changes(event, {"status": EventStatus.CANCELLED})
    db.session.commit()
    calendar, after = parse(get_invite(client, registration))
    assert calendar["METHOD"] == "CANCEL"
    assert after["UID"] == before["UID"]
    assert after["SEQUENCE"] > before["SEQUENCE"]
    assert "This event has been cancelled." in str(after["DESCRIPTION"])


def test_each_registration_has_its_own_uid(client, app):
    event = fixed_event()
    first = make_registration(event, name="A", email="a@example.org")
    second = make_registration(event, name="B", email="b@example.org")
    _, one = parse(get_invite(client, first))
    _, two = parse(get_invite(client, second))
    assert one["UID"] != two["UID"]
    assert first.manage_token not in str(one["UID"])


def test_waitlisted_person_gets_no_invite_yet(client, app):
    event = fixed_event()
    registration = make_registration(event, status=RegistrationStatus.WAITLISTED)
    response = client.get(f"/r/{registration.manage_token}/invite.ics")
    assert response.status_code == 409
    assert "waiting list" in response.get_data(as_text=True)


def test_unknown_token_is_404(client, app):
    assert client.get("/r/not-a-real-token/invite.ics").status_code == 404
    assert client.get("/r/" + "x" * 80 + "/invite.ics").status_code == 404


def test_generators_refuse_publish_for_a_person_and_pin_dtstamp(app):
    event = fixed_event()
    registration = make_registration(event)
    with pytest.raises(ValueError):
        registration_to_ical(registration, Method.PUBLISH, "http://localhost")
    stamp = datetime(2030, 1, 1, 12, tzinfo=UTC)
    _, vevent = parse(registration_to_ical(registration, "request", "http://localhost", now=stamp))
    assert vevent["DTSTAMP"].dt == stamp
    _, public = parse(event_to_ical(event, "https://events.example.org/", now=stamp))
    assert public["UID"].endswith("@events.example.org")


def test_quotes_in_names_do_not_reach_the_attendee_parameter(app):
    event = fixed_event()
    registration = make_registration(event, name='Ahmet "Ahmo" Ýazmyradow')
    data = registration_to_ical(registration, Method.REQUEST, "http://localhost")
    _, vevent = parse(data)
    assert vevent["ATTENDEE"].params["CN"] == "Ahmet 'Ahmo' Ýazmyradow"
    assert b"^'" not in data


def test_google_and_outlook_links_carry_the_event(app):
    event = fixed_event()
    registration = make_registration(event, site=None)
    links = calendar_links(registration, "http://localhost")

    google = urlsplit(links.google)
    assert google.netloc == "calendar.google.com"
    query = parse_qs(google.query)
    assert query["action"] == ["TEMPLATE"]
    assert query["text"] == [event.title]
    assert query["dates"] == ["20300310T050000Z/20300310T090000Z"]
    # Google reads what the link carries: the public event page, never the personal join link.
    assert query["location"] == ["Online"]
    assert "http://localhost/events/seminar" in query["details"][0]
    assert registration.manage_token not in links.google

    for link, host in (
        (links.outlook, "outlook.live.com"),
        (links.outlook_work, "outlook.office.com"),
    ):
        parts = urlsplit(link)
        assert parts.netloc == host
        query = parse_qs(parts.query)
        assert query["rru"] == ["addevent"]
        assert query["subject"] == [event.title]
        assert query["startdt"] == ["2030-03-10T05:00:00Z"]
        assert query["enddt"] == ["2030-03-10T09:00:00Z"]
        assert "http://localhost/events/seminar" in query["body"][0]
        assert registration.manage_token not in link


def test_personal_page_offers_calendar_links_and_ics(client, app):
    event = fixed_event()
    registration = make_registration(event, site="ahal")
    page = client.get(f"/r/{registration.manage_token}").get_data(as_text=True)
    assert f"/r/{registration.manage_token}/invite.ics" in page
    assert "Add to Google Calendar" in page
    assert "https://calendar.google.com/calendar/render?action=TEMPLATE" in page
    assert "Add to Outlook" in page
    assert "https://outlook.live.com/calendar/0/deeplink/compose?" in page


def test_personal_page_of_cancelled_registration_offers_no_calendar(client, app):
    event = fixed_event()
    registration = make_registration(event, status=RegistrationStatus.CANCELLED)
    page = client.get(f"/r/{registration.manage_token}").get_data(as_text=True)
    assert "Add to Google Calendar" not in page
    assert "badge.svg" not in page
