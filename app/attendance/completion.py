"""Who completed an event: the days and sessions each person attended, against its rule.

A day is attended by the counting rule used everywhere: a live admission at a
site that day (the day's admission at the door, or a session's), or a live
online row that day (a join with the personal link, or an admitted row from a
meeting report). Only the event's own days count towards ``days_attended``.

A session (an agenda item that counts attendance) is attended with a live
admission to it at a site, or online, from the meeting report's connection
spans: a person attended a session online when their spans, merged where they
overlap, cover at least half of the session's length. A join with the personal
link says only that the person attended that day, not which sessions.

The event's ``completion_rule`` then says who completed: anyone who attended a
day, everyone who attended every day, or those who attended at least
``completion_percent`` of the counted sessions (nobody, while no agenda item
counts attendance).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from app.attendance.imports.people import merge_spans
from app.extensions import db
from app.models import (
    AgendaItem,
    CheckIn,
    CheckInMethod,
    CompletionRule,
    Event,
    MeetingSpan,
    Registration,
    RegistrationStatus,
    Site,
    live_admission,
)


@dataclass(frozen=True)
class Evidence:
    """One piece of proof: how a person's attendance on a day was established."""

    day: date
    #: None: online.
    site_name: str | None
    method: CheckInMethod
    #: The scan time at a site; the first join online.
    at: datetime | None
    #: Minutes online from an imported meeting report.
    minutes: int | None
    #: For a session admission (at a site, or online from the report's spans).
    session_title: str | None


@dataclass(frozen=True)
class Completion:
    registration_id: int
    days_attended: int
    #: Days of the event.
    days_total: int
    sessions_attended: int
    #: Agenda items that count attendance.
    sessions_total: int
    #: The event's completion rule is met.
    completed: bool
    #: Oldest first.
    evidence: tuple[Evidence, ...]


def event_days(event: Event) -> list[date]:
    """The event's local calendar days, first to last.

    An event ending at midnight does not take in the day that only begins then.
    """
    first = event.local_day(event.starts_at)
    last = max(first, event.local_day(event.ends_at - timedelta(microseconds=1)))
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def counted_sessions(event: Event) -> list[AgendaItem]:
    """The event's agenda items that count attendance, in order."""
    return list(
        db.session.scalars(
            sa.select(AgendaItem)
            .where(AgendaItem.event_id == event.id, AgendaItem.counts_attendance.is_(True))
            .order_by(AgendaItem.starts_at, AgendaItem.id)
        )
    )


def online_overlap(merged: Sequence[tuple[datetime, datetime]], item: AgendaItem) -> timedelta:
    """How long merged spans cover the session."""
    covered = timedelta()
    for joined, left in merged:
        start, end = max(joined, item.starts_at), min(left, item.ends_at)
        if end > start:
            covered += end - start
    return covered


def attended_online(merged: Sequence[tuple[datetime, datetime]], item: AgendaItem) -> bool:
    """The rule for online sessions: connected for at least half the session's length."""
    return online_overlap(merged, item) * 2 >= item.ends_at - item.starts_at


def completions(event: Event) -> dict[int, Completion]:
    """Every registration of the event with any live attendance, by registration id.
    A fixed number of queries, however many people."""
    return _completions(event, None)


def completion_of(event: Event, registration: Registration) -> Completion | None:
    """One person's completion, or None when they attended nothing."""
    return _completions(event, registration.id).get(registration.id)


