"""The people in a report: segments grouped per person, their minutes, and the preview payload."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from app.attendance.imports.parsing import ParsedReport
from app.text import fold_for_search

# --- spans ------------------------------------------------------------------


def merge_spans(spans: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
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
