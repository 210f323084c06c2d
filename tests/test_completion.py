"""Who completed an event: days and sessions attended, against the event's completion rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.attendance.completion import (
    Evidence,
    completion_of,
    completions,
    event_days,
    merge_spans,
)
from app.extensions import db
from app.models import (
    AgendaItem,
    CheckInMethod,
    CheckInResult,
    CompletionRule,
    MeetingSpan,
    RegistrationStatus,
)
from tests.conftest import (
    DAY_1,
    DAY_2,
    DAY_3,
    add_checkin,
    in_ashgabat,
    make_event,
    make_registration,
)

#: 09:00 in Ashgabat on the first of the three days.
START = in_ashgabat(DAY_1, 9)


def add_session(event, title: str, day: date, start_hour: int, hours: int = 2) -> AgendaItem:
    item = AgendaItem(
        event=event,
        title=title,
        starts_at=in_ashgabat(day, start_hour),
        ends_at=in_ashgabat(day, start_hour + hours),
        counts_attendance=True,
    )
    db.session.add(item)
    db.session.commit()
    return item


def add_span(event, registration, joined: datetime, left: datetime, label: str = "") -> None:
    db.session.add(
        MeetingSpan(
            event_id=event.id,
            registration_id=registration.id,
            label=label or registration.name,
            joined_at=joined,
            left_at=left,
        )
    )
    db.session.commit()


@pytest.fixture
def event(app):
    """Three days, 09:00 on the 10th to 17:00 on the 12th, with four counted sessions."""
    event = make_event(
        "forum", {"ashgabat": 50, "ahal": 20}, starts_at=START, duration=timedelta(days=2, hours=8)
    )
    event.sessions = [
        add_session(event, "Rights in the constitution", DAY_1, 10),
        add_session(event, "Courts and the ombudsman", DAY_2, 10),
        add_session(event, "Local government", DAY_2, 14),
        add_session(event, "Closing panel", DAY_3, 10),
    ]
    return event


def set_rule(event, rule: CompletionRule, percent: int = 80) -> None:
    event.completion_rule = rule
    event.completion_percent = percent
    db.session.commit()


def admit_at_door(event, person, day: date, site: str = "ahal", hour: int = 9):
    return add_checkin(event, person, site, at=in_ashgabat(day, hour))


def admit_to_session(event, person, item: AgendaItem, site: str = "ahal"):
    return add_checkin(
        event, person, site, at=item.starts_at + timedelta(minutes=5), session_id=item.id
    )


def test_the_days_of_an_event_are_its_local_calendar_days(event):
    assert event_days(event) == [DAY_1, DAY_2, DAY_3]
    # Ending at midnight in Ashgabat does not take in the day that only begins then.
    event.ends_at = datetime(2025, 3, 11, 19, 0, tzinfo=UTC)  # 00:00 on the 12th
    assert event_days(event) == [DAY_1, DAY_2]
    one_evening = make_event("talk", starts_at=in_ashgabat(DAY_1, 18), duration=timedelta(hours=2))
    assert event_days(one_evening) == [DAY_1]


def test_any_day_is_met_by_one_live_admission_and_nothing_else_counts(event):
    present = make_registration(event, name="Aýna Orazowa")
    undone = make_registration(event, name="Merdan Ataýew")
    refused = make_registration(event, name="Jeren Hojaýewa")
    admit_at_door(event, present, DAY_2)
    add_checkin(event, undone, "ahal", at=in_ashgabat(DAY_1, 9), annulled=True)
    add_checkin(
        event, refused, "ahal", at=in_ashgabat(DAY_1, 9), result=CheckInResult.REFUSED, reason=None
    )

    found = completions(event)

    assert set(found) == {present.id}
    [completion] = found.values()
    assert (completion.days_attended, completion.days_total) == (1, 3)
    assert (completion.sessions_attended, completion.sessions_total) == (0, 4)
    assert completion.completed
    assert completion_of(event, undone) is None


def test_all_days_needs_every_day_wherever_and_however_it_was_attended(event):
    set_rule(event, CompletionRule.ALL_DAYS)
    every_day = make_registration(event, name="Aýna Orazowa")
    two_days = make_registration(event, name="Merdan Ataýew")
    admit_at_door(event, every_day, DAY_1)
    admit_to_session(event, every_day, event.sessions[1], site="ashgabat")  # day 2: a session
    add_checkin(event, every_day, None, method=CheckInMethod.ONLINE_JOIN, at=in_ashgabat(DAY_3, 9))
    admit_at_door(event, two_days, DAY_1)
    admit_at_door(event, two_days, DAY_3)
    # A rehearsal scan the day before the event is not one of its days.
    admit_at_door(event, two_days, DAY_1 - timedelta(days=1))

    found = completions(event)

    assert found[every_day.id].days_attended == 3 and found[every_day.id].completed
    assert found[two_days.id].days_attended == 2 and not found[two_days.id].completed


def test_share_of_sessions_counts_session_admissions_not_the_door(event):
    set_rule(event, CompletionRule.SHARE_OF_SESSIONS, percent=50)
    half = make_registration(event, name="Aýna Orazowa")
    a_quarter = make_registration(event, name="Merdan Ataýew")
    admit_to_session(event, half, event.sessions[0])
    admit_to_session(event, half, event.sessions[3])
    admit_to_session(event, a_quarter, event.sessions[0])
    for day in (DAY_1, DAY_2, DAY_3):
        admit_at_door(event, a_quarter, day, site="ashgabat")

    found = completions(event)

    assert found[half.id].sessions_attended == 2 and found[half.id].completed
    assert found[a_quarter.id].sessions_attended == 1 and not found[a_quarter.id].completed
    set_rule(event, CompletionRule.SHARE_OF_SESSIONS, percent=51)
    assert not completions(event)[half.id].completed


def test_a_session_no_longer_counting_attendance_is_left_out(event):
    set_rule(event, CompletionRule.SHARE_OF_SESSIONS, percent=100)
    person = make_registration(event)
    for item in event.sessions[:3]:
        admit_to_session(event, person, item)
    assert not completions(event)[person.id].completed

    event.sessions[3].counts_attendance = False
    db.session.commit()

    completion = completions(event)[person.id]
    assert (completion.sessions_attended, completion.sessions_total) == (3, 3)
    assert completion.completed


def test_share_of_sessions_without_counted_sessions_is_met_by_nobody(app):
    event = make_event("talk", starts_at=START, completion_rule=CompletionRule.SHARE_OF_SESSIONS)
    person = make_registration(event)
    admit_at_door(event, person, DAY_1)

    completion = completion_of(event, person)

    assert completion.sessions_total == 0 and not completion.completed


def test_a_session_is_attended_online_with_merged_spans_covering_half_of_it(event):
    set_rule(event, CompletionRule.SHARE_OF_SESSIONS, percent=25)
    first = event.sessions[0]  # 10:00-12:00 on day 1
    half = make_registration(event, name="Aýna Orazowa", site=None)
    not_quite = make_registration(event, name="Merdan Ataýew", site=None)
    two_devices = make_registration(event, name="Jeren Hojaýewa", site=None)
    # Two stretches overlapping each other: 09:40-10:40 and 10:20-11:00 cover 60 minutes.
    add_span(event, half, in_ashgabat(DAY_1, 9, 40), in_ashgabat(DAY_1, 10, 40), "Aýna")
    add_span(event, half, in_ashgabat(DAY_1, 10, 20), in_ashgabat(DAY_1, 11), "Aýna (phone)")
    add_span(event, not_quite, in_ashgabat(DAY_1, 10), in_ashgabat(DAY_1, 10, 59))
    # A laptop and a phone connected at once: 40 minutes, not 80.
    add_span(event, two_devices, in_ashgabat(DAY_1, 10), in_ashgabat(DAY_1, 10, 40), "Jeren laptop")
    add_span(event, two_devices, in_ashgabat(DAY_1, 10), in_ashgabat(DAY_1, 10, 40), "Jeren phone")

    found = completions(event)

    assert found[half.id].sessions_attended == 1 and found[half.id].completed
    assert not_quite.id not in found and two_devices.id not in found
    [proof] = found[half.id].evidence
    assert proof == Evidence(
        day=DAY_1,
        site_name=None,
        method=CheckInMethod.ONLINE_REPORT,
        at=first.starts_at,
        minutes=60,
        session_title="Rights in the constitution",
    )


def test_an_online_join_is_a_day_attended_but_no_session(event):
    set_rule(event, CompletionRule.SHARE_OF_SESSIONS, percent=25)
    person = make_registration(event, site=None)
    add_checkin(event, person, None, method=CheckInMethod.ONLINE_JOIN, at=in_ashgabat(DAY_1, 10))

    completion = completion_of(event, person)

    assert completion.days_attended == 1
    assert completion.sessions_attended == 0 and not completion.completed


def test_the_evidence_says_where_how_and_when_oldest_first(event):
    person = make_registration(event, status=RegistrationStatus.CANCELLED)
    add_checkin(
        event,
        person,
        None,
        method=CheckInMethod.ONLINE_REPORT,
        at=in_ashgabat(DAY_3, 9, 55),
        online_minutes=130,
    )
    admit_to_session(event, person, event.sessions[0])
    admit_at_door(event, person, DAY_1, site="ashgabat", hour=8)

    evidence = completion_of(event, person).evidence

    assert [
        (proof.day, proof.site_name, proof.method, proof.session_title) for proof in evidence
    ] == [
        (DAY_1, "Ashgabat information centre", CheckInMethod.QR, None),
        (DAY_1, "Ahal information centre", CheckInMethod.QR, "Rights in the constitution"),
        (DAY_3, None, CheckInMethod.ONLINE_REPORT, None),
    ]
    assert evidence[0].at == in_ashgabat(DAY_1, 8)
    assert evidence[2].minutes == 130


def test_only_this_events_attendance_is_counted(event):
    other = make_event("other", starts_at=START)
    person = make_registration(event)
    stranger = make_registration(other, name="Merdan Ataýew")
    admit_at_door(other, stranger, DAY_1)
    add_span(other, stranger, in_ashgabat(DAY_1, 10), in_ashgabat(DAY_1, 12))

    assert completions(event) == {}
    assert completion_of(event, person) is None


def test_completions_take_a_fixed_number_of_queries(event, count_queries):
    def attend(count: int) -> None:
        for n in range(count):
            person = make_registration(
                event, name=f"Person {count}-{n}", email=f"p{count}-{n}@example.org"
            )
            admit_at_door(event, person, DAY_1)
            admit_to_session(event, person, event.sessions[1])
            add_span(event, person, in_ashgabat(DAY_3, 10), in_ashgabat(DAY_3, 12))

    attend(2)
    with count_queries() as few:
        assert len(completions(event)) == 2
    attend(20)
    with count_queries() as many:
        assert len(completions(event)) == 22
    assert many.count == few.count <= 4


def test_merging_spans_joins_overlapping_and_touching_stretches():
    t = [START + timedelta(minutes=m) for m in range(0, 200, 10)]
    assert merge_spans([(t[3], t[5]), (t[0], t[2]), (t[2], t[3]), (t[7], t[8]), (t[4], t[6])]) == [
        (t[0], t[6]),
        (t[7], t[8]),
    ]
