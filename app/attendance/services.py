"""Attendance derived from check-ins: per-site counts, online attendance and joins.

Attendance is never stored on its own. Who attended, and where each person
counts, follows the one counting rule of ``app.attendance.counting`` (see its
docstring): the dashboard, the API, the workbook's summary and the report all
give the same numbers for the same data. Every function here uses a fixed number
of aggregate queries, however many people registered.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa

from app.attendance.counting import Line, count_groups, rate_text, tally
from app.extensions import db
from app.models import (
    CheckIn,
    CheckInMethod,
    CheckInResult,
    Event,
    EventSite,
    EventStatus,
    Registration,
    RegistrationStatus,
    Site,
    live_admission,
    utcnow,
)


class _Figures:
    """Attendance figures: registered, arrived (of them, anywhere) and the rate between."""

    registered: int
    arrived: int

    @property
    def rate_text(self) -> str:
        return rate_text(self.arrived, self.registered)

    def to_dict(self) -> dict:
        """JSON-ready figures, one key per field."""
        return asdict(self)


@dataclass(frozen=True)
class SiteAttendance(_Figures):
    site_id: int
    slug: str
    name: str
    capacity: int
    #: Confirmed in-person registrations for this site.
    confirmed: int
    waitlisted: int
    #: Counted here (attended here), whoever they registered for: walk-ins and people
    #: let in from another site or online count.
    checked_in: int
    #: Confirmed for this site and not attended anywhere, online included.
    not_arrived: int
    #: Counted here, though registered for another site or online (part of checked_in).
    from_other_sites: int
    #: Registered for this site: confirmed, or attended whatever their status.
    registered: int
    #: The site's own people who attended, here or elsewhere: with not_arrived it adds
    #: up to registered.
    arrived: int
    #: The site's own people who count at another site or online.
    attended_elsewhere: int

    def to_dict(self) -> dict:
        """The figures without the site's id: the slug names the site."""
        return {name: value for name, value in asdict(self).items() if name != "site_id"}


@dataclass(frozen=True)
class OnlineAttendance(_Figures):
    #: Registered online: confirmed, or attended whatever their status.
    registered: int
    #: People who opened their join link.
    joined: int
    #: People an imported meeting report shows at or above the threshold.
    attended_by_report: int
    #: Counted online, whoever they registered for (a person admitted at a site that day
    #: counts there, not here).
    attended: int
    #: People registered online who attended, online or at a site.
    arrived: int
    #: People registered online who count at a site.
    attended_elsewhere: int
    #: Counted online, though registered for a site (part of attended).
    from_other_sites: int
    #: Confirmed online and not attended anywhere.
    not_arrived: int


@dataclass(frozen=True)
class AttendanceTotals(_Figures):
    """The sites' sums, as before, and the figures of everyone the summary covers (the
    sites, and online unless the summary is limited to some sites)."""

    capacity: int
    confirmed: int
    waitlisted: int
    #: Counted at the sites.
    checked_in: int
    #: The sites' confirmed people not attended anywhere.
    not_arrived: int
    online_registered: int
    online_joined: int
    online_attended_by_report: int
    #: Distinct people who attended: the sum of every line's attended.
    attended: int
    #: Registered at the sites and online.
    registered: int
    #: The covered people who attended anywhere (the same as attended, unless limited).
    arrived: int
    attended_elsewhere: int
    from_other_sites: int

    @property
    def awaited(self) -> int:
        """Confirmed and not attended anywhere, online included."""
        return self.registered - self.arrived


@dataclass(frozen=True)
class AttendanceSummary:
    event_slug: str
    sites: list[SiteAttendance]
    #: None when the summary is limited to some sites (a coordinator's view).
    online: OnlineAttendance | None
    totals: AttendanceTotals
    #: The day counted; None for the whole event.
    day: date | None = None
    generated_at: datetime = field(default_factory=utcnow)

    def site(self, slug: str) -> SiteAttendance | None:
        return next((s for s in self.sites if s.slug == slug), None)

    def to_dict(self) -> dict:
        """JSON-ready data, as the dashboard and the API serve it."""
        return {
            "event": self.event_slug,
            "day": self.day.isoformat() if self.day else None,
            "generated_at": self.generated_at.isoformat(),
            "sites": [site.to_dict() for site in self.sites],
            "online": self.online.to_dict() if self.online else None,
            "totals": self.totals.to_dict(),
        }


