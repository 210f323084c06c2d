"""The rows behind the attendance and registration downloads, one query each.

Each person's live site admission, online join and online report are joined
in (the partial unique indexes guarantee at most one of each), so a list of
10,000 people is one streamed query, not 10,000.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import (
    CheckIn,
    CheckInMethod,
    CheckInResult,
    Event,
    Gender,
    Mode,
    OrgKind,
    Registration,
    RegistrationStatus,
    Site,
    live_admission,
    live_site_admission,
)
from app.text import fold_for_search

#: Rows fetched from the database at a time while streaming.
BATCH = 1000


@dataclass(frozen=True)
class AttendanceRow:
    registration_id: int
    name: str
    organization: str
    position: str
    org_kind: OrgKind
    gender: Gender | None
    email: str
    phone: str
    mode: Mode
    status: RegistrationStatus
    registered_site: str
    #: Where the person attended: a site's name, or "" for online or not at all.
    attended_site: str
    attended_site_id: int | None
    #: The first moment they were admitted at a site or joined online.
    first_checkin: datetime | None
    method: CheckInMethod | None
    online_minutes: int | None
    attended_online: bool

    @property
    def attended(self) -> bool:
        return self.attended_site_id is not None or self.attended_online


@dataclass(frozen=True)
class RegistrationRow:
    name: str
    email: str
    phone: str
    organization: str
    position: str
    org_kind: OrgKind
    gender: Gender | None
    language: str
    mode: Mode
    site: str
    status: RegistrationStatus
    registered_at: datetime
    cancelled_at: datetime | None


def _online(check_in, method: CheckInMethod, *conditions) -> sa.ColumnElement[bool]:
    """Join condition for the person's online row of one method (join link or report)."""
    return sa.and_(
        check_in.registration_id == Registration.id,
        check_in.site_id.is_(None),
        check_in.method == method,
        *conditions,
    )


def attendance_rows(event: Event, site_ids: set[int] | None = None) -> Iterator[AttendanceRow]:
    """Everyone registered (and anyone admitted after cancelling), sorted by name, streamed.

    With ``site_ids``: people registered for those sites or admitted there.
    """
    admission = aliased(CheckIn)
    joined = aliased(CheckIn)
    report = aliased(CheckIn)
    registered_site = aliased(Site)
    admission_site = aliased(Site)
    query = (
        sa.select(
            Registration.id,
            Registration.name,
            Registration.organization,
            Registration.position,
            Registration.org_kind,
            Registration.gender,
            Registration.email,
            Registration.phone,
            Registration.mode,
            Registration.status,
            registered_site.name,
            admission_site.name,
            admission.site_id,
            admission.scanned_at,
            admission.method,
            joined.scanned_at,
            report.scanned_at,
            report.result,
            report.online_minutes,
        )
        .outerjoin(registered_site, registered_site.id == Registration.site_id)
        .outerjoin(
            admission,
            live_site_admission(admission),
        )
        .outerjoin(admission_site, admission_site.id == admission.site_id)
        .outerjoin(joined, _online(joined, CheckInMethod.ONLINE_JOIN, live_admission(joined)))
        .outerjoin(
            report, _online(report, CheckInMethod.ONLINE_REPORT, report.annulled_at.is_(None))
        )
        .where(Registration.event_id == event.id)
        .where(
            sa.or_(
                Registration.status != RegistrationStatus.CANCELLED,
                admission.id.is_not(None),
                joined.id.is_not(None),
            )
        )
        .order_by(Registration.search_text, Registration.id)
    )
    if site_ids is not None:
        query = query.where(
            sa.or_(Registration.site_id.in_(site_ids), admission.site_id.in_(site_ids))
        )
    for row in db.session.execute(query.execution_options(yield_per=BATCH)):
        (
            rid,
            name,
            organization,
            position,
            org_kind,
            gender,
            email,
            phone,
            mode,
            status,
            registered_name,
            admission_name,
            admission_site_id,
            admitted_at,
            admitted_method,
            joined_at,
            report_at,
            report_result,
            minutes,
        ) = row
        reported = report_result == CheckInResult.ADMITTED
        first, method = admitted_at, admitted_method
        if first is None:
            online = [
                (t, m)
                for t, m in (
                    (joined_at, CheckInMethod.ONLINE_JOIN),
                    (report_at if reported else None, CheckInMethod.ONLINE_REPORT),
                )
                if t is not None
            ]
            if online:
                first, method = min(online)
        yield AttendanceRow(
            registration_id=rid,
            name=name,
            organization=organization,
            position=position,
            org_kind=org_kind,
            gender=gender,
            email=email,
            phone=phone,
            mode=mode,
            status=status,
            registered_site=registered_name or "",
            attended_site=admission_name or "",
            attended_site_id=admission_site_id,
            first_checkin=first,
            method=method,
            online_minutes=minutes,
            attended_online=joined_at is not None or reported,
        )


