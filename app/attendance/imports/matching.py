"""Matching a report's people to registrations, the plan the organiser previews, and applying it."""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from app.attendance.imports.parsing import ReportSource
from app.attendance.imports.people import ReportPerson, merged_minutes
from app.extensions import db
from app.models import (
    CheckIn,
    CheckInMethod,
    CheckInResult,
    Event,
    MeetingSpan,
    Mode,
    Registration,
    RegistrationStatus,
    utcnow,
)
from app.text import fold_for_search

# --- the threshold ----------------------------------------------------------


def threshold_minutes(event: Event, value: int, unit: str) -> int:
    """The organiser's threshold in minutes: given directly, or as a percentage of the event."""
    if unit == "percent":
        duration = (event.ends_at - event.starts_at).total_seconds() / 60
        return math.ceil(duration * value / 100)
    return value


# --- matching and the plan --------------------------------------------------


class MatchKind(StrEnum):
    EMAIL = "email"
    NAME = "name"
    MANUAL = "manual"
    AMBIGUOUS = "ambiguous"
    NONE = "none"


class Change(StrEnum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass
class Candidate:
    id: int
    name: str
    email: str
    mode: Mode


@dataclass
class PlannedAttendance:
    """What the import will record for one registration on one day of the event.

    A report that covers several days (a training followed online every day) gives
    a person a line per day: online attendance counts per day, as at the door.
    """

    registration: Candidate
    people: list[ReportPerson]
    match: MatchKind
    #: The event's local day the spans began on.
    day: date
    minutes: int
    first_join: datetime
    last_leave: datetime
    attended: bool
    change: Change
    #: The person's first line in the plan (the one that offers tagging as a room).
    first_of_person: bool = True


@dataclass
class UnmatchedPerson:
    person: ReportPerson
    match: MatchKind
    #: Registrations sharing the person's name, when that is why no match was made.
    namesakes: int = 0


@dataclass(frozen=True)
class RoomSite:
    """A site taking part in the event, as offered for tagging a centre's room."""

    id: int
    name: str


@dataclass
class PlannedRoom:
    """A name in the report the organiser tagged as a regional centre's room device.

    A room is not a person: its spans are stored for the centre's connection
    summary, and it creates no check-in.
    """

    person: ReportPerson
    site: RoomSite


@dataclass
class ImportPlan:
    source: ReportSource
    title: str
    threshold: int
    attended: list[PlannedAttendance] = field(default_factory=list)
    below_threshold: list[PlannedAttendance] = field(default_factory=list)
    unmatched: list[UnmatchedPerson] = field(default_factory=list)
    rooms: list[PlannedRoom] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    #: The event's sites, for tagging a name as a centre's room.
    sites: list[RoomSite] = field(default_factory=list)

    @property
    def lines(self) -> list[PlannedAttendance]:
        return self.attended + self.below_threshold

    @property
    def several_days(self) -> bool:
        return len({line.day for line in self.lines}) > 1

    def unmatched_candidates(self) -> list[Candidate]:
        """Registrations the report did not match, online ones first, for matching by hand."""
        taken = {line.registration.id for line in self.lines}
        free = [c for c in self.candidates if c.id not in taken]
        return sorted(free, key=lambda c: c.mode != Mode.ONLINE)


def _candidates(event: Event) -> list[Candidate]:
    rows = db.session.execute(
        sa.select(Registration.id, Registration.name, Registration.email, Registration.mode)
        .where(
            Registration.event_id == event.id,
            Registration.status != RegistrationStatus.CANCELLED,
        )
        .order_by(Registration.search_text, Registration.id)
    ).all()
    return [Candidate(id=r.id, name=r.name, email=r.email, mode=r.mode) for r in rows]


def _existing_reports(event: Event) -> dict[tuple[int, date], CheckIn]:
    rows = db.session.scalars(
        sa.select(CheckIn).where(
            CheckIn.event_id == event.id,
            CheckIn.method == CheckInMethod.ONLINE_REPORT,
            CheckIn.site_id.is_(None),
            CheckIn.annulled_at.is_(None),
        )
    )
    return {(row.registration_id, row.day): row for row in rows}


def build_import_plan(
    event: Event,
    source: ReportSource,
    title: str,
    people: list[ReportPerson],
    threshold: int,
    manual: dict[str, int] | None = None,
    rooms: dict[str, int] | None = None,
) -> ImportPlan:
    """Match the report's people to registrations and say what importing would change.

    Email first (case-insensitive), then the exact folded name, never when two
    registrations share it. ``manual`` maps a person's key to a registration id
    the organiser picked by hand; ``rooms`` maps a key to the id of the site whose
    room device it is (a site not in the event is ignored), which no match overrides.
    """
    sites = [RoomSite(es.site_id, es.site.name) for es in event.event_sites]
    sites_by_id = {site.id: site for site in sites}
    rooms = rooms or {}
    candidates = _candidates(event)
    by_id = {c.id: c for c in candidates}
    by_email = {c.email.lower(): c for c in candidates}
    by_name: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        by_name[fold_for_search(candidate.name)].append(candidate)
    manual = manual or {}

    plan = ImportPlan(
        source=source, title=title, threshold=threshold, candidates=candidates, sites=sites
    )
    matched: dict[int, tuple[list[ReportPerson], MatchKind]] = {}
    for person in people:
        room_site = sites_by_id.get(rooms.get(person.key))
        if room_site is not None:
            plan.rooms.append(PlannedRoom(person, room_site))
            continue
        target: Candidate | None = None
        kind = MatchKind.NONE
        namesakes = 0
        if person.key in manual and manual[person.key] in by_id:
            target, kind = by_id[manual[person.key]], MatchKind.MANUAL
        elif person.email and person.email.lower() in by_email:
            target, kind = by_email[person.email.lower()], MatchKind.EMAIL
        else:
            for name in (person.name, person.original_name):
                same = by_name.get(fold_for_search(name), []) if name else []
                if len(same) == 1:
                    target, kind = same[0], MatchKind.NAME
                    break
                if len(same) > 1:
                    kind, namesakes = MatchKind.AMBIGUOUS, len(same)
        if target is None:
            plan.unmatched.append(UnmatchedPerson(person, kind, namesakes))
            continue
        matched.setdefault(target.id, ([], kind))[0].append(person)

    existing = _existing_reports(event)
    for registration_id, (group, kind) in matched.items():
        by_day: dict[date, list[tuple[datetime, datetime]]] = defaultdict(list)
        for person in group:
            for start, end in person.spans:
                by_day[event.local_day(start)].append((start, end))
        for number, (day, spans) in enumerate(sorted(by_day.items())):
            outcome = _merge_with_existing(
                existing.get((registration_id, day)),
                merged_minutes(spans),
                min(start for start, _end in spans),
                max(end for _start, end in spans),
                threshold,
            )
            line = PlannedAttendance(
                registration=by_id[registration_id],
                people=group,
                match=kind,
                day=day,
                minutes=outcome.minutes,
                first_join=outcome.first,
                last_leave=outcome.last,
                attended=outcome.attended,
                change=outcome.change,
                first_of_person=number == 0,
            )
            (plan.attended if line.attended else plan.below_threshold).append(line)
    for bucket in (plan.attended, plan.below_threshold):
        bucket.sort(key=lambda line: (fold_for_search(line.registration.name), line.day))
    return plan


@dataclass
class _Merged:
    minutes: int
    first: datetime
    last: datetime
    attended: bool
    change: Change


def _merge_with_existing(
    row: CheckIn | None, minutes: int, first: datetime, last: datetime, threshold: int
) -> _Merged:
    if row is None:
        return _Merged(minutes, first, last, minutes >= threshold, Change.NEW)
    merged_minutes_ = max(row.online_minutes or 0, minutes)
    merged_first = min(row.scanned_at, first)
    merged_last = max(row.last_seen_at or row.scanned_at, last)
    attended = row.result == CheckInResult.ADMITTED or merged_minutes_ >= threshold
    unchanged = (
        merged_minutes_ == (row.online_minutes or 0)
        and merged_first == row.scanned_at
        and merged_last == (row.last_seen_at or row.scanned_at)
        and attended == (row.result == CheckInResult.ADMITTED)
    )
    return _Merged(
        merged_minutes_,
        merged_first,
        merged_last,
        attended,
        Change.UNCHANGED if unchanged else Change.UPDATED,
    )


@dataclass(frozen=True)
class ImportOutcome:
    created: int
    updated: int
    unchanged: int
    #: Connection spans stored for the first time (people and centres' rooms).
    spans_added: int = 0


def apply_import(
    event: Event, plan: ImportPlan, staff_user_id: int | None, device: str = ""
) -> ImportOutcome:
    """Record the plan as online-report check-ins inside the caller's transaction."""
    existing = _existing_reports(event)
    now = utcnow()
    created = updated = unchanged = 0
    for line in plan.lines:
        result = CheckInResult.ADMITTED if line.attended else CheckInResult.REFUSED
        row = existing.get((line.registration.id, line.day))
        if row is None:
            db.session.add(
                CheckIn(
                    client_id=str(uuid.uuid4()),
                    event_id=event.id,
                    registration_id=line.registration.id,
                    site_id=None,
                    method=CheckInMethod.ONLINE_REPORT,
                    result=result,
                    scanned_at=line.first_join,
                    day=line.day,
                    received_at=now,
                    last_seen_at=line.last_leave,
                    online_minutes=line.minutes,
                    staff_user_id=staff_user_id,
                    device=device[:200],
                )
            )
            created += 1
        elif line.change == Change.UNCHANGED:
            unchanged += 1
        else:
            row.online_minutes = line.minutes
            row.scanned_at = line.first_join
            row.last_seen_at = line.last_leave
            row.result = result
            updated += 1
    db.session.flush()
    spans_added = store_spans(event, plan)
    return ImportOutcome(
        created=created, updated=updated, unchanged=unchanged, spans_added=spans_added
    )


#: Spans written per statement, well below SQLite's limit on bound parameters.
SPAN_BATCH = 500


def _span_rows(event: Event, plan: ImportPlan) -> list[dict]:
    """One row per distinct span of every matched person and every tagged room."""
    owners = [
        ({"registration_id": line.registration.id, "site_id": None}, person)
        for line in plan.lines
        for person in line.people
    ] + [({"registration_id": None, "site_id": room.site.id}, room.person) for room in plan.rooms]
    rows: dict[tuple, dict] = {}
    for owner, person in owners:
        label = person.name[: MeetingSpan.label.type.length]
        for joined_at, left_at in person.spans:
            key = (label, joined_at, left_at)
            rows.setdefault(
                key,
                {
                    "event_id": event.id,
                    **owner,
                    "label": label,
                    "joined_at": joined_at,
                    "left_at": left_at,
                },
            )
    return list(rows.values())


def store_spans(event: Event, plan: ImportPlan) -> int:
    """Store the plan's connection spans that are not stored yet; how many were new.

    ``INSERT ... ON CONFLICT DO NOTHING`` on the spans' unique key skips the
    ones a previous import stored, without failing the caller's transaction.
    """
    rows = _span_rows(event, plan)
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    added = 0
    for start in range(0, len(rows), SPAN_BATCH):
        statement = (
            insert(MeetingSpan)
            .values(rows[start : start + SPAN_BATCH])
            .on_conflict_do_nothing(index_elements=["event_id", "label", "joined_at", "left_at"])
            .returning(MeetingSpan.id)
        )
        added += len(db.session.execute(statement).all())
    return added
