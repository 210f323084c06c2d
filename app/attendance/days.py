"""The report's days and sessions: who attended each day and each counted session, where.

Each day counts a person once, where they attended that day, by the counting
rule (``places`` in app/attendance/counting.py). A counted session counts
a person at the site that admitted them to it, otherwise online when the
meeting report's spans cover half of it (app/attendance/completion.py). The
number who completed follows the event's completion rule.

A fixed number of queries, however many people and days.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import format_date

from app.attendance.completion import (
    attended_online,
    completions,
    counted_sessions,
    event_days,
    merged_spans,
)
from app.attendance.counting import places
from app.extensions import db
from app.models import AgendaItem, CheckIn, CompletionRule, Event, Site, live_admission


@dataclass
class Attendance:
    """How many people attended something, per site and online."""

    #: By site id.
    by_site: dict[int, int] = field(default_factory=dict)
    online: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_site.values()) + self.online

    def add(self, site_id: int | None, people: int = 1) -> None:
        if site_id is None:
            self.online += people
        else:
            self.by_site[site_id] = self.by_site.get(site_id, 0) + people


@dataclass
class DayLine:
    day: date
    attendance: Attendance

    @property
    def label(self) -> str:
        return format_date(self.day, "medium")


@dataclass
class SessionLine:
    session: AgendaItem
    day: date
    attendance: Attendance


@dataclass
class DaysAndSessions:
    """The report's section on days and sessions."""

    event: Event
    #: The event's sites, as the columns.
    sites: list[Site]
    days: list[DayLine]
    sessions: list[SessionLine]
    #: People who attended anything, and those of them who completed.
    attended: int
    completed: int

    @property
    def rule(self) -> CompletionRule:
        return self.event.completion_rule

    @property
    def several_days(self) -> bool:
        return len(self.days) > 1


def days_and_sessions(event: Event) -> DaysAndSessions:
    """Per day and per counted session, the people who attended, where; and who completed."""
    days = event_days(event)
    sessions = counted_sessions(event)

    place = places(event, each_day=True)
    by_day = {day: Attendance() for day in days}
    for day, site_id, people in db.session.execute(
        sa.select(place.c.day, place.c.site_id, sa.func.count(place.c.registration_id)).group_by(
            place.c.day, place.c.site_id
        )
    ):
        if day in by_day:
            by_day[day].add(site_id, people)

    # Who was admitted to each session, and where: they count there, not online.
    at_session: dict[int, dict[int, int]] = defaultdict(dict)
    for person, session_id, site_id in db.session.execute(
        sa.select(CheckIn.registration_id, CheckIn.session_id, CheckIn.site_id).where(
            CheckIn.event_id == event.id,
            CheckIn.registration_id.is_not(None),
            CheckIn.session_id.is_not(None),
            live_admission(CheckIn),
        )
    ):
        at_session[session_id][person] = site_id

    spans = merged_spans(event) if sessions else {}
    session_lines = []
    for item in sessions:
        attendance = Attendance()
        here = at_session.get(item.id, {})
        for site_id in here.values():
            attendance.add(site_id)
        for person, merged in spans.items():
            if person not in here and attended_online(merged, item):
                attendance.add(None)
        session_lines.append(SessionLine(item, event.local_day(item.starts_at), attendance))

    done = completions(event)
    return DaysAndSessions(
        event=event,
        sites=[event_site.site for event_site in event.event_sites],
        days=[DayLine(day, by_day[day]) for day in days],
        sessions=session_lines,
        attended=len(done),
        completed=sum(1 for completion in done.values() if completion.completed),
    )