def site_attendance(
    event: Event, site_ids: set[int] | None = None, day: date | None = None
) -> AttendanceSummary:
    """Per-site and online counts for an event or one of its days, optionally limited
    to some sites.

    Three aggregate queries whatever the number of registrations. With ``site_ids``
    the online figures are left out, since they belong to no site.
    """
    restricted = site_ids is not None
    site_rows = db.session.execute(
        sa.select(EventSite.site_id, Site.slug, Site.name, EventSite.capacity)
        .join(Site, Site.id == EventSite.site_id)
        .where(EventSite.event_id == event.id)
        .where(EventSite.site_id.in_(site_ids) if restricted else sa.true())
        .order_by(EventSite.position, Site.name)
    ).all()
    lines = tally(
        count_groups(event, day),
        lambda group: group.home_site_id,
        lambda group: group.place_site_id,
    )

    sites = []
    for site_id, slug, name, capacity in site_rows:
        line = lines.get(site_id, Line())
        sites.append(
            SiteAttendance(
                site_id=site_id,
                slug=slug,
                name=name,
                capacity=capacity,
                confirmed=line.confirmed,
                waitlisted=line.waitlisted,
                checked_in=line.attended,
                not_arrived=line.not_arrived,
                from_other_sites=line.came_from_elsewhere,
                registered=line.registered,
                arrived=line.arrived,
                attended_elsewhere=line.attended_elsewhere,
            )
        )

    online = None
    if not restricted:
        joined, by_report = _online_evidence(event, day)
        line = lines.get(None, Line())
        online = OnlineAttendance(
            registered=line.registered,
            joined=joined,
            attended_by_report=by_report,
            attended=line.attended,
            arrived=line.arrived,
            attended_elsewhere=line.attended_elsewhere,
            from_other_sites=line.came_from_elsewhere,
            not_arrived=line.not_arrived,
        )
    covered = [*sites, *([online] if online else [])]
    totals = AttendanceTotals(
        capacity=sum(s.capacity for s in sites),
        confirmed=sum(s.confirmed for s in sites),
        waitlisted=sum(s.waitlisted for s in sites),
        checked_in=sum(s.checked_in for s in sites),
        not_arrived=sum(s.not_arrived for s in sites),
        online_registered=online.registered if online else 0,
        online_joined=online.joined if online else 0,
        online_attended_by_report=online.attended_by_report if online else 0,
        attended=sum(s.checked_in for s in sites) + (online.attended if online else 0),
        registered=sum(line.registered for line in covered),
        arrived=sum(line.arrived for line in covered),
        attended_elsewhere=sum(line.attended_elsewhere for line in covered),
        from_other_sites=sum(line.from_other_sites for line in covered),
    )
    return AttendanceSummary(
        event_slug=event.slug, sites=sites, online=online, totals=totals, day=day
    )


def _online_evidence(event: Event, day: date | None) -> tuple[int, int]:
    """How many people opened their join link, and how many a meeting report admitted."""
    rows = dict(
        db.session.execute(
            sa.select(CheckIn.method, sa.func.count(sa.distinct(CheckIn.registration_id)))
            .where(
                CheckIn.event_id == event.id,
                CheckIn.site_id.is_(None),
                CheckIn.method.in_((CheckInMethod.ONLINE_JOIN, CheckInMethod.ONLINE_REPORT)),
                live_admission(),
            )
            .where(CheckIn.day == day if day is not None else sa.true())
            .group_by(CheckIn.method)
        ).all()
    )
    return rows.get(CheckInMethod.ONLINE_JOIN, 0), rows.get(CheckInMethod.ONLINE_REPORT, 0)


# --- the personal join link -------------------------------------------------


class JoinState(StrEnum):
    OPEN = "open"
    NOT_YET = "not_yet"
    OVER = "over"


class JoinRefusal(StrEnum):
    """Why a join link does not lead to the meeting."""

    REGISTRATION_CANCELLED = "registration_cancelled"
    EVENT_CANCELLED = "event_cancelled"
    NOT_ONLINE = "not_online"
    NO_MEETING_LINK = "no_meeting_link"


def join_refusal(registration: Registration) -> JoinRefusal | None:
    """Why this person may not join online at all, or None when they may."""
    event = registration.event
    if registration.status == RegistrationStatus.CANCELLED:
        return JoinRefusal.REGISTRATION_CANCELLED
    if event.status == EventStatus.CANCELLED:
        return JoinRefusal.EVENT_CANCELLED
    if not event.allows_online:
        return JoinRefusal.NOT_ONLINE
    if not event.meeting_url.lower().startswith(("https://", "http://")):
        return JoinRefusal.NO_MEETING_LINK
    return None


