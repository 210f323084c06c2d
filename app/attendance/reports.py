"""The attendance report an organiser pastes into a donor report.

Registered versus attended by site, mode, kind of organisation and gender, the
attendance rate, and refused check-ins by reason. Two aggregate queries.

"Registered" means confirmed, plus anyone who attended whatever their status
(a waitlisted person let in at the door still took part). Each person who
attended is counted once: at the site where they were admitted, or online
when they joined online or an imported report shows them above the threshold.

The report page, its charts, the CSV and the printable PDF are all drawn from
one ``attendance_report`` result, so they cannot disagree.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import aliased

from app import labels
from app.attendance.services import arrivals_over_time
from app.extensions import db
from app.models import (
    CheckIn,
    CheckInMethod,
    CheckInResult,
    Event,
    Gender,
    Mode,
    Registration,
    RegistrationStatus,
    Site,
    live_admission,
    live_site_admission,
    utcnow,
)


@dataclass
class ReportLine:
    label: str
    registered: int = 0
    attended: int = 0
    #: The site a by-site line stands for; None for online and for the other tables.
    site_id: int | None = None

    @property
    def rate(self) -> float | None:
        """Attended as a share of registered; None when nobody registered."""
        return self.attended / self.registered if self.registered else None

    @property
    def rate_text(self) -> str:
        return "–" if self.rate is None else f"{self.rate:.0%}"


@dataclass
class RefusalLine:
    reason: str
    where: str
    count: int


@dataclass
class AttendanceReport:
    by_site: list[ReportLine] = field(default_factory=list)
    by_mode: list[ReportLine] = field(default_factory=list)
    by_org_kind: list[ReportLine] = field(default_factory=list)
    by_gender: list[ReportLine] = field(default_factory=list)
    total: ReportLine = field(default_factory=lambda: ReportLine(""))
    refused: list[RefusalLine] = field(default_factory=list)
    generated_at: datetime = field(default_factory=utcnow)

    def tables(self) -> list[tuple[str, list[ReportLine]]]:
        return [
            (_("By site"), self.by_site),
            (_("By mode"), self.by_mode),
            (_("By kind of organisation"), self.by_org_kind),
            (_("By gender"), self.by_gender),
        ]


def attendance_report(event: Event) -> AttendanceReport:
    """Build the report for an event with two aggregate queries."""
    admission = aliased(CheckIn)
    online = aliased(CheckIn)
    online_attended = (
        sa.exists()
        .where(
            online.registration_id == Registration.id,
            online.site_id.is_(None),
            live_admission(online),
        )
        .label("online_attended")
    )
    groups = (
        Registration.mode,
        Registration.site_id,
        Registration.org_kind,
        Registration.gender,
        Registration.status,
        admission.site_id,
        online_attended,
    )
    rows = db.session.execute(
        sa.select(*groups, sa.func.count(Registration.id))
        .outerjoin(
            admission,
            live_site_admission(admission),
        )
        .where(Registration.event_id == event.id)
        .group_by(*groups)
    ).all()

    site_names = {es.site_id: es.site.name for es in event.event_sites}
    online_label = str(labels.MODE[Mode.ONLINE])
    by_site = {site_id: ReportLine(name, site_id=site_id) for site_id, name in site_names.items()}
    by_site_online = ReportLine(online_label)
    by_mode = {mode: ReportLine(str(label)) for mode, label in labels.MODE.items()}
    by_kind = {kind: ReportLine(str(label)) for kind, label in labels.ORG_KIND.items()}
    by_gender: dict[Gender | None, ReportLine] = {
        gender: ReportLine(str(label)) for gender, label in labels.GENDER.items()
    }
    by_gender[None] = ReportLine(_("Not stated"))
    total = ReportLine(_("All participants"))

    for mode, site_id, org_kind, gender, status, admitted_site, was_online, count in rows:
        attended = admitted_site is not None or bool(was_online)
        if status != RegistrationStatus.CONFIRMED and not attended:
            continue
        home = by_site_online if mode == Mode.ONLINE else by_site.get(site_id)
        if home is not None:
            home.registered += count
        # By site, attendance is counted where it happened, not where they registered.
        if admitted_site is not None:
            where = by_site.setdefault(
                admitted_site,
                ReportLine(site_names.get(admitted_site, "?"), site_id=admitted_site),
            )
            where.attended += count
        elif attended:
            by_site_online.attended += count
        for line in (by_mode[mode], by_kind[org_kind], by_gender[gender], total):
            line.registered += count
            if attended:
                line.attended += count

    report = AttendanceReport(
        by_site=[*by_site.values(), by_site_online],
        by_mode=list(by_mode.values()),
        by_org_kind=[line for line in by_kind.values() if line.registered or line.attended],
        by_gender=[line for line in by_gender.values() if line.registered or line.attended],
        total=total,
    )
    report.refused = refused_checkins(event)
    return report


def methods_note() -> list[str]:
    """How the figures were established and how a person is counted, for the reader."""
    return [
        _(
            "Attendance comes from the check-ins recorded during the event: QR codes scanned "
            "and manual check-ins at each site's door, online participants opening their "
            "personal join link, and meeting reports imported from the video platform "
            "(counted when the time online reaches the threshold). Paper sign-in sheets "
            "were printed for each site as a signed record; a name on a sheet counts only "
            "once it is checked in."
        ),
        _(
            "Registered: confirmed registrations, and anyone who attended. Each person who "
            "attended is counted once, at the site where they were checked in, or online "
            "when they joined with their link or an imported meeting report shows them "
            "above the threshold."
        ),
    ]


@dataclass
class ArrivalSeries:
    #: The site's by-site line: its name, and its registered people as the expected line.
    line: ReportLine
    #: [(bucket start, admissions in that bucket)], oldest first.
    points: list[tuple[datetime, int]]


@dataclass
class ReportArrivals:
    """Arrivals over time per site, on the one time span every site's chart shares."""

    start: datetime
    end: datetime
    series: list[ArrivalSeries]


