"""The counting rule, checked on generated events: every table adds up, and every place agrees.

Hypothesis makes registrations (in person at two or three sites, online; confirmed,
waitlisted, cancelled) and check-ins over one to three days (at their own site, let in
at another site on purpose, undone, online joins, meeting-report rows admitted or
refused), writes them to the database, and compares the report, the dashboard's summary
and the API's /attendance with a plain reading of the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.attendance.days import days_and_sessions
from app.attendance.reports import attendance_report
from app.attendance.services import site_attendance
from app.extensions import db
from app.models import CheckInMethod, CheckInResult, Gender, OrgKind, RegistrationStatus, Role
from tests.conftest import (
    _empty_tables,
    add_checkin,
    bearer,
    make_event,
    make_registration,
    make_staff,
    token_for,
)

START = datetime(2025, 3, 14, 5, 0, tzinfo=UTC)  # 10:00 in Ashgabat
SITES = ("ashgabat", "ahal", "lebap")
ONLINE = None

#: What a check-in does: admitted at the person's own site, admitted at another site on
#: purpose, a join with the personal link, a meeting-report row admitted or refused.
KINDS = ("own_site", "other_site", "join", "report", "report_refused")


@dataclass(frozen=True)
class Person:
    home: int | None  # index into the event's sites; None: online
    status: RegistrationStatus
    gender: Gender | None
    org_kind: OrgKind


@dataclass(frozen=True)
class Action:
    person: int
    day: int
    kind: str
    other: int  # which other site, for "other_site"
    minute: int
    undone: bool


@st.composite
def events(draw):
    sites = draw(st.integers(2, 3))
    days = draw(st.integers(1, 3))
    people = draw(
        st.lists(
            st.builds(
                Person,
                home=st.one_of(st.none(), st.integers(0, sites - 1)),
                status=st.sampled_from(list(RegistrationStatus)),
                gender=st.one_of(st.none(), st.sampled_from(list(Gender))),
                org_kind=st.sampled_from([OrgKind.STATE, OrgKind.MEDIA, OrgKind.EXPERT]),
            ),
            max_size=10,
        )
    )
    actions = []
    if people:
        actions = draw(
            st.lists(
                st.builds(
                    Action,
                    person=st.integers(0, len(people) - 1),
                    day=st.integers(0, days - 1),
                    kind=st.sampled_from(KINDS),
                    other=st.integers(1, sites - 1),
                    minute=st.integers(0, 300),
                    undone=st.booleans(),
                ),
                max_size=25,
            )
        )
    return sites, days, people, actions


def write(sites: int, days: int, people: list[Person], actions: list[Action]):
    """The event in the database, and what each check-in that is live says: (person, day,
    minute, order, site index or None for online)."""
    slugs = SITES[:sites]
    event = make_event(
        "seminar",
        dict.fromkeys(slugs, 10),
        starts_at=START,
        duration=timedelta(days=days - 1, hours=8),
    )
    registrations = [
        make_registration(
            event,
            name=f"Person {index}",
            email=f"person{index}@example.org",
            site=slugs[person.home] if person.home is not None else None,
            status=person.status,
            gender=person.gender,
            org_kind=person.org_kind,
        )
        for index, person in enumerate(people)
    ]
    taken: set[tuple] = set()  # what the unique indexes allow once per person and day
    live = []
    for order, action in enumerate(actions):
        person = people[action.person]
        at = START + timedelta(days=action.day, minutes=action.minute)
        site: int | None
        if action.kind == "own_site":
            site = person.home if person.home is not None else 0
            slot, method, result = "site", CheckInMethod.QR, CheckInResult.ADMITTED
        elif action.kind == "other_site":
            site = ((person.home or 0) + action.other) % sites
            slot, method, result = "site", CheckInMethod.QR, CheckInResult.ADMITTED
        else:
            site = ONLINE
            method = (
                CheckInMethod.ONLINE_JOIN if action.kind == "join" else CheckInMethod.ONLINE_REPORT
            )
            slot = method
            result = (
                CheckInResult.REFUSED if action.kind == "report_refused" else CheckInResult.ADMITTED
            )
        key = (action.person, action.day, slot)
        undone = action.undone or key in taken
        if not undone:
            taken.add(key)
        add_checkin(
            event,
            registrations[action.person],
            slugs[site] if site is not None else None,
            method=method,
            result=result,
            at=at,
            annulled=undone,
            forced=action.kind == "other_site",
            online_minutes=None if site is not None else 90,
        )
        if not undone and result == CheckInResult.ADMITTED:
            live.append((action.person, action.day, action.minute, order, site))
    return event, registrations, live


def places(live, day=None) -> dict[int, int | None]:
    """The rule, read plainly: each person's first day (or the day asked for), at a site
    before online, earliest first."""
    chosen = {}
    for person, on, minute, order, site in live:
        if day is not None and on != day:
            continue
        rank = (on, 1 if site is None else 0, minute, order)
        if person not in chosen or rank < chosen[person][0]:
            chosen[person] = (rank, site)
    return {person: site for person, (_rank, site) in chosen.items()}


def expected_by_site(people: list[Person], place: dict, labels: list[str]) -> dict:
    """(registered, attended here, attended elsewhere, came from elsewhere) per line."""
    lines = {label: [0, 0, 0, 0] for label in labels}

    def label(site):
        return labels[-1] if site is None else labels[site]

    for index, person in enumerate(people):
        home = label(person.home)
        if index in place:
            lines[home][0] += 1
            where = label(place[index])
            lines[where][1] += 1
            if where != home:
                lines[home][2] += 1
                lines[where][3] += 1
        elif person.status == RegistrationStatus.CONFIRMED:
            lines[home][0] += 1
    return {name: tuple(figures) for name, figures in lines.items()}


def figures(line) -> tuple[int, int, int, int]:
    return (line.registered, line.attended, line.attended_elsewhere, line.came_from_elsewhere)


def check_report(report, people, place, labels) -> None:
    total = report.total
    assert total.attended == len(place)
    assert {line.label: figures(line) for line in report.by_site} == expected_by_site(
        people, place, labels
    )
    for table in report.tables():
        summed = table.total
        assert (summed.registered, summed.attended) == (total.registered, total.attended)
        assert summed.arrived == total.attended
        for line in table.lines:
            assert line.rate is None or line.rate <= 1
            assert 0 <= line.came_from_elsewhere <= line.attended
            assert line.attended_elsewhere >= 0
    assert total.rate is None or total.rate <= 1


def check_summary(summary, report) -> None:
    """The dashboard's and the API's figures are the report's by-site lines."""
    by_site = {line.label: line for line in report.by_site}
    for site in summary["sites"]:
        line = by_site[site["name"]]
        assert (
            site["registered"],
            site["checked_in"],
            site["attended_elsewhere"],
            site["from_other_sites"],
            site["arrived"],
        ) == (*figures(line), line.arrived)
        assert site["not_arrived"] == line.not_arrived
    online, line = summary["online"], by_site["Online"]
    assert (
        online["registered"],
        online["attended"],
        online["attended_elsewhere"],
        online["from_other_sites"],
        online["arrived"],
    ) == (*figures(line), line.arrived)
    totals = summary["totals"]
    assert (totals["registered"], totals["attended"]) == (
        report.total.registered,
        report.total.attended,
    )
    assert totals["arrived"] <= totals["registered"]


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(generated=events())
def test_every_table_adds_up_and_every_place_agrees(app, client, generated):
    sites, days, people, actions = generated
    db.session.remove()
    _empty_tables()
    try:
        event, _registrations, live = write(sites, days, people, actions)
        headers = bearer(token_for(make_staff("organizer@example.org", Role.ORGANIZER)))
        labels = [es.site.name for es in event.event_sites] + ["Online"]

        place = places(live)
        report = attendance_report(event)
        check_report(report, people, place, labels)
        check_summary(site_attendance(event).to_dict(), report)
        api = client.get(f"/api/v1/events/{event.slug}/attendance", headers=headers)
        assert api.status_code == 200
        check_summary(api.get_json(), report)

        # The report's table of days, counted in one query, says the same as each day's.
        table_of_days = {line.day: line.attendance for line in days_and_sessions(event).days}
        for day in range(days):
            on = (START + timedelta(days=day)).astimezone(event.zone).date()
            day_place = places(live, day)
            day_report = attendance_report(event, on)
            check_report(day_report, people, day_place, labels)
            assert table_of_days[on].total == day_report.total.attended == len(day_place)
            answer = client.get(
                f"/api/v1/events/{event.slug}/attendance?day={on.isoformat()}", headers=headers
            )
            assert answer.get_json()["day"] == on.isoformat()
            check_summary(answer.get_json(), day_report)
    finally:
        db.session.remove()
        _empty_tables()
