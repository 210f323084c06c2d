"""Attendance derived from check-ins: per-site counts, online attendance and joins.

Attendance is never stored on its own. A person attended a site when there is
an admitted, unannulled check-in with that site; online attendance comes from
the unannulled rows without a site (the personal join link, or an imported
meeting report whose result says whether the person reached the threshold).
Every function here uses a fixed number of aggregate queries, however many
people registered.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import (
    CheckIn,
    CheckInMethod,
    CheckInResult,
    Event,
    EventSite,
    EventStatus,
    Mode,
    Registration,
    RegistrationStatus,
    Site,
    live_admission,
    live_site_admission,
    utcnow,
)


@dataclass(frozen=True)
class SiteAttendance:
    site_id: int
    slug: str
    name: str
    capacity: int
    #: Confirmed in-person registrations for this site.
    confirmed: int
    waitlisted: int
    #: Admitted here, whoever they registered for (walk-ins and forced admissions count).
    checked_in: int
    #: Confirmed for this site and not yet admitted anywhere.
    not_arrived: int
    #: Admitted here, though registered for another site or online (part of checked_in).
    from_other_sites: int

    @property
    def arrived(self) -> int:
        """The site's own people who arrived: with not_arrived it adds up to confirmed.

        Someone let in at another site on purpose counts here, where they are
        expected, and there among those from other sites.
        """
        return self.confirmed - self.not_arrived

    @property
    def rate_text(self) -> str:
        return _rate_text(self.arrived, self.confirmed)

    def to_dict(self) -> dict:
        data = asdict(self)
        del data["site_id"]
        return data


def _rate_text(part: int, whole: int) -> str:
    """A whole percentage, rounded down so that 100% means everyone."""
    # static/js/dashboard.js writes the rate the same way when it refreshes the page.
    return "–" if not whole else f"{100 * part // whole}%"


@dataclass(frozen=True)
class OnlineAttendance:
    #: Confirmed online registrations.
    registered: int
    #: People who opened their join link inside the join window.
    joined: int
    #: People an imported meeting report shows at or above the threshold.
    attended_by_report: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class AttendanceTotals:
    capacity: int
    confirmed: int
    waitlisted: int
    checked_in: int
    not_arrived: int
    online_registered: int
    online_joined: int
    online_attended_by_report: int
    #: Distinct people who attended, at a site or online.
    attended: int

    @property
    def arrived(self) -> int:
        """The sites' own people who arrived, wherever they were let in."""
        return self.confirmed - self.not_arrived

    @property
    def rate_text(self) -> str:
        return _rate_text(self.arrived, self.confirmed)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class AttendanceSummary:
    event_slug: str
    sites: list[SiteAttendance]
    #: None when the summary is limited to some sites (a coordinator's view).
    online: OnlineAttendance | None
    totals: AttendanceTotals
    generated_at: datetime = field(default_factory=utcnow)

    def site(self, slug: str) -> SiteAttendance | None:
        return next((s for s in self.sites if s.slug == slug), None)

    def to_dict(self) -> dict:
        """JSON-ready data, as the dashboard and the API serve it."""
        return {
            "event": self.event_slug,
            "generated_at": self.generated_at.isoformat(),
            "sites": [site.to_dict() for site in self.sites],
            "online": self.online.to_dict() if self.online else None,
            "totals": self.totals.to_dict(),
        }


