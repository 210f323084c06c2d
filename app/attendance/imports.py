"""Importing a meeting platform's attendance report: Zoom or Microsoft Teams.

The parsers are pure functions from bytes to join/leave spans. Matching,
merging and the threshold turn those spans into a plan the organiser previews;
``apply_import`` then records one "online report" check-in per person.

A person's online report row holds the merged minutes. Its result is decided
at import time: admitted when the minutes reach the organiser's threshold,
refused (with no reason code: the method says why) when they do not. Importing
the same report again changes nothing; a later report can raise a person's
minutes or admit them, but never takes attendance away.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import math
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _

from app.extensions import db
from app.models import (
    CheckIn,
    CheckInMethod,
    CheckInResult,
    Event,
    Mode,
    Registration,
    RegistrationStatus,
    utcnow,
)
from app.text import fold_for_search


class ReportFormatError(ValueError):
    """A file that is not a report we can read; the message is for the organiser."""


class ReportSource(StrEnum):
    ZOOM = "zoom"
    TEAMS = "teams"


@dataclass(frozen=True)
class Segment:
    """One stretch of time a participant spent in the meeting."""

    name: str
    email: str
    joined_at: datetime
    left_at: datetime
    #: Zoom's "(Original Name)" when the person renamed themselves.
    original_name: str = ""


@dataclass(frozen=True)
class ParsedReport:
    source: ReportSource
    segments: list[Segment]
    title: str = ""


# --- decoding ---------------------------------------------------------------


def decode_report(data: bytes) -> str:
    """The text of an uploaded report: UTF-16 with a BOM (Teams) or UTF-8 (Zoom)."""
    if not data or not data.strip(b"\x00\r\n\t \xef\xbb\xbf\xff\xfe"):
        raise ReportFormatError(_("The file is empty."))
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif b"\x00" in data[:200]:
        # UTF-16 saved without a BOM: the zero bytes say which half is high.
        encoding = "utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"
    else:
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise ReportFormatError(
            _(
                "The file's text encoding could not be read. Export the report again "
                "from Zoom or Teams and upload it unchanged (UTF-8 or UTF-16)."
            )
        ) from error
    if "\x00" in text:
        raise ReportFormatError(_("This does not look like a text file."))
    return text


# --- dates ------------------------------------------------------------------

_DATE_FORMATS = (
    "%m/%d/%Y",
    "%m/%d/%y",
    "%d/%m/%Y",
    "%d/%m/%y",
    "%d.%m.%Y",
    "%d.%m.%y",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%d-%m-%Y",
)
_TIME_FORMATS = ("%I:%M:%S %p", "%I:%M %p", "%H:%M:%S", "%H:%M")
_SPACES = re.compile(r"\s+")


def _normalise_moment(value: str) -> str:
    # Newer locales put a narrow no-break space before AM/PM; Teams puts a comma
    # between date and time; ISO puts a T.
    value = value.replace("\u202f", " ").replace("\xa0", " ").replace(",", " ")
    value = re.sub(r"^(\d{4}-\d\d-\d\d)T", r"\1 ", value.strip())
    value = re.sub(r"(:\d\d)\.\d+", r"\1", value)  # fractions of a second
    value = re.sub(r"(?i)\b([ap])\.?m\.?$", r"\1M", value)
    return _SPACES.sub(" ", value).strip()


def _parse_all(values: list[str], fmt: str) -> list[datetime] | None:
    parsed = []
    for value in values:
        try:
            moment = datetime.strptime(value, fmt)  # noqa: DTZ007 (the zone is applied later)
        except ValueError:
            return None
        if moment.year < 2000:
            return None
        parsed.append(moment)
    return parsed


def parse_moments(
    values: list[str], zone: ZoneInfo, near: datetime | None = None
) -> list[datetime]:
    """Parse a column of local date-times in one format, found from the values themselves.

    Reports are written in the exporting user's locale, so 03/04 may be March
    or April. Every format that reads all the values is a candidate; the one
    whose dates fall closest to the event wins.
    """
    cleaned = [_normalise_moment(v) for v in values]
    candidates: list[list[datetime]] = []
    for date_format in _DATE_FORMATS:
        for time_format in _TIME_FORMATS:
            parsed = _parse_all(cleaned, f"{date_format} {time_format}")
            if parsed is not None:
                candidates.append(parsed)
                break
    if not candidates:
        raise ValueError("no common date format")
    if near is not None and len(candidates) > 1:
        anchor = near.astimezone(zone).replace(tzinfo=None)
        candidates.sort(key=lambda parsed: abs((parsed[0] - anchor).total_seconds()))
    return [moment.replace(tzinfo=zone).astimezone(UTC) for moment in candidates[0]]


def _is_moment_column(values: list[str]) -> bool:
    values = [v for v in values if v.strip()]
    if not values:
        return False
    try:
        parse_moments(values[:50], UTC)
    except ValueError:
        return False
    return True


# --- tables -----------------------------------------------------------------


def _rows(text: str) -> list[list[str]]:
    lines = [line for line in text.splitlines() if line.strip()]
    # Teams separates with tabs and has commas inside its dates; Zoom uses commas.
    delimiter = "\t" if sum("\t" in line for line in lines) * 2 >= len(lines) else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return [[cell.strip() for cell in row] for row in reader]
    except csv.Error as error:
        raise ReportFormatError(_("The file could not be read as a table.")) from error


def _blank(row: list[str]) -> bool:
    return not any(row)


@dataclass
class _Columns:
    name: int
    email: int | None
    joined: int
    left: int


def _find_columns(header: list[str], data: list[list[str]]) -> _Columns | None:
    """Find the columns by their contents, so localised headers do not matter."""
    width = max((len(row) for row in data), default=0)

    def column(index: int) -> list[str]:
        return [row[index] if index < len(row) else "" for row in data]

    moment_columns = [i for i in range(width) if _is_moment_column(column(i))]
    if len(moment_columns) < 2:
        return None
    email = None
    for i in range(width):
        values = [v for v in column(i) if v]
        if i not in moment_columns and values and sum("@" in v for v in values) * 2 >= len(values):
            email = i
            break
    lowered = [cell.lower() for cell in header]
    name = next(
        (i for i, cell in enumerate(lowered) if "name" in cell and i not in moment_columns), 0
    )
    return _Columns(name=name, email=email, joined=moment_columns[0], left=moment_columns[1])


def _segments(
    header: list[str], data: list[list[str]], zone: ZoneInfo, near: datetime | None
) -> list[Segment]:
    data = [row for row in data if not _blank(row)]
    if not data:
        raise ReportFormatError(_("The report lists no participants."))
    columns = _find_columns(header, data)
    if columns is None:
        raise ReportFormatError(_("The report has no join and leave times that could be read."))

    def cell(row: list[str], index: int | None) -> str:
        return row[index] if index is not None and index < len(row) else ""

    try:
        joined = parse_moments([cell(r, columns.joined) for r in data], zone, near)
        left = parse_moments([cell(r, columns.left) for r in data], zone, near)
    except ValueError as error:
        raise ReportFormatError(_("Some join or leave times could not be read.")) from error

    segments = []
    for row, start, end in zip(data, joined, left, strict=True):
        name, original = _split_original_name(cell(row, columns.name))
        if not name and not cell(row, columns.email):
            continue
        if end < start:
            start, end = end, start
        segments.append(
            Segment(
                name=name,
                email=cell(row, columns.email).lower(),
                joined_at=start,
                left_at=end,
                original_name=original,
            )
        )
    if not segments:
        raise ReportFormatError(_("The report lists no participants."))
    return segments


_ORIGINAL_NAME = re.compile(r"^(?P<shown>.+?)\s*\((?P<original>[^()]+)\)$")


def _split_original_name(value: str) -> tuple[str, str]:
    """Zoom writes "Shown name (Original Name)" when someone renamed themselves."""
    match = _ORIGINAL_NAME.match(value)
    if match:
        return match["shown"].strip(), match["original"].strip()
    return value.strip(), ""


_SECTION = re.compile(r"^\s*(\d)\.\s*\S")


def _numbered_sections(rows: list[list[str]]) -> dict[int, list[list[str]]]:
    """Teams' "1. Summary / 2. Participants / 3. In-Meeting Activities", in any language."""
    sections: dict[int, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for row in rows:
        rest_empty = not any(row[1:])
        match = _SECTION.match(row[0]) if row else None
        if match and rest_empty:
            current = sections.setdefault(int(match.group(1)), [])
        elif current is not None:
            current.append(row)
    return sections


def _table(rows: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    rows = [row for row in rows if not _blank(row)]
    if not rows:
        return [], []
    return rows[0], rows[1:]


def parse_teams(rows: list[list[str]], zone: ZoneInfo, near: datetime | None) -> ParsedReport:
    """Teams: per-join activities (section 3) when present, else first join to last leave."""
    sections = _numbered_sections(rows)
    title = ""
    for row in sections.get(1, []):
        if len(row) > 1 and row[1]:
            title = row[1]
            break
    for number in (3, 2):
        header, data = _table(sections.get(number, []))
        if data:
            return ParsedReport(ReportSource.TEAMS, _segments(header, data, zone, near), title)
    raise ReportFormatError(_("The report lists no participants."))


_LOOKS_LIKE_MOMENT = re.compile(r"\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}[ ,T]+\d{1,2}:\d\d")


def parse_zoom(rows: list[list[str]], zone: ZoneInfo, near: datetime | None) -> ParsedReport:
    """Zoom's participants export, with or without the meeting block above the table.

    The participants' header is the last row without any date-time in it: the
    meeting block's values row has its start and end times, the data rows have
    join and leave times. This holds whether or not a blank line separates them.
    """
    rows = [row for row in rows if not _blank(row)]
    header_at = None
    timed_rows = 0
    for index, row in enumerate(rows):
        if any(_LOOKS_LIKE_MOMENT.search(cell) for cell in row):
            timed_rows += 1
        else:
            header_at = index
    if header_at is None:
        raise ReportFormatError(_not_a_report())
    if timed_rows == 0 and len(rows) > 1:
        # Several rows and not one time in them: a table, but not a meeting report.
        raise ReportFormatError(_("The report has no join and leave times that could be read."))
    header, data = rows[header_at], rows[header_at + 1 :]
    title = ""
    for index, row in enumerate(rows[:header_at]):
        topic = next((i for i, cell in enumerate(row) if cell.lower() == "topic"), None)
        if topic is not None and index + 1 < header_at and topic < len(rows[index + 1]):
            title = rows[index + 1][topic]
            break
    return ParsedReport(ReportSource.ZOOM, _segments(header, data, zone, near), title)


def parse_report(data: bytes, zone: ZoneInfo, near: datetime | None = None) -> ParsedReport:
    """Read a Zoom participants CSV or a Teams attendance report; anything else is refused."""
    text = decode_report(data)
    rows = _rows(text)
    if not any(not _blank(row) for row in rows):
        raise ReportFormatError(_("The file is empty."))
    sections = _numbered_sections(rows)
    if 2 in sections or 3 in sections:
        return parse_teams(rows, zone, near)
    try:
        return parse_zoom(rows, zone, near)
    except ReportFormatError:
        raise
    except (IndexError, ValueError) as error:
        raise ReportFormatError(_not_a_report()) from error


def _not_a_report() -> str:
    return _("This is not a Zoom participants report or a Teams attendance report.")


# --- spans ------------------------------------------------------------------


def merge_spans(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Overlapping or touching spans become one, so two devices do not count twice."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def merged_minutes(spans: list[tuple[datetime, datetime]]) -> int:
    seconds = sum((end - start).total_seconds() for start, end in merge_spans(spans))
    return int(seconds // 60 + (1 if seconds % 60 >= 30 else 0))


def threshold_minutes(event: Event, value: int, unit: str) -> int:
    """The organiser's threshold in minutes: given directly, or as a percentage of the event."""
    if unit == "percent":
        duration = (event.ends_at - event.starts_at).total_seconds() / 60
        return math.ceil(duration * value / 100)
    return value


# --- people in a report -----------------------------------------------------


@dataclass
class ReportPerson:
    """Everyone in the report who looks like one person: same email, or same name."""

    key: str
    name: str
    email: str
    original_name: str
    spans: list[tuple[datetime, datetime]]

    @property
    def minutes(self) -> int:
        return merged_minutes(self.spans)


def people_in(report: ParsedReport) -> list[ReportPerson]:
    """Group the report's segments by email, or by name when there is no email."""
    groups: dict[str, ReportPerson] = {}
    for segment in report.segments:
        names = (fold_for_search(segment.name), fold_for_search(segment.original_name))
        identity = segment.email or "name:" + "|".join(names)
        person = groups.get(identity)
        if person is None:
            key = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]
            person = groups[identity] = ReportPerson(
                key=key,
                name=segment.name,
                email=segment.email,
                original_name=segment.original_name,
                spans=[],
            )
        person.spans.append((segment.joined_at, segment.left_at))
    return list(groups.values())


def people_to_payload(report: ParsedReport) -> dict:
    """A compact, JSON-ready form of the report, carried from the preview to the confirmation."""
    return {
        "source": report.source.value,
        "title": report.title,
        "people": [
            [
                p.key,
                p.name,
                p.email,
                p.original_name,
                [[int(a.timestamp()), int(b.timestamp())] for a, b in p.spans],
            ]
            for p in people_in(report)
        ],
    }


def people_from_payload(payload: dict) -> list[ReportPerson]:
    return [
        ReportPerson(
            key=key,
            name=name,
            email=email,
            original_name=original,
            spans=[
                (datetime.fromtimestamp(a, UTC), datetime.fromtimestamp(b, UTC)) for a, b in spans
            ],
        )
        for key, name, email, original, spans in payload["people"]
    ]


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
    """What the import will record for one registration."""

    registration: Candidate
    people: list[ReportPerson]
    match: MatchKind
    minutes: int
    first_join: datetime
    last_leave: datetime
    attended: bool
    change: Change


@dataclass
class UnmatchedPerson:
    person: ReportPerson
    match: MatchKind
    #: Registrations sharing the person's name, when that is why no match was made.
    namesakes: int = 0


@dataclass
class ImportPlan:
    source: ReportSource
    title: str
    threshold: int
    attended: list[PlannedAttendance] = field(default_factory=list)
    below_threshold: list[PlannedAttendance] = field(default_factory=list)
    unmatched: list[UnmatchedPerson] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def lines(self) -> list[PlannedAttendance]:
        return self.attended + self.below_threshold

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


def _existing_reports(event: Event) -> dict[int, CheckIn]:
    rows = db.session.scalars(
        sa.select(CheckIn).where(
            CheckIn.event_id == event.id,
            CheckIn.method == CheckInMethod.ONLINE_REPORT,
            CheckIn.site_id.is_(None),
            CheckIn.annulled_at.is_(None),
        )
    )
    return {row.registration_id: row for row in rows}


def build_import_plan(
    event: Event,
    source: ReportSource,
    title: str,
    people: list[ReportPerson],
    threshold: int,
    manual: dict[str, int] | None = None,
) -> ImportPlan:
    """Match the report's people to registrations and say what importing would change.

    Email first (case-insensitive), then the exact folded name, never when two
    registrations share it. ``manual`` maps a person's key to a registration id
    the organiser picked by hand.
    """
    candidates = _candidates(event)
    by_id = {c.id: c for c in candidates}
    by_email = {c.email.lower(): c for c in candidates}
    by_name: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        by_name[fold_for_search(candidate.name)].append(candidate)
    manual = manual or {}

    plan = ImportPlan(source=source, title=title, threshold=threshold, candidates=candidates)
    matched: dict[int, tuple[list[ReportPerson], MatchKind]] = {}
    for person in people:
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
        spans = [span for person in group for span in person.spans]
        minutes = merged_minutes(spans)
        first = min(start for start, _end in spans)
        last = max(end for _start, end in spans)
        outcome = _merge_with_existing(
            existing.get(registration_id), minutes, first, last, threshold
        )
        line = PlannedAttendance(
            registration=by_id[registration_id],
            people=group,
            match=kind,
            minutes=outcome.minutes,
            first_join=outcome.first,
            last_leave=outcome.last,
            attended=outcome.attended,
            change=outcome.change,
        )
        (plan.attended if line.attended else plan.below_threshold).append(line)
    for bucket in (plan.attended, plan.below_threshold):
        bucket.sort(key=lambda line: fold_for_search(line.registration.name))
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


def apply_import(
    event: Event, plan: ImportPlan, staff_user_id: int | None, device: str = ""
) -> ImportOutcome:
    """Record the plan as online-report check-ins inside the caller's transaction."""
    existing = _existing_reports(event)
    now = utcnow()
    created = updated = unchanged = 0
    for line in plan.lines:
        result = CheckInResult.ADMITTED if line.attended else CheckInResult.REFUSED
        row = existing.get(line.registration.id)
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
    return ImportOutcome(created=created, updated=updated, unchanged=unchanged)
