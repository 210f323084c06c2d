"""The attendance report an organiser pastes into a donor report.

Registered versus attended by site, mode, kind of organisation and gender, the
attendance rate, and refused check-ins by reason. Every figure follows the one
counting rule of ``app.attendance.counting`` (see its docstring), so each
person counts once, each table adds up to the same total, and no rate is above
100%.

The report page, its charts, the CSV and the printable PDF are all drawn from
one ``attendance_report`` result, so they cannot disagree; the dashboard, the
API and the workbook's summary count with the same rule.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import gettext as _

from app import labels
from app.attendance.counting import Group, Line, count_groups, tally, total
from app.attendance.services import arrivals_over_time
from app.extensions import db
from app.models import (
    CheckIn,
    CheckInMethod,
    CheckInResult,
    Event,
    Mode,
    Site,
    utcnow,
)


@dataclass
class ReportLine(Line):
    label: str = ""
    #: The site a by-site line stands for; None for online and for the other tables.
    site_id: int | None = None


class Movement(StrEnum):
    """What "elsewhere" means in a table whose people may count away from where they
    registered; a table without movement shows registered, attended and the rate."""

    NONE = "none"
    SITES = "sites"
    MODES = "modes"


@dataclass
class ReportTable:
    title: str
    lines: list[ReportLine]
    movement: Movement = Movement.NONE

    @property
    def shows_movement(self) -> bool:
        return self.movement != Movement.NONE

    def columns(self) -> list[str]:
        """The headings of the figures, in the order ``figures`` gives them."""
        if self.movement == Movement.SITES:
            middle = [
                _("Attended here"),
                _("Attended at another site"),
                _("Came from another site"),
            ]
        elif self.movement == Movement.MODES:
            middle = [
                _("Attended in this mode"),
                _("Attended in the other mode"),
                _("Came from the other mode"),
            ]
        else:
            middle = [_("Attended")]
        return [_("Registered"), *middle, _("Attendance rate")]

    def figures(self, line: Line) -> list[int | str]:
        """A line's figures under ``columns``."""
        if not self.shows_movement:
            return [line.registered, line.attended, line.rate_text]
        return [
            line.registered,
            line.attended,
            line.attended_elsewhere,
            line.came_from_elsewhere,
            line.rate_text,
        ]

    @property
    def total(self) -> ReportLine:
        """The sum of the lines: the report's total, with the people who moved."""
        line = ReportLine(label=_("Total"))
        for each in self.lines:
            line.add(each)
        return line


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
    total: ReportLine = field(default_factory=ReportLine)
    refused: list[RefusalLine] = field(default_factory=list)
    #: The day counted; None for the whole event.
    day: date | None = None
    generated_at: datetime = field(default_factory=utcnow)

    def tables(self) -> list[ReportTable]:
        return [
            ReportTable(_("By site"), self.by_site, Movement.SITES),
            ReportTable(_("By mode"), self.by_mode, Movement.MODES),
            ReportTable(_("By kind of organisation"), self.by_org_kind),
            ReportTable(_("By gender"), self.by_gender),
        ]