def site_attendance(event: Event, site_ids: set[int] | None = None) -> AttendanceSummary:
    """Per-site and online counts for an event, optionally limited to some sites.

    Four aggregate queries whatever the number of registrations. With
    ``site_ids`` the online figures are left out, since they belong to no site.
    """
    restricted = site_ids is not None
    site_rows = db.session.execute(
        sa.select(EventSite.site_id, Site.slug, Site.name, EventSite.capacity)
        .join(Site, Site.id == EventSite.site_id)
        .where(EventSite.event_id == event.id)
        .where(EventSite.site_id.in_(site_ids) if restricted else sa.true())
        .order_by(EventSite.position, Site.name)
    ).all()

    admission = aliased(CheckIn)
    registration_counts = db.session.execute(
        sa.select(
            Registration.site_id,
            Registration.mode,
            Registration.status,
            sa.func.count(Registration.id),
            sa.func.count(admission.id),
        )
        .outerjoin(
            admission,
            live_site_admission(admission),
        )
        .where(Registration.event_id == event.id)
        .where(Registration.site_id.in_(site_ids) if restricted else sa.true())
        .group_by(Registration.site_id, Registration.mode, Registration.status)
    ).all()

    visitor = Registration.site_id.is_distinct_from(CheckIn.site_id)
    checkin_counts = db.session.execute(
        sa.select(
            CheckIn.site_id,
            CheckIn.method,
            sa.func.count(sa.distinct(CheckIn.registration_id)),
            sa.func.count(sa.distinct(sa.case((visitor, CheckIn.registration_id)))),
        )
        .join(Registration, Registration.id == CheckIn.registration_id)
        .where(
            CheckIn.event_id == event.id,
            live_admission(),
        )
        .where(CheckIn.site_id.in_(site_ids) if restricted else sa.true())
        .group_by(CheckIn.site_id, CheckIn.method)
    ).all()

    attended = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(CheckIn.registration_id))).where(
            CheckIn.event_id == event.id,
            live_admission(),
            CheckIn.site_id.in_(site_ids) if restricted else sa.true(),
        )
    )

    per_site: dict[int, dict[str, int]] = {}
    online_registered = 0
    for site_id, mode, status, number, arrived in registration_counts:
        if mode == Mode.ONLINE:
            if status == RegistrationStatus.CONFIRMED:
                online_registered += number
            continue
        counts = per_site.setdefault(site_id, {"confirmed": 0, "waitlisted": 0, "arrived": 0})
        if status == RegistrationStatus.CONFIRMED:
            counts["confirmed"] += number
            counts["arrived"] += arrived
        elif status == RegistrationStatus.WAITLISTED:
            counts["waitlisted"] += number

    checked_in: dict[int, int] = {}
    from_other_sites: dict[int, int] = {}
    online_counts = {CheckInMethod.ONLINE_JOIN: 0, CheckInMethod.ONLINE_REPORT: 0}
    for site_id, method, number, visitors in checkin_counts:
        if site_id is None:
            online_counts[method] = online_counts.get(method, 0) + number
        else:
            checked_in[site_id] = checked_in.get(site_id, 0) + number
            from_other_sites[site_id] = from_other_sites.get(site_id, 0) + visitors

    sites = []
    for site_id, slug, name, capacity in site_rows:
        counts = per_site.get(site_id, {"confirmed": 0, "waitlisted": 0, "arrived": 0})
        sites.append(
            SiteAttendance(
                site_id=site_id,
                slug=slug,
                name=name,
                capacity=capacity,
                confirmed=counts["confirmed"],
                waitlisted=counts["waitlisted"],
                checked_in=checked_in.get(site_id, 0),
                not_arrived=counts["confirmed"] - counts["arrived"],
                from_other_sites=from_other_sites.get(site_id, 0),
            )
        )

    online = None
    if not restricted:
        online = OnlineAttendance(
            registered=online_registered,
            joined=online_counts[CheckInMethod.ONLINE_JOIN],
            attended_by_report=online_counts[CheckInMethod.ONLINE_REPORT],
        )
    totals = AttendanceTotals(
        capacity=sum(s.capacity for s in sites),
        confirmed=sum(s.confirmed for s in sites),
        waitlisted=sum(s.waitlisted for s in sites),
        checked_in=sum(s.checked_in for s in sites),
        not_arrived=sum(s.not_arrived for s in sites),
        online_registered=online.registered if online else 0,
        online_joined=online.joined if online else 0,
        online_attended_by_report=online.attended_by_report if online else 0,
        attended=attended or 0,
    )
    return AttendanceSummary(event_slug=event.slug, sites=sites, online=online, totals=totals)


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
    existing = _live_online_row(registration.id, CheckInMethod.ONLINE_JOIN)
    if existing is None:
        row = CheckIn(
            client_id=str(uuid.uuid4()),
            event_id=registration.event_id,
            registration_id=registration.id,
            site_id=None,
            method=CheckInMethod.ONLINE_JOIN,
            result=CheckInResult.ADMITTED,
            scanned_at=now,
            received_at=now,
            last_seen_at=now,
            device="join link",
        )
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except sa.exc.IntegrityError:
            existing = _live_online_row(registration.id, CheckInMethod.ONLINE_JOIN)
            if existing is None:
                raise
        else:
            return row
    existing.last_seen_at = max(existing.last_seen_at or existing.scanned_at, now)
    return existing


def _live_online_row(registration_id: int, method: CheckInMethod) -> CheckIn | None:
    return db.session.scalar(
        sa.select(CheckIn).where(
            CheckIn.registration_id == registration_id,
            CheckIn.method == method,
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
    event: Event, site_ids: set[int] | None = None, bucket_minutes: int = 10
) -> Arrivals:
    """Admissions per site and time bucket, grouped in the database: one query."""
    seconds = bucket_minutes * 60
    bucket = _bucket_expression(CheckIn.scanned_at, seconds).label("bucket")
    rows = db.session.execute(
        sa.select(CheckIn.site_id, bucket, sa.func.count(CheckIn.id))
        .where(
            CheckIn.event_id == event.id,
            CheckIn.site_id.is_not(None),
            live_admission(),
        )
        .where(CheckIn.site_id.in_(site_ids) if site_ids is not None else sa.true())
        .group_by(CheckIn.site_id, bucket)
        .order_by(CheckIn.site_id, bucket)
    ).all()
    per_site: dict[int, list[tuple[datetime, int]]] = {}
    for site_id, number, count in rows:
        moment = datetime.fromtimestamp(int(number) * seconds, UTC)
        per_site.setdefault(site_id, []).append((moment, count))
    return Arrivals(bucket_minutes=bucket_minutes, per_site=per_site)
