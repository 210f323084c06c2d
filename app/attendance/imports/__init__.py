"""Importing a meeting platform's attendance report: Zoom or Microsoft Teams.

The parsers are pure functions from bytes to join/leave spans. Matching,
merging and the threshold turn those spans into a plan the organiser previews;
``apply_import`` then records one "online report" check-in per person and day
of the event (a report may cover several days), and
stores every span it read as a ``MeetingSpan``: for each matched person, and for
each name the organiser tagged as a regional centre's room device (a room is
not a person and creates no check-in).

A person's online report row holds that day's merged minutes. Its result is decided
at import time: admitted when the minutes reach the organiser's threshold,
refused (with no reason code: the method says why) when they do not. Importing
the same report again changes nothing; a later report can raise a person's
minutes or admit them, but never takes attendance away.

``parsing`` reads the files, ``people`` groups their rows into people and
``matching`` builds the plan and records it; the names below are the API.
"""

from app.attendance.imports.matching import (
    Candidate,
    Change,
    ImportOutcome,
    ImportPlan,
    MatchKind,
    PlannedAttendance,
    PlannedRoom,
    RoomSite,
    UnmatchedPerson,
    apply_import,
    build_import_plan,
    store_spans,
    threshold_minutes,
)
from app.attendance.imports.parsing import (
    ParsedReport,
    ReportFormatError,
    ReportSource,
    Segment,
    decode_report,
    parse_moments,
    parse_report,
    parse_teams,
    parse_zoom,
)
from app.attendance.imports.people import (
    ReportPerson,
    merge_spans,
    merged_minutes,
    people_from_payload,
    people_in,
    people_to_payload,
)

__all__ = [
    "Candidate",
    "Change",
    "ImportOutcome",
    "ImportPlan",
    "MatchKind",
    "ParsedReport",
    "PlannedAttendance",
    "PlannedRoom",
    "ReportFormatError",
    "ReportPerson",
    "ReportSource",
    "RoomSite",
    "Segment",
    "UnmatchedPerson",
    "apply_import",
    "build_import_plan",
    "decode_report",
    "merge_spans",
    "merged_minutes",
    "parse_moments",
    "parse_report",
    "parse_teams",
    "parse_zoom",
    "people_from_payload",
    "people_in",
    "people_to_payload",
    "store_spans",
    "threshold_minutes",
]
