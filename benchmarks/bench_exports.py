"""How long the attendance downloads take for 10,000 people at 6 sites, and their peak memory.

Runs on a throw-away SQLite file, or on PostgreSQL when BENCH_DATABASE_URL is
set (the benchmark adds its own event and sites, and removes them afterwards).
Each export is timed once without tracing, then run again under tracemalloc
for its peak of Python memory; 1,000 people are measured too, to show that
memory does not grow with the list.

    python -m benchmarks exports
"""

from __future__ import annotations

import gc
import os
import secrets
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app import create_app
from app.attendance.exports import attendance_csv, attendance_xlsx
from app.attendance.lists import attendance_rows, signin_sections
from app.attendance.services import site_attendance
from app.attendance.signin_sheet import signin_sheet_pdf
from app.extensions import db
from app.models import (
    CheckIn,
    CheckInMethod,
    CheckInResult,
    Event,
    EventSite,
    Gender,
    Mode,
    OrgKind,
    Registration,
    RegistrationStatus,
    Site,
)
from config import Config, _database_url

SITES = ("ashgabat", "ahal", "balkan", "dashoguz", "lebap", "mary")
FIRST_NAMES = (
    "Aýna",
    "Merdan",
    "Jeren",
    "Gülşat",
    "Batyr",
    "Ogulgerek",
    "Мердан",
    "Ирина",
    "Şöhrat",
    "Maýsa",
    "Döwlet",
    "Nurjahan",
)
LAST_NAMES = (
    "Orazowa",
    "Atayev",
    "Ataýewa",
    "Hojamuradowa",
    "Gurbanow",
    "Nurmuradowa",
    "Атаев",
    "Петрова",
    "Ýagmyrow",
    "Çaryýewa",
    "Annaýew",
    "Berdiýewa",
)


class BenchConfig(Config):
    TESTING = True
    RATELIMIT_ENABLED = False


def _seed(size: int, tag: str) -> Event:
    """An event with ``size`` registrations over six sites, 70% checked in, some online."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    sites = [Site(slug=f"{slug}-{tag}", name=f"{slug.title()} centre {tag}") for slug in SITES]
    event = Event(
        slug=f"bench-{tag}",
        title="The Constitution of Turkmenistan: human rights (benchmark)",
        starts_at=start,
        ends_at=start + timedelta(hours=4),
        meeting_url="https://meet.example.org",
    )
    event.event_sites = [
        EventSite(site=site, capacity=size, position=i) for i, site in enumerate(sites)
    ]
    db.session.add(event)
    db.session.commit()
    kinds, genders = list(OrgKind), [*Gender, None]
    rows = []
    for i in range(size):
        online = i % 10 == 0
        name = f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {LAST_NAMES[(i // 7) % len(LAST_NAMES)]} {i}"
        rows.append(
            {
                "event_id": event.id,
                "name": name,
                "email": f"p{i}.{tag}@example.org",
                "phone": f"+993 65 {i:06d}",
                "organization": f"Organisation {i % 97}",
                "position": "Specialist",
                "org_kind": kinds[i % len(kinds)],
                "gender": genders[i % len(genders)],
                "mode": Mode.ONLINE if online else Mode.IN_PERSON,
                "site_id": None if online else sites[i % len(sites)].id,
                "status": RegistrationStatus.CONFIRMED,
                "search_text": name.lower(),
                "manage_token": secrets.token_urlsafe(32),
                "badge_code": secrets.token_hex(20),
            }
        )
    db.session.execute(sa.insert(Registration), rows)
    registrations = db.session.execute(
        sa.select(Registration.id, Registration.site_id).where(Registration.event_id == event.id)
    ).all()
    checkins = []
    for n, (rid, site_id) in enumerate(registrations):
        if n % 10 >= 7:
            continue
        checkins.append(
            {
                "client_id": str(uuid.uuid4()),
                "event_id": event.id,
                "registration_id": rid,
                "site_id": site_id,
                "method": CheckInMethod.QR if site_id else CheckInMethod.ONLINE_JOIN,
                "result": CheckInResult.ADMITTED,
                "scanned_at": start + timedelta(seconds=n % 7200),
                "received_at": start,
            }
        )
    db.session.execute(sa.insert(CheckIn), checkins)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # A live database has planner statistics; freshly bulk-loaded tables do not yet.
        with db.engine.connect() as connection:
            connection.execute(sa.text("ANALYZE registrations, checkins, sites, event_sites"))
            connection.commit()
    return event


def _exports(event: Event) -> dict[str, Callable[[], int]]:
    def csv_size() -> int:
        return sum(len(chunk) for chunk in attendance_csv(attendance_rows(event), event.zone))

    def xlsx_size() -> int:
        return len(attendance_xlsx(attendance_rows(event), site_attendance(event), event.zone))

    def pdf_size() -> int:
        return len(
            signin_sheet_pdf(event.title, "14 March 2025", signin_sections(event), event.zone)
        )

    return {
        "attendance.csv": csv_size,
        "attendance.xlsx": xlsx_size,
        "attendance.pdf (all sites)": pdf_size,
    }


def _measure(run: Callable[[], int]) -> tuple[float, float, int]:
    db.session.expire_all()
    gc.collect()
    began = time.perf_counter()
    size = run()
    seconds = time.perf_counter() - began
    db.session.expire_all()
    gc.collect()
    tracemalloc.start()
    run()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 1024 / 1024, size


def _remove(event: Event) -> None:
    site_ids = [es.site_id for es in event.event_sites]
    db.session.execute(sa.delete(CheckIn).where(CheckIn.event_id == event.id))
    db.session.execute(sa.delete(Registration).where(Registration.event_id == event.id))
    db.session.execute(sa.delete(EventSite).where(EventSite.event_id == event.id))
    db.session.execute(sa.delete(Event).where(Event.id == event.id))
    db.session.execute(sa.delete(Site).where(Site.id.in_(site_ids)))
    db.session.commit()


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="hybriddesk-bench-") as folder:
        BenchConfig.SQLALCHEMY_DATABASE_URI = (
            _database_url(url) if url else f"sqlite:///{folder}/bench.sqlite"
        )
        app = create_app(BenchConfig)
        with app.test_request_context():
            db.create_all()
            backend = db.engine.dialect.name
            print(f"database: {backend}; {len(SITES)} sites; 70% checked in, 10% online")
            print(f"{'export':<28}{'people':>8}{'seconds':>10}{'peak MiB':>10}{'size KiB':>10}")
            for size in (1_000, 10_000):
                event = _seed(size, secrets.token_hex(3))
                try:
                    for name, run in _exports(event).items():
                        seconds, peak, length = _measure(run)
                        print(
                            f"{name:<28}{size:>8}{seconds:>10.2f}{peak:>10.1f}"
                            f"{length / 1024:>10.0f}",
                            flush=True,
                        )
                finally:
                    _remove(event)
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