@dataclass(frozen=True)
class SigninRow:
    registration_id: int
    #: The row's code, printed on the sheet and shown where the sheet is recorded.
    code: str
    name: str
    organization: str
    position: str
    arrived_at: datetime | None


@dataclass(frozen=True)
class SigninSection:
    site_name: str
    rows: list[SigninRow]


#: A row code has at least this many characters of the badge code (30 bits).
ROW_CODE_LENGTH = 6


def row_codes(badge_codes: list[str], minimum: int = ROW_CODE_LENGTH) -> dict[str, str]:
    """Each badge code's row code: its shortest beginning, of ``minimum`` characters or
    more, that no other of ``badge_codes`` (the event's) begins with."""
    ordered = sorted(set(badge_codes))

    def shared(a: str, b: str) -> int:
        length = 0
        for x, y in zip(a, b, strict=False):
            if x != y:
                break
            length += 1
        return length

    codes = {}
    for index, code in enumerate(ordered):
        neighbours = ordered[max(index - 1, 0) : index] + ordered[index + 1 : index + 2]
        length = max([minimum, *(shared(code, other) + 1 for other in neighbours)])
        codes[code] = code[:length]
    return codes


def signin_sections(event: Event, site_ids: set[int] | None = None) -> list[SigninSection]:
    """One section per site: confirmed for it or admitted at it, sorted by name.

    Each person once per section, with their first arrival there. One query for
    the people and one for the event's badge codes (the row codes are short
    beginnings of them, unique within the event). Rows are sorted in Python by
    folded name so that Turkmen and Cyrillic names sort the same on SQLite and
    PostgreSQL.
    """
    admission = aliased(CheckIn)
    event_sites = [es for es in event.event_sites if site_ids is None or es.site_id in site_ids]
    wanted = {es.site_id for es in event_sites}
    rows = db.session.execute(
        sa.select(
            Registration.id,
            Registration.badge_code,
            Registration.name,
            Registration.organization,
            Registration.position,
            Registration.site_id,
            Registration.status,
            admission.site_id,
            admission.scanned_at,
        )
        .outerjoin(
            admission,
            live_site_admission(admission),
        )
        .where(Registration.event_id == event.id)
        .where(
            sa.or_(
                sa.and_(
                    Registration.site_id.in_(wanted),
                    Registration.status == RegistrationStatus.CONFIRMED,
                ),
                admission.site_id.in_(wanted),
            )
        )
        .order_by(admission.scanned_at)
        .execution_options(yield_per=BATCH)
    ).all()
    codes = row_codes(
        list(
            db.session.scalars(
                sa.select(Registration.badge_code).where(Registration.event_id == event.id)
            )
        )
    )
    per_site: dict[int, dict[int, tuple[str, SigninRow]]] = {site_id: {} for site_id in wanted}
    admitted_elsewhere = {
        rid
        for rid, _c, _n, _o, _p, site_id, _s, admitted_site, _a in rows
        if admitted_site is not None and admitted_site != site_id
    }
    for rid, badge_code, name, organization, position, site_id, status, admitted_site, at in rows:
        key = fold_for_search(name) + "\x00" + name
        row = SigninRow(rid, codes[badge_code], name, organization, position, None)
        # Rows come in order of arrival, so the first kept for a site is the first arrival.
        if admitted_site in per_site and rid not in per_site[admitted_site]:
            per_site[admitted_site][rid] = (key, replace(row, arrived_at=at))
        # Someone admitted at another site has arrived; they will not sign here.
        if (
            site_id in per_site
            and rid not in admitted_elsewhere
            and status == RegistrationStatus.CONFIRMED
        ):
            per_site[site_id].setdefault(rid, (key, row))
    return [
        SigninSection(
            es.site.name,
            [row for _, row in sorted(per_site[es.site_id].values(), key=lambda item: item[0])],
        )
        for es in event_sites
    ]


def registration_rows(event: Event, site_ids: set[int] | None = None) -> Iterator[RegistrationRow]:
    """Every registration with its status, sorted by name, streamed."""
    # Each column is labelled with the RegistrationRow field it fills.
    query = (
        sa.select(
            Registration.name,
            Registration.email,
            Registration.phone,
            Registration.organization,
            Registration.position,
            Registration.org_kind,
            Registration.gender,
            Registration.language,
            Registration.mode,
            sa.func.coalesce(Site.name, "").label("site"),
            Registration.status,
            Registration.created_at.label("registered_at"),
            Registration.cancelled_at,
        )
        .outerjoin(Site, Site.id == Registration.site_id)
        .where(Registration.event_id == event.id)
        .order_by(Registration.search_text, Registration.id)
    )
    if site_ids is not None:
        query = query.where(Registration.site_id.in_(site_ids))
    for row in db.session.execute(query.execution_options(yield_per=BATCH)):
        yield RegistrationRow(**row._mapping)