def _completions(event: Event, registration_id: int | None) -> dict[int, Completion]:
    days = event_days(event)
    sessions = counted_sessions(event)
    evidence: dict[int, list[Evidence]] = defaultdict(list)
    attended_days: dict[int, set[date]] = defaultdict(set)
    attended_sessions: dict[int, set[int]] = defaultdict(set)
    counted = {item.id for item in sessions}

    for row in _live_rows(event, registration_id):
        attended_days[row.registration_id].add(row.day)
        if row.session_id in counted:
            attended_sessions[row.registration_id].add(row.session_id)
        evidence[row.registration_id].append(
            Evidence(
                day=row.day,
                site_name=row.site_name,
                method=row.method,
                at=row.scanned_at,
                minutes=row.online_minutes,
                session_title=row.session_title,
            )
        )

    if sessions:
        for person, merged in merged_spans(event, registration_id).items():
            for item in sessions:
                if item.id in attended_sessions[person] or not attended_online(merged, item):
                    continue
                attended_sessions[person].add(item.id)
                first_join = next(
                    joined
                    for joined, left in merged
                    if left > item.starts_at and joined < item.ends_at
                )
                evidence[person].append(
                    Evidence(
                        day=event.local_day(item.starts_at),
                        site_name=None,
                        method=CheckInMethod.ONLINE_REPORT,
                        at=max(first_join, item.starts_at),
                        minutes=int(online_overlap(merged, item).total_seconds() // 60),
                        session_title=item.title,
                    )
                )

    result = {}
    event_day_set = set(days)
    for person, proofs in evidence.items():
        days_attended = len(attended_days[person] & event_day_set)
        sessions_attended = len(attended_sessions[person])
        result[person] = Completion(
            registration_id=person,
            days_attended=days_attended,
            days_total=len(days),
            sessions_attended=sessions_attended,
            sessions_total=len(sessions),
            completed=_meets_rule(
                event, days_attended, len(days), sessions_attended, len(sessions)
            ),
            evidence=tuple(sorted(proofs, key=_evidence_order)),
        )
    return result


def _meets_rule(
    event: Event, days_attended: int, days_total: int, sessions_attended: int, sessions_total: int
) -> bool:
    if event.completion_rule == CompletionRule.ALL_DAYS:
        return days_attended >= days_total
    if event.completion_rule == CompletionRule.SHARE_OF_SESSIONS:
        return sessions_total > 0 and sessions_attended * 100 >= (
            event.completion_percent * sessions_total
        )
    return days_attended > 0


def _evidence_order(proof: Evidence) -> tuple:
    return (proof.day, proof.at is None, proof.at or datetime.min, proof.session_title or "")


def _live_rows(event: Event, registration_id: int | None) -> sa.Result:
    """Every live admission and online row of the event, with its site's and session's names."""
    statement = (
        sa.select(
            CheckIn.registration_id,
            CheckIn.day,
            CheckIn.method,
            CheckIn.scanned_at,
            CheckIn.online_minutes,
            CheckIn.session_id,
            Site.name.label("site_name"),
            AgendaItem.title.label("session_title"),
        )
        .outerjoin(Site, Site.id == CheckIn.site_id)
        .outerjoin(AgendaItem, AgendaItem.id == CheckIn.session_id)
        .where(
            CheckIn.event_id == event.id,
            CheckIn.registration_id.is_not(None),
            live_admission(CheckIn),
        )
    )
    if registration_id is not None:
        statement = statement.where(CheckIn.registration_id == registration_id)
    return db.session.execute(statement)


def merged_spans(
    event: Event, registration_id: int | None = None
) -> dict[int, list[tuple[datetime, datetime]]]:
    """Each person's meeting-report spans, merged, by registration id (or one person's)."""
    statement = sa.select(
        MeetingSpan.registration_id, MeetingSpan.joined_at, MeetingSpan.left_at
    ).where(MeetingSpan.event_id == event.id, MeetingSpan.registration_id.is_not(None))
    if registration_id is not None:
        statement = statement.where(MeetingSpan.registration_id == registration_id)
    spans: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for person, joined, left in db.session.execute(statement):
        spans[person].append((joined, left))
    return {person: merge_spans(found) for person, found in spans.items()}


@dataclass(frozen=True)
class CompletionRow:
    """One person on the completion list."""

    registration_id: int
    name: str
    organization: str
    #: The registered site's name; empty: registered online.
    site: str
    days_attended: int
    days_total: int
    sessions_attended: int
    sessions_total: int
    completed: bool


def completion_list(event: Event) -> list[CompletionRow]:
    """Everyone registered (confirmed, or attended whatever their status), by name, with
    what they attended and whether they completed. A fixed number of queries."""
    found = completions(event)
    days_total = len(event_days(event))
    sessions_total = len(counted_sessions(event))
    people = db.session.execute(
        sa.select(
            Registration.id,
            Registration.name,
            Registration.organization,
            Site.name,
            Registration.status,
        )
        .outerjoin(Site, Site.id == Registration.site_id)
        .where(Registration.event_id == event.id)
        .order_by(Registration.name, Registration.id)
    ).all()
    rows = []
    for registration_id, name, organization, site_name, status in people:
        completion = found.get(registration_id)
        if completion is None and status != RegistrationStatus.CONFIRMED:
            continue
        rows.append(
            CompletionRow(
                registration_id=registration_id,
                name=name,
                organization=organization,
                site=site_name or "",
                days_attended=completion.days_attended if completion else 0,
                days_total=days_total,
                sessions_attended=completion.sessions_attended if completion else 0,
                sessions_total=sessions_total,
                completed=completion.completed if completion else False,
            )
        )
    return rows
