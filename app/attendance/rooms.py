"""The regional centres' video rooms: when each centre was connected, and its drop-outs.

A centre usually follows the meeting as one room device; the organiser tags its
name in an imported meeting report, and its spans are stored as ``MeetingSpan``
rows with the site. Overlapping or touching spans (two devices, a report read
twice) count once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.attendance.imports import merge_spans, merged_minutes
from app.extensions import db
from app.models import Event, MeetingSpan, Site

#: A shorter break in the connection is a reconnect, not a drop-out.
MIN_DROP_OUT = timedelta(minutes=1)


@dataclass(frozen=True)
class DropOut:
    """A gap between two stretches of a centre's connection."""

    start: datetime
    length: timedelta

    @property
    def minutes(self) -> int:
        """The length in whole minutes, rounded to the nearest."""
        return round(self.length.total_seconds() / 60)


@dataclass(frozen=True)
class CentreConnection:
    site_name: str
    site_slug: str
    first_join: datetime
    last_leave: datetime
    #: Minutes connected, overlapping spans counted once.
    minutes: int
    drop_outs: tuple[DropOut, ...]


@dataclass(frozen=True)
class CentreRooms:
    """Every centre with a tagged room in the event's imported reports."""

    #: The event's zone, for showing the times.
    zone: ZoneInfo
    centres: tuple[CentreConnection, ...]


def drop_outs(spans: list[tuple[datetime, datetime]], zone: ZoneInfo) -> tuple[DropOut, ...]:
    """The gaps of a minute or more between merged spans, within one local day.

    The night between two days of an event is not a drop-out.
    """
    merged = merge_spans(spans)
    gaps = []
    for (_start, end), (next_start, _end) in zip(merged, merged[1:], strict=False):
        same_day = end.astimezone(zone).date() == next_start.astimezone(zone).date()
        if same_day and next_start - end >= MIN_DROP_OUT:
            gaps.append(DropOut(end, next_start - end))
    return tuple(gaps)


def centre_rooms(event: Event) -> CentreRooms:
    """Per site with a tagged room: first join, last leave, minutes and drop-outs.

    Sites come in the event's order (a site no longer taking part comes last); one query.
    """
    rows = db.session.execute(
        sa.select(Site.id, Site.name, Site.slug, MeetingSpan.joined_at, MeetingSpan.left_at)
        .join(Site, Site.id == MeetingSpan.site_id)
        .where(MeetingSpan.event_id == event.id)
        .order_by(MeetingSpan.joined_at)
    ).all()
    spans: dict[int, list[tuple[datetime, datetime]]] = {}
    names: dict[int, tuple[str, str]] = {}
    for site_id, name, slug, joined_at, left_at in rows:
        spans.setdefault(site_id, []).append((joined_at, left_at))
        names[site_id] = (name, slug)
    position = {es.site_id: index for index, es in enumerate(event.event_sites)}
    order = sorted(
        spans, key=lambda site_id: (position.get(site_id, len(position)), names[site_id])
    )
    return CentreRooms(
        zone=event.zone,
        centres=tuple(
            CentreConnection(
                site_name=names[site_id][0],
                site_slug=names[site_id][1],
                first_join=min(start for start, _end in spans[site_id]),
                last_leave=max(end for _start, end in spans[site_id]),
                minutes=merged_minutes(spans[site_id]),
                drop_outs=drop_outs(spans[site_id], event.zone),
            )
            for site_id in order
        ),
    )