def report_arrivals(event: Event, report: AttendanceReport) -> ReportArrivals:
    """Arrivals at each site of the report, over the time span the dashboard uses."""
    arrivals = arrivals_over_time(event)
    start, end = arrivals.domain(event)
    series = [
        ArrivalSeries(line, arrivals.per_site.get(line.site_id, []))
        for line in report.by_site
        if line.site_id is not None
    ]
    return ReportArrivals(start, end, series)


def refused_checkins(event: Event) -> list[RefusalLine]:
    """Refused check-in attempts grouped by reason and place, most frequent first."""
    rows = db.session.execute(
        sa.select(CheckIn.reason, CheckIn.method, Site.name, sa.func.count(CheckIn.id))
        .outerjoin(Site, Site.id == CheckIn.site_id)
        .where(
            CheckIn.event_id == event.id,
            CheckIn.result == CheckInResult.REFUSED,
            CheckIn.annulled_at.is_(None),
        )
        .group_by(CheckIn.reason, CheckIn.method, Site.name)
    ).all()
    lines = []
    for reason, method, site_name, count in rows:
        if reason is not None:
            text = str(labels.REFUSAL_REASON[reason])
        elif method == CheckInMethod.ONLINE_REPORT:
            text = _("Online time below the threshold")
        else:
            text = _("Refused")
        lines.append(RefusalLine(text, site_name or str(labels.MODE[Mode.ONLINE]), count))
    lines.sort(key=lambda line: (-line.count, line.reason, line.where))
    return lines


def report_csv(event_title: str, report: AttendanceReport) -> bytes:
    """The report as a CSV file (UTF-8 with a BOM), one block per table."""
    from app.attendance.exports import neutralise

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(event_title)])
    writer.writerow([])
    for title, lines in [*report.tables(), (_("Total"), [report.total])]:
        writer.writerow([title, _("Registered"), _("Attended"), _("Attendance rate")])
        for line in lines:
            writer.writerow(
                [neutralise(line.label), line.registered, line.attended, line.rate_text]
            )
        writer.writerow([])
    writer.writerow([_("Refused check-ins"), _("Where"), _("Count")])
    for refusal in report.refused:
        writer.writerow([neutralise(refusal.reason), neutralise(refusal.where), refusal.count])
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")
