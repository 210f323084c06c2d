"""How long the attendance report and the dashboard's figures take for a three-day event.

10,000 registrations at 6 sites and online (1,000 are measured too, to show the
queries do not grow with the people): each day about 70% attend, some at another
site than their own, some online with their link, a few admitted and then undone.
Runs on a throw-away SQLite file, or on PostgreSQL when BENCH_DATABASE_URL is set
(the benchmark adds its own event and sites, and removes them afterwards).

    python -m benchmarks report
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.attendance.charts import arrivals_svg
from app.attendance.report_pdf import ReportFacts, render_report_pdf
from app.attendance.reports import attendance_report, report_arrivals, report_csv
from app.attendance.services import arrivals_over_time, site_attendance
from app.extensions import db
from app.models import CheckIn, CheckInMethod, Event, RegistrationStatus
from benchmarks import seeding

DAYS = 3


def _seed(size: int, tag: str) -> Event:
    """An event over three days with ``size`` registrations and their check-ins."""
    start = datetime(2025, 3, 14, 5, 0, tzinfo=UTC)
    event = seeding.add_event(
        tag,
        size,
        slug=f"bench-report-{tag}",
        starts_at=start,
        ends_at=start + timedelta(days=DAYS - 1, hours=8),
        meeting_url="https://meet.example.org",
    )
    statuses = [RegistrationStatus.CONFIRMED] * 8 + [
        RegistrationStatus.WAITLISTED,
        RegistrationStatus.CANCELLED,
    ]
    registrations = seeding.add_registrations(
        event, size, tag, lambda i: {"status": statuses[(i // 3) % len(statuses)]}
    )
    site_ids = [event_site.site_id for event_site in event.event_sites]
    checkins = []
    for n, (rid, site_id) in enumerate(registrations):
        for day in range(DAYS):
            if (n + day) % 10 >= 7:
                continue
            at = start + timedelta(days=day, seconds=(n * 7) % 14_400)
            if site_id is None or (n + day) % 13 == 0:
                place, method = None, CheckInMethod.ONLINE_JOIN
            elif (n + day) % 17 == 0:
                place, method = site_ids[(n + day) % len(site_ids)], CheckInMethod.SEARCH
            else:
                place, method = site_id, CheckInMethod.QR
            checkins.append(
                seeding.checkin_row(
                    event,
                    rid,
                    place,
                    at,
                    method=method,
                    forced=place is not None and place != site_id,
                    annulled_at=at if n % 50 == 0 else None,
                )
            )
    db.session.execute(sa.insert(CheckIn), checkins)
    db.session.commit()
    seeding.analyze()
    return event


def _runs(event: Event) -> dict[str, Callable[[], object]]:
    day = event.local_day(event.starts_at) + timedelta(days=1)

    def dashboard() -> object:
        summary = site_attendance(event)
        arrivals = arrivals_over_time(event)
        start, end = arrivals.domain(event)
        for site in summary.sites:
            arrivals_svg(arrivals.per_site.get(site.site_id, []), start, end, 1, event.zone, "")
        return summary.to_dict()

    def pdf() -> object:
        report = attendance_report(event)
        facts = ReportFacts(event.title, "14–16 March 2025", event.timezone, "", [], "now")
        return render_report_pdf(facts, report, report_arrivals(event, report), event.zone)

    return {
        "report (whole event)": lambda: attendance_report(event),
        "report (one day)": lambda: attendance_report(event, day),
        "report.csv": lambda: report_csv(event.title, attendance_report(event)),
        "report.pdf": pdf,
        "dashboard data": dashboard,
        "dashboard data (one day)": lambda: site_attendance(event, day=day).to_dict(),
    }


def _time(run: Callable[[], object], repeat: int = 3) -> float:
    """The best of a few runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        db.session.expire_all()
        began = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - began)
    return best


def main() -> None:
    with seeding.bench_app() as backend:
        print(f"database: {backend}; {len(seeding.SITES)} sites; {DAYS} days; ~70% attend each day")
        print(f"{'what':<28}{'people':>8}{'check-ins':>11}{'seconds':>10}")
        for size in (1_000, 10_000):
            with seeding.removed_afterwards(_seed(size, secrets.token_hex(3))) as event:
                rows = db.session.scalar(
                    sa.select(sa.func.count(CheckIn.id)).where(CheckIn.event_id == event.id)
                )
                for name, run in _runs(event).items():
                    seconds = _time(run)
                    print(f"{name:<28}{size:>8}{rows:>11}{seconds:>10.3f}", flush=True)


if __name__ == "__main__":
    main()