def join_window(event: Event, opens_minutes_before: int) -> tuple[datetime, datetime]:
    """When an online participant's join link works: shortly before the start, until the end."""
    return event.starts_at - timedelta(minutes=opens_minutes_before), event.ends_at


def join_state(event: Event, opens_minutes_before: int, now: datetime | None = None) -> JoinState:
    """Whether the join link is open now, not open yet, or over."""
    now = now or utcnow()
    opens, closes = join_window(event, opens_minutes_before)
    if now < opens:
        return JoinState.NOT_YET
    if now >= closes:
        return JoinState.OVER
    return JoinState.OPEN


def record_online_join(registration: Registration, now: datetime | None = None) -> CheckIn:
    """Record that a person followed their join link: one row, first and last join kept.

    Two simultaneous first joins race for the partial unique index; the loser
    updates the winner's row instead, inside a savepoint so the caller's
    transaction survives.
    """
    now = now or utcnow()
    day = registration.event.local_day(now)
    existing = _live_online_row(registration.id, CheckInMethod.ONLINE_JOIN, day)
    if existing is None:
        row = CheckIn(
            client_id=str(uuid.uuid4()),
            event_id=registration.event_id,
            registration_id=registration.id,
            site_id=None,
            method=CheckInMethod.ONLINE_JOIN,
            result=CheckInResult.ADMITTED,
            scanned_at=now,
            day=day,
            received_at=now,
            last_seen_at=now,
            device="join link",
        )
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except sa.exc.IntegrityError:
            existing = _live_online_row(registration.id, CheckInMethod.ONLINE_JOIN, day)
            if existing is None:
                raise
        else:
            return row
    existing.last_seen_at = max(existing.last_seen_at or existing.scanned_at, now)
    return existing


def _live_online_row(registration_id: int, method: CheckInMethod, day: date) -> CheckIn | None:
    return db.session.scalar(
        sa.select(CheckIn).where(
            CheckIn.registration_id == registration_id,
            CheckIn.method == method,
            CheckIn.day == day,
            CheckIn.site_id.is_(None),
            CheckIn.annulled_at.is_(None),
        )
    )


# --- arrivals over time -------------------------------------------------------


@dataclass(frozen=True)
class Arrivals:
    """Admissions per site counted in fixed time buckets, for the dashboard's charts."""

    bucket_minutes: int
    #: site id -> [(bucket start, admissions in that bucket)], oldest first.
    per_site: dict[int, list[tuple[datetime, int]]]

    def domain(self, event: Event, now: datetime | None = None) -> tuple[datetime, datetime]:
        """The time span every site's chart shares, so the charts compare at a glance."""
        now = now or utcnow()
        starts = [points[0][0] for points in self.per_site.values() if points]
        ends = [points[-1][0] for points in self.per_site.values() if points]
        step = timedelta(minutes=self.bucket_minutes)
        if not starts:
            return event.starts_at - timedelta(hours=1), event.starts_at
        start = min(min(starts), event.starts_at - step)
        end = max(max(ends) + step, min(max(now, start + step), event.ends_at))
        return start, end


def _bucket_expression(column, seconds: int):
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.func.floor(sa.extract("epoch", column) / seconds)
    # SQLite keeps the naive UTC text; strftime('%s') reads it as UTC.
    return sa.cast(sa.func.strftime("%s", column), sa.Integer) // seconds


def arrivals_over_time(
    event: Event,
    site_ids: set[int] | None = None,
    bucket_minutes: int = 10,
    day: date | None = None,
) -> Arrivals:
    """Admissions at each site's door per time bucket, grouped in the database: one query.

    Sessions' admissions are left out: a person let in at the door and then to two
    sessions arrived once.
    """
    seconds = bucket_minutes * 60
    bucket = _bucket_expression(CheckIn.scanned_at, seconds).label("bucket")
    rows = db.session.execute(
        sa.select(CheckIn.site_id, bucket, sa.func.count(CheckIn.id))
        .where(
            CheckIn.event_id == event.id,
            CheckIn.site_id.is_not(None),
            CheckIn.session_id.is_(None),
            live_admission(),
        )
        .where(CheckIn.site_id.in_(site_ids) if site_ids is not None else sa.true())
        .where(CheckIn.day == day if day is not None else sa.true())
        .group_by(CheckIn.site_id, bucket)
        .order_by(CheckIn.site_id, bucket)
    ).all()
    per_site: dict[int, list[tuple[datetime, int]]] = {}
    for site_id, number, count in rows:
        moment = datetime.fromtimestamp(int(number) * seconds, UTC)
        per_site.setdefault(site_id, []).append((moment, count))
    return Arrivals(bucket_minutes=bucket_minutes, per_site=per_site)