def attendance_report(event: Event, day: date | None = None) -> AttendanceReport:
    """The report for the whole event, or for one day: two aggregate queries (three when
    someone registered for or attended a site no longer in the event)."""
    groups = count_groups(event, day)
    site_names = {es.site_id: es.site.name for es in event.event_sites}
    missing = {
        site_id
        for group in groups
        for site_id in (group.home_site_id, group.place_site_id)
        if site_id is not None and site_id not in site_names
    }
    if missing:
        site_names.update(
            db.session.execute(sa.select(Site.id, Site.name).where(Site.id.in_(missing))).all()
        )
    online_label = str(labels.MODE[Mode.ONLINE])

    def site_line(site_id: int | None) -> ReportLine:
        if site_id is None:
            return ReportLine(label=online_label)
        return ReportLine(label=site_names.get(site_id, "?"), site_id=site_id)

    by_site = tally(groups, _home_site, _place_site, site_line)
    site_lines = [by_site.get(site_id) or site_line(site_id) for site_id in site_names]
    online_line = by_site.get(None) or site_line(None)
    by_mode = tally(
        groups,
        lambda group: group.mode,
        lambda group: group.place_mode,
        lambda mode: ReportLine(label=str(labels.MODE[mode])),
    )
    by_kind = tally(
        groups,
        lambda group: group.org_kind,
        make=lambda kind: ReportLine(label=str(labels.ORG_KIND[kind])),
    )
    by_gender = tally(
        groups,
        lambda group: group.gender,
        make=lambda gender: ReportLine(
            label=str(labels.GENDER[gender]) if gender else _("Not stated")
        ),
    )
    everyone = ReportLine(label=_("All participants"))
    everyone.add(total(groups))

    report = AttendanceReport(
        by_site=site_lines + ([online_line] if _has_online(event, online_line) else []),
        by_mode=[
            by_mode.get(mode) or ReportLine(label=str(label)) for mode, label in labels.MODE.items()
        ],
        by_org_kind=_in_order(by_kind, labels.ORG_KIND),
        by_gender=_in_order(by_gender, [*labels.GENDER, None]),
        total=everyone,
        day=day,
    )
    report.refused = refused_checkins(event, day)
    return report


def _home_site(group: Group) -> int | None:
    return group.home_site_id


def _place_site(group: Group) -> int | None:
    return group.place_site_id


def _has_online(event: Event, line: Line) -> bool:
    """Online has a line when the event takes people online, or when anyone counts there."""
    return event.allows_online or bool(line.registered or line.attended)


def _in_order(lines: dict, order) -> list[ReportLine]:
    """The lines with anyone in them, in the order of the labels."""
    return [
        lines[key]
        for key in order
        if key in lines and (lines[key].registered or lines[key].attended)
    ]


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
            "Each person is counted once per day, where they actually attended that day: at "
            "the site where they were checked in, otherwise online when they joined with "
            "their link or an imported meeting report shows them above the threshold. Over "
            "the whole event, a person who attended on several days is counted once, where "
            "they attended on their first day."
        ),
        _(
            "Registered: confirmed registrations, and anyone who attended, counted where "
            'they registered (their site, or online). "Attended here" counts everyone who '
            'attended at a site (or online), wherever they registered; "came from another '
            'site" are those among them who registered elsewhere or online, and "attended '
            "at another site\" are the site's own people who attended elsewhere, online "
            "included. The attendance rate is the share of the registered people who "
            "attended anywhere, so it can never be more than all of them, and every table "
            "adds up to the same total."
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
    arrivals = arrivals_over_time(event, day=report.day)
    start, end = arrivals.domain(event)
    series = [
        ArrivalSeries(line, arrivals.per_site.get(line.site_id, []))
        for line in report.by_site
        if line.site_id is not None
    ]
    return ReportArrivals(start, end, series)


def refused_checkins(event: Event, day: date | None = None) -> list[RefusalLine]:
    """Refused check-in attempts grouped by reason and place, most frequent first."""
    rows = db.session.execute(
        sa.select(CheckIn.reason, CheckIn.method, Site.name, sa.func.count(CheckIn.id))
        .outerjoin(Site, Site.id == CheckIn.site_id)
        .where(
            CheckIn.event_id == event.id,
            CheckIn.result == CheckInResult.REFUSED,
            CheckIn.annulled_at.is_(None),
        )
        .where(CheckIn.day == day if day is not None else sa.true())
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
    for table in report.tables():
        writer.writerow([table.title, *table.columns()])
        for line in [*table.lines, table.total]:
            writer.writerow([neutralise(line.label), *table.figures(line)])
        writer.writerow([])
    writer.writerow([_("Total"), _("Registered"), _("Attended"), _("Attendance rate")])
    writer.writerow(
        [
            neutralise(report.total.label),
            report.total.registered,
            report.total.attended,
            report.total.rate_text,
        ]
    )
    writer.writerow([])
    writer.writerow([_("Refused check-ins"), _("Where"), _("Count")])
    for refusal in report.refused:
        writer.writerow([neutralise(refusal.reason), neutralise(refusal.where), refusal.count])
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")
