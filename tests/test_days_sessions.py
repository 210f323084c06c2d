"""Events over several days and sessions that count attendance: admissions per day and per
session, at the door, through the API and the check-in page; the agenda and event forms;
the report's days and sessions, and the completion list."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.attendance.days import days_and_sessions
from app.checkin.roster import site_roster
from app.checkin.services import admit_checkin, counted_session, undo_checkin
from app.extensions import db
from app.models import (
    AgendaItem,
    CheckInMethod,
    CheckInResult,
    CompletionRule,
    Event,
    MeetingSpan,
    OutboxMessage,
    RefusalReason,
    Role,
    Site,
    StaffUser,
    utcnow,
)
from app.refusals import Refusal
from tests.conftest import (
    ASHGABAT_OFFSET,
    DAY_1,
    DAY_2,
    DAY_3,
    add_checkin,
    at_once,
    bearer,
    checkin_rows,
    get_csrf,
    in_ashgabat,
    make_event,
    make_registration,
    make_staff,
    new_id,
    post_checkin,
    post_form,
    requires_postgres,
    token_for,
)

#: 09:00 in Ashgabat on the first of the three days.
START = in_ashgabat(DAY_1, 9)


def site(slug: str) -> Site:
    return db.session.scalar(sa.select(Site).where(Site.slug == slug))


def add_session(event: Event, title: str, starts: datetime, *, counts: bool = True, hours=2):
    item = AgendaItem(
        event=event,
        title=title,
        starts_at=starts,
        ends_at=starts + timedelta(hours=hours),
        counts_attendance=counts,
    )
    db.session.add(item)
    db.session.commit()
    return item


@pytest.fixture
def forum(app):
    """A three-day event in the past, with a counted session on each day."""
    event = make_event(
        "forum", {"ashgabat": 50, "ahal": 20}, starts_at=START, duration=timedelta(days=2, hours=8)
    )
    for day, title in ((DAY_1, "Rights"), (DAY_2, "Courts"), (DAY_3, "Closing panel")):
        add_session(event, title, in_ashgabat(day, 10))
    return event


def sessions_of(event: Event) -> list[AgendaItem]:
    return [item for item in event.agenda_items if item.counts_attendance]


def admit_on(event, person, user, moment, site_slug="ahal", **kwargs):
    """A scan at ``moment``, as a door device sends it then."""
    outcome = admit_checkin(
        event,
        site(site_slug),
        person.badge_code,
        kwargs.pop("client_id", new_id()),
        user,
        scanned_at=moment,
        now=moment,
        **kwargs,
    )
    db.session.commit()
    return outcome


# --- days ----------------------------------------------------------------------------


def test_a_person_is_admitted_once_a_day_on_each_day_of_the_event(forum, coordinator):
    person = make_registration(forum, name="Aýna Orazowa")

    first = admit_on(forum, person, coordinator, in_ashgabat(DAY_1, 8, 50))
    again = admit_on(forum, person, coordinator, in_ashgabat(DAY_1, 14))
    next_day = admit_on(forum, person, coordinator, in_ashgabat(DAY_2, 8, 55))
    last_day = admit_on(forum, person, coordinator, in_ashgabat(DAY_3, 9))

    assert first.admitted and next_day.admitted and last_day.admitted
    assert again.reason == RefusalReason.ALREADY_CHECKED_IN
    assert again.previous.client_id == first.checkin.client_id
    admitted = [row for row in checkin_rows() if row.result == CheckInResult.ADMITTED]
    assert [row.day for row in admitted] == [DAY_1, DAY_2, DAY_3]


def test_the_day_is_the_events_local_day_not_the_utc_one(forum, coordinator):
    person = make_registration(forum)
    # 23:30 UTC on the 10th is 04:30 on the 11th in Ashgabat: the second day.
    late = datetime(2025, 3, 10, 23, 30, tzinfo=UTC)
    assert admit_on(forum, person, coordinator, late).admitted
    assert not admit_on(forum, person, coordinator, in_ashgabat(DAY_2, 9)).admitted
    assert checkin_rows()[0].day == DAY_2


def test_undoing_one_days_admission_leaves_the_others(forum, coordinator):
    person = make_registration(forum)
    first = admit_on(forum, person, coordinator, in_ashgabat(DAY_1, 9))
    second = admit_on(forum, person, coordinator, in_ashgabat(DAY_2, 9))

    undo_checkin(forum, first.checkin.client_id, coordinator, now=in_ashgabat(DAY_2, 10))
    db.session.commit()

    assert admit_on(forum, person, coordinator, in_ashgabat(DAY_2, 11)).reason == (
        RefusalReason.ALREADY_CHECKED_IN
    )
    live = [r for r in checkin_rows() if r.result == CheckInResult.ADMITTED and not r.annulled_at]
    assert [row.client_id for row in live] == [second.checkin.client_id]


def test_a_replayed_duplicate_names_that_days_admission(forum, coordinator):
    person = make_registration(forum)
    admit_on(forum, person, coordinator, in_ashgabat(DAY_1, 9))
    day_two = admit_on(forum, person, coordinator, in_ashgabat(DAY_2, 9))
    client_id = new_id()
    duplicate = admit_on(forum, person, coordinator, in_ashgabat(DAY_2, 12), client_id=client_id)

    replayed = admit_on(forum, person, coordinator, in_ashgabat(DAY_3, 9), client_id=client_id)

    assert replayed.replayed and replayed.reason == RefusalReason.ALREADY_CHECKED_IN
    assert replayed.previous.client_id == day_two.checkin.client_id == duplicate.previous.client_id


@pytest.fixture
def running(app):
    """A three-day event whose last day is today in Ashgabat: its first two days are past."""
    today = (utcnow() + ASHGABAT_OFFSET).date()
    first = today - timedelta(days=2)
    starts = in_ashgabat(first, 0, 30)
    return make_event(
        "seminar", {"ashgabat": 50, "ahal": 20}, starts_at=starts, duration=timedelta(hours=71)
    )


def test_the_api_admits_once_a_day_by_the_scan_time(client, running, coordinator):
    person = make_registration(running)
    token = token_for(coordinator)
    day_one = running.starts_at + timedelta(hours=9)

    first = post_checkin(client, token, person.badge_code, scanned_at=day_one.isoformat())
    again = post_checkin(
        client, token, person.badge_code, scanned_at=(day_one + timedelta(hours=3)).isoformat()
    )
    next_day = post_checkin(
        client, token, person.badge_code, scanned_at=(day_one + timedelta(days=1)).isoformat()
    )

    assert first.status_code == 201 and next_day.status_code == 201
    assert again.status_code == 409 and again.get_json()["reason"] == "already_checked_in"
    assert again.get_json()["previous"]["client_id"] == first.get_json()["checkin"]["client_id"]
    assert "session" not in first.get_json()["checkin"]


def test_the_roster_and_search_show_todays_arrivals_only(client, running, coordinator, auth):
    yesterday = make_registration(running, name="Aýna Orazowa")
    today = make_registration(running, name="Merdan Ataýew")
    add_checkin(running, yesterday, "ahal", at=utcnow() - timedelta(days=1))
    add_checkin(running, today, "ahal")  # now: today, even a minute after midnight

    roster = site_roster(running, site("ahal"))
    assert (roster.expected, roster.expected_arrived) == (2, 1)
    assert [e.registration.name for e in roster.not_arrived] == ["Aýna Orazowa"]

    token = token_for(coordinator)
    answer = client.get("/api/v1/events/seminar/roster?site=ahal", headers=bearer(token)).get_json()
    arrived = {person["name"]: person["checkin"] is not None for person in answer["registrations"]}
    assert arrived == {"Aýna Orazowa": False, "Merdan Ataýew": True}
    assert answer["counts"]["arrived"] == 1
    found = client.get(
        "/api/v1/events/seminar/registrations?q=orazowa", headers=bearer(token)
    ).get_json()
    assert found["results"][0]["checkin"] is None

    auth.login(coordinator.email)
    page = client.get("/manage/events/seminar/checkin/ahal").get_data(as_text=True)
    assert 'id="count-arrived">1<' in page


@requires_postgres
def test_two_scanners_the_same_day_admit_once(app, forum):
    person = make_registration(forum)
    scanners = [
        make_staff(f"door{n}@example.org", sites=("ahal",), role=Role.COORDINATOR) for n in range(2)
    ]
    ids = iter([(scanners[0].id, new_id()), (scanners[1].id, new_id())])
    forum_id, code = forum.id, person.badge_code

    def scan():
        staff_id, client_id = next(ids)
        event = db.session.get(Event, forum_id)
        outcome = admit_checkin(
            event,
            site("ahal"),
            code,
            client_id,
            db.session.get(StaffUser, staff_id),
            scanned_at=in_ashgabat(DAY_2, 9),
            now=in_ashgabat(DAY_2, 9),
        )
        db.session.commit()
        return outcome.checkin.result, outcome.reason

    results = at_once(app, scan)

    assert sorted(results) == [
        (CheckInResult.ADMITTED, None),
        (CheckInResult.REFUSED, RefusalReason.ALREADY_CHECKED_IN),
    ]


# --- sessions: the rules --------------------------------------------------------------


def test_a_session_admission_is_once_per_session_and_counts_for_its_day(forum, coordinator):
    person = make_registration(forum)
    rights, courts, _closing = sessions_of(forum)

    door = admit_on(forum, person, coordinator, in_ashgabat(DAY_1, 9))
    first = admit_on(forum, person, coordinator, in_ashgabat(DAY_1, 10, 5), session=rights)
    again = admit_on(forum, person, coordinator, in_ashgabat(DAY_1, 10, 30), session=rights)
    other = admit_on(forum, person, coordinator, in_ashgabat(DAY_2, 10), session=courts)

    assert door.admitted and first.admitted and other.admitted
    assert again.reason == RefusalReason.ALREADY_CHECKED_IN
    assert again.previous.client_id == first.checkin.client_id
    by_session = {row.session_id: row.day for row in checkin_rows() if row.reason is None}
    assert by_session == {None: DAY_1, rights.id: DAY_1, courts.id: DAY_2}
    # A session's admission is not the day's: the door still admits on day 2.
    assert admit_on(forum, person, coordinator, in_ashgabat(DAY_2, 12)).admitted


def test_a_session_admission_follows_the_door_rules(forum, coordinator, organizer):
    elsewhere = make_registration(forum, name="Merdan Ataýew", site="ashgabat")
    rights = sessions_of(forum)[0]

    refused = admit_on(forum, elsewhere, coordinator, in_ashgabat(DAY_1, 10), session=rights)
    forced = admit_on(
        forum, elsewhere, organizer, in_ashgabat(DAY_1, 10), session=rights, force=True
    )

    assert refused.reason == RefusalReason.WRONG_SITE
    assert forced.admitted and forced.checkin.forced


def test_an_undone_session_admission_can_be_made_again(forum, coordinator):
    person = make_registration(forum)
    rights = sessions_of(forum)[0]
    first = admit_on(forum, person, coordinator, in_ashgabat(DAY_1, 10), session=rights)

    undone = undo_checkin(
        forum, first.checkin.client_id, coordinator, now=in_ashgabat(DAY_1, 10, 1)
    )
    db.session.commit()

    assert undone.annulled_at is not None
    assert admit_on(forum, person, coordinator, in_ashgabat(DAY_1, 10, 2), session=rights).admitted


def test_only_the_events_own_counted_sessions_are_accepted(forum):
    other = make_event("other", starts_at=START)
    foreign = add_session(other, "Elsewhere", in_ashgabat(DAY_1, 10))
    plain = add_session(forum, "Lunch", in_ashgabat(DAY_1, 12), counts=False)

    for session_id in (foreign.id, plain.id, 0, -3, 10**12, max(foreign.id, plain.id) + 100):
        with pytest.raises(Refusal) as refused:
            counted_session(forum, session_id)
        assert refused.value.field == "session"
    assert counted_session(forum, sessions_of(forum)[0].id).title == "Rights"


@requires_postgres
def test_two_scanners_admit_to_one_session_once(app, forum):
    person = make_registration(forum)
    session_id = sessions_of(forum)[0].id
    scanners = iter(
        [
            make_staff(f"door{n}@example.org", sites=("ahal",), role=Role.COORDINATOR).id
            for n in range(2)
        ]
    )
    forum_id, code = forum.id, person.badge_code

    def scan():
        staff_id = next(scanners)
        event = db.session.get(Event, forum_id)
        outcome = admit_checkin(
            event,
            site("ahal"),
            code,
            new_id(),
            db.session.get(StaffUser, staff_id),
            scanned_at=in_ashgabat(DAY_1, 10),
            now=in_ashgabat(DAY_1, 10),
            session=db.session.get(AgendaItem, session_id),
        )
        db.session.commit()
        return outcome.reason

    assert sorted(at_once(app, scan), key=str) == sorted(
        [None, RefusalReason.ALREADY_CHECKED_IN], key=str
    )


# --- sessions: the API ------------------------------------------------------------------


@pytest.fixture
def running_sessions(running):
    """Two counted sessions on the first day of ``running``, and one that is not counted."""
    starts = running.starts_at + timedelta(hours=9)
    return {
        "opening": add_session(running, "Opening plenary", starts),
        "panel": add_session(running, "Panel", starts + timedelta(hours=3)),
        "lunch": add_session(running, "Lunch", starts + timedelta(hours=5), counts=False),
    }


def test_the_api_admits_to_a_session_given_by_id(client, running, running_sessions, coordinator):
    person = make_registration(running)
    token = token_for(coordinator)
    opening = running_sessions["opening"]
    scanned = (opening.starts_at + timedelta(minutes=2)).isoformat()

    first = post_checkin(client, token, person.badge_code, session=opening.id, scanned_at=scanned)
    again = post_checkin(
        client, token, person.badge_code, session=str(opening.id), scanned_at=scanned
    )
    door = post_checkin(client, token, person.badge_code, scanned_at=scanned)

    assert first.status_code == 201 and door.status_code == 201
    assert again.status_code == 409 and again.get_json()["reason"] == "already_checked_in"
    rows = [row for row in checkin_rows() if row.result == CheckInResult.ADMITTED]
    assert [row.session_id for row in rows] == [opening.id, None]
    assert rows[0].day == running.local_day(opening.starts_at)

    undone = client.delete(
        f"/api/v1/events/seminar/checkins/{first.get_json()['checkin']['client_id']}",
        headers=bearer(token),
    )
    assert undone.status_code == 200
    assert post_checkin(client, token, person.badge_code, session=opening.id).status_code == 201


@pytest.mark.parametrize(
    "value",
    [
        "unknown",
        "other event",
        "not counted",
        "abc",
        "12abc",
        1.5,
        True,
        [1],
        {"id": 1},
        0,
        -1,
        10**30,
        "9" * 30,
        "١٢",  # digits, but not ASCII ones
    ],
)
def test_a_bad_session_is_refused_at_its_field_and_nothing_is_written(
    client, running, running_sessions, coordinator, value
):
    person = make_registration(running)
    token = token_for(coordinator)
    if value == "unknown":
        value = max(item.id for item in running_sessions.values()) + 1000
    elif value == "other event":
        other = make_event("other", starts_at=running.starts_at)
        value = add_session(other, "Elsewhere", running.starts_at + timedelta(hours=9)).id
    elif value == "not counted":
        value = running_sessions["lunch"].id

    response = post_checkin(client, token, person.badge_code, session=value)

    assert response.status_code == 422, response.get_json()
    assert response.get_json()["field"] == "session"
    assert response.get_json()["status"] == "error"
    assert checkin_rows() == []


def test_an_empty_or_null_session_is_the_door(client, running, running_sessions, coordinator):
    people = [make_registration(running, name=name) for name in ("Aýna Orazowa", "Merdan Ataýew")]
    token = token_for(coordinator)
    assert post_checkin(client, token, people[0].badge_code, session="").status_code == 201
    assert post_checkin(client, token, people[1].badge_code, session=None).status_code == 201
    assert [row.session_id for row in checkin_rows()] == [None, None]


def test_the_description_offers_the_session_in_the_check_in_request(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    request = spec["components"]["schemas"]["CheckinRequest"]
    assert "session" in request["properties"]
    assert "session" not in request["required"]


# --- sessions: the check-in page ----------------------------------------------------------


def test_the_check_in_page_offers_the_counted_sessions_with_the_door_first(
    client, auth, running, running_sessions, coordinator
):
    auth.login(coordinator.email)
    page = client.get("/manage/events/seminar/checkin/ahal").get_data(as_text=True)

    assert 'id="session-select"' in page
    options = page[page.index('id="session-select"') : page.index("</select>")]
    assert options.index('value=""') < options.index("Opening plenary") < options.index("Panel")
    assert "Lunch" not in options


def test_without_counted_sessions_the_page_has_no_session_choice(
    client, auth, running, coordinator
):
    auth.login(coordinator.email)
    page = client.get("/manage/events/seminar/checkin/ahal").get_data(as_text=True)
    assert 'id="session-select"' not in page


def test_the_page_checks_in_to_a_session_as_its_script_does(
    client, auth, running, running_sessions, coordinator
):
    """The page's script sends the chosen session, signed in, with the page's CSRF token."""
    person = make_registration(running)
    auth.login(coordinator.email)
    token = get_csrf(client, "/manage/events/seminar/checkin/ahal")
    panel = running_sessions["panel"]

    response = client.post(
        "/api/v1/events/seminar/checkins",
        json={
            "code": person.badge_code,
            "site": "ahal",
            "client_id": new_id(),
            "session": panel.id,
            "scanned_at": (panel.starts_at + timedelta(minutes=1)).isoformat(),
        },
        headers={"X-CSRFToken": token},
    )

    assert response.status_code == 201
    assert checkin_rows()[0].session_id == panel.id


# --- the agenda and event forms ------------------------------------------------------


@pytest.fixture
def draft(app):
    return make_event("forum", starts_at=START, duration=timedelta(days=2, hours=8))


def agenda_form(**overrides):
    return {
        "title": "Courts and the ombudsman",
        "speakers": "",
        "starts_at": "2025-03-11T10:00",
        "ends_at": "2025-03-11T12:00",
        **overrides,
    }


def test_an_agenda_item_can_be_marked_as_counting_attendance(client, signed_in_organizer, draft):
    post_form(client, "/manage/events/forum/agenda", agenda_form(counts_attendance="y"))
    post_form(client, "/manage/events/forum/agenda", agenda_form(title="Coffee"))

    items = {item.title: item for item in db.session.scalars(sa.select(AgendaItem))}
    assert items["Courts and the ombudsman"].counts_attendance
    assert not items["Coffee"].counts_attendance
    page = client.get("/manage/events/forum/agenda").get_data(as_text=True)
    assert page.count("Attendance counted") >= 2  # the badge, and the form's checkbox

    item = items["Coffee"]
    url = f"/manage/events/forum/agenda/{item.id}/edit"
    post_form(client, url, agenda_form(title="Coffee", counts_attendance="y"))
    db.session.expire_all()
    assert db.session.get(AgendaItem, item.id).counts_attendance


def test_marking_a_session_sends_no_invite_update(client, signed_in_organizer, app):
    event = make_event("forum", starts_at=START, duration=timedelta(days=2, hours=8))
    make_registration(event)
    item = add_session(event, "Courts", in_ashgabat(DAY_2, 10), counts=False)
    sequence = event.ical_sequence
    before = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))

    post_form(
        client,
        f"/manage/events/forum/agenda/{item.id}/edit",
        agenda_form(title="Courts", counts_attendance="y"),
    )

    db.session.expire_all()
    assert db.session.get(AgendaItem, item.id).counts_attendance
    assert db.session.get(Event, event.id).ical_sequence == sequence
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == before


def test_a_session_people_were_checked_in_to_cannot_be_deleted(client, signed_in_organizer, forum):
    person = make_registration(forum)
    rights = sessions_of(forum)[0]
    add_checkin(forum, person, "ahal", at=in_ashgabat(DAY_1, 10), session_id=rights.id)
    token = get_csrf(client, "/manage/events/forum/agenda")

    response = client.post(
        f"/manage/events/forum/agenda/{rights.id}/delete",
        data={"csrf_token": token},
        follow_redirects=True,
    )

    assert response.status_code == 200
    assert "so it stays on the agenda" in response.get_data(as_text=True)
    assert db.session.get(AgendaItem, rights.id) is not None


def event_form(**overrides) -> dict:
    return {
        "title": "Forum",
        "description": "",
        "timezone": "Asia/Ashgabat",
        "starts_at": "2025-03-10T09:00",
        "ends_at": "2025-03-12T17:00",
        "format": "hybrid",
        "meeting_url": "",
        "registration_opens_at": "",
        "registration_closes_at": "",
        "organizer_name": "",
        "organizer_email": "",
        "status": "draft",
        "personal_data_retention_days": "",
        **overrides,
    }


def test_the_completion_rule_is_set_on_the_event_form(client, signed_in_organizer, draft):
    response = post_form(
        client,
        "/manage/events/forum/edit",
        event_form(completion_rule="share_of_sessions", completion_percent="75"),
    )

    assert response.status_code == 302
    db.session.expire_all()
    event = db.session.get(Event, draft.id)
    assert (event.completion_rule, event.completion_percent) == (
        CompletionRule.SHARE_OF_SESSIONS,
        75,
    )
    page = client.get("/manage/events/forum/edit").get_data(as_text=True)
    assert '<option selected value="share_of_sessions">' in page
    assert 'value="75"' in page


@pytest.mark.parametrize("percent", ["0", "101", "-5", "", "half", "80.5"])
def test_a_bad_share_is_refused_at_its_field(client, signed_in_organizer, draft, percent):
    response = post_form(
        client,
        "/manage/events/forum/edit",
        event_form(completion_rule="share_of_sessions", completion_percent=percent),
    )

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="completion_percent-error">Enter a share from 1 to 100 %.' in page
    db.session.expire_all()
    event = db.session.get(Event, draft.id)
    assert (event.completion_rule, event.completion_percent) == (CompletionRule.ANY_DAY, 80)


def test_an_unknown_rule_is_refused(client, signed_in_organizer, draft):
    response = post_form(client, "/manage/events/forum/edit", event_form(completion_rule="most"))
    assert response.status_code == 200
    assert 'id="completion_rule-error"' in response.get_data(as_text=True)


# --- the report's days and sessions ---------------------------------------------------


def add_span(event, person, joined, left):
    db.session.add(
        MeetingSpan(
            event_id=event.id,
            registration_id=person.id,
            label=person.name,
            joined_at=joined,
            left_at=left,
        )
    )
    db.session.commit()


def test_each_day_counts_a_person_once_where_they_attended_that_day(forum):
    rights, courts, closing = sessions_of(forum)
    aýna = make_registration(forum, name="Aýna Orazowa", email="ayna@example.org")
    merdan = make_registration(forum, name="Merdan Ataýew", site="ashgabat")
    jeren = make_registration(forum, name="Jeren Hojaýewa", site=None)
    # Aýna: the door and a session at Ahal on day 1 (once), a session only on day 2.
    add_checkin(forum, aýna, "ahal", at=in_ashgabat(DAY_1, 9))
    add_checkin(forum, aýna, "ahal", at=in_ashgabat(DAY_1, 10), session_id=rights.id)
    add_checkin(forum, aýna, "ahal", at=in_ashgabat(DAY_2, 10), session_id=courts.id)
    # Merdan: in Ashgabat on day 1 though he also joined online; online on day 3.
    add_checkin(forum, merdan, "ashgabat", at=in_ashgabat(DAY_1, 9, 30))
    add_checkin(forum, merdan, None, method=CheckInMethod.ONLINE_JOIN, at=in_ashgabat(DAY_1, 9))
    add_checkin(forum, merdan, None, method=CheckInMethod.ONLINE_JOIN, at=in_ashgabat(DAY_3, 9))
    # Jeren: online on day 3, for the whole closing panel; an undone admission on day 2.
    add_checkin(forum, jeren, None, method=CheckInMethod.ONLINE_REPORT, at=in_ashgabat(DAY_3, 10))
    add_checkin(forum, jeren, "ahal", at=in_ashgabat(DAY_2, 9), annulled=True)
    add_span(forum, jeren, in_ashgabat(DAY_3, 9, 55), in_ashgabat(DAY_3, 12))

    data = days_and_sessions(forum)

    ahal, ashgabat = site("ahal").id, site("ashgabat").id
    by_day = {line.day: line.attendance for line in data.days}
    assert [line.day for line in data.days] == [DAY_1, DAY_2, DAY_3]
    assert (by_day[DAY_1].by_site, by_day[DAY_1].online) == ({ahal: 1, ashgabat: 1}, 0)
    assert (by_day[DAY_2].by_site, by_day[DAY_2].online) == ({ahal: 1}, 0)
    assert (by_day[DAY_3].by_site, by_day[DAY_3].online) == ({}, 2)
    by_session = {line.session.title: line.attendance for line in data.sessions}
    assert by_session["Rights"].by_site == {ahal: 1}
    assert by_session["Courts"].by_site == {ahal: 1}
    assert (by_session["Closing panel"].by_site, by_session["Closing panel"].online) == ({}, 1)
    assert (data.attended, data.completed) == (3, 3)

    forum.completion_rule = CompletionRule.ALL_DAYS
    db.session.commit()
    assert days_and_sessions(forum).completed == 0


def test_the_days_and_sessions_take_a_fixed_number_of_queries(forum, count_queries):
    rights = sessions_of(forum)[0]

    def attend(count: int) -> None:
        for n in range(count):
            person = make_registration(forum, name=f"P {count} {n}", email=f"p{count}-{n}@x.org")
            add_checkin(forum, person, "ahal", at=in_ashgabat(DAY_1, 9))
            add_checkin(forum, person, "ahal", at=in_ashgabat(DAY_1, 10), session_id=rights.id)
            add_span(forum, person, in_ashgabat(DAY_3, 10), in_ashgabat(DAY_3, 12))

    attend(2)
    db.session.expire_all()
    event = db.session.get(Event, forum.id)
    with count_queries() as few:
        days_and_sessions(event)
    attend(15)
    db.session.expire_all()
    event = db.session.get(Event, forum.id)
    with count_queries() as many:
        assert days_and_sessions(event).attended == 17
    assert many.count == few.count


def test_the_report_shows_the_days_and_sessions(client, signed_in_organizer, forum):
    person = make_registration(forum)
    add_checkin(forum, person, "ahal", at=in_ashgabat(DAY_2, 9))
    html = client.get("/manage/events/forum/report").get_data(as_text=True)
    assert 'id="attendance-by-day"' in html and 'id="attendance-by-session"' in html
    assert "Closing panel" in html
    assert "Completed (attended on any day): 1 of the 1 people who attended." in html
    assert "/manage/events/forum/completion" in html


# --- the completion list -------------------------------------------------------------


@pytest.fixture
def attended_forum(forum):
    forum.completion_rule = CompletionRule.ALL_DAYS
    db.session.commit()
    every_day = make_registration(forum, name="Aýna Orazowa", organization="=Ministry")
    one_day = make_registration(forum, name="Merdan Ataýew", site=None)
    make_registration(forum, name="Jeren Hojaýewa", site="ashgabat")  # never came
    for day in (DAY_1, DAY_2, DAY_3):
        add_checkin(forum, every_day, "ahal", at=in_ashgabat(day, 9))
    add_checkin(
        forum, every_day, "ahal", at=in_ashgabat(DAY_1, 10), session_id=sessions_of(forum)[0].id
    )
    add_checkin(forum, one_day, None, method=CheckInMethod.ONLINE_JOIN, at=in_ashgabat(DAY_2, 9))
    return forum


def test_the_completion_page_lists_everyone_with_what_they_attended(
    client, signed_in_organizer, attended_forum
):
    page = client.get("/manage/events/forum/completion").get_data(as_text=True)

    assert "1 of 3 people completed." in page
    assert "Completing means attending every day of the event." in page
    rows = page[page.index('id="completion-list"') :]
    assert rows.index("Aýna Orazowa") < rows.index("Jeren Hojaýewa") < rows.index("Merdan")


def test_the_completion_csv_has_the_columns_and_defused_cells(
    client, signed_in_organizer, attended_forum
):
    response = client.get("/manage/events/forum/completion.csv")

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == [
        "Name",
        "Organisation",
        "Site",
        "Days attended",
        "Sessions attended",
        "Completed",
    ]
    assert rows[1:] == [
        ["Aýna Orazowa", "'=Ministry", "Ahal information centre", "3", "1", "yes"],
        [
            "Jeren Hojaýewa",
            "Institute of State, Law and Democracy",
            "Ashgabat information centre",
            "0",
            "0",
            "no",
        ],
        ["Merdan Ataýew", "Institute of State, Law and Democracy", "Online", "1", "0", "no"],
    ]


def test_the_completion_list_is_for_organisers_only(client, auth, coordinator, attended_forum):
    auth.login(coordinator.email)
    assert client.get("/manage/events/forum/completion").status_code == 403
    assert client.get("/manage/events/forum/completion.csv").status_code == 403
    auth.logout()
    assert client.get("/manage/events/forum/completion").status_code in (302, 401)
    assert client.get("/manage/events/nothing/completion").status_code in (302, 401)
