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
import secrets
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.attendance.exports import attendance_csv, attendance_xlsx
from app.attendance.lists import attendance_rows, signin_sections
from app.attendance.services import site_attendance
from app.attendance.signin_sheet import signin_sheet_pdf
from app.extensions import db
from app.models import CheckIn, Event
from benchmarks import seeding

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


def _seed(size: int, tag: str) -> Event:
    """An event with ``size`` registrations over six sites, 70% checked in, some online."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    event = seeding.add_event(
        tag,
        size,
        starts_at=start,
        ends_at=start + timedelta(hours=4),
        meeting_url="https://meet.example.org",
    )

    def person(i: int) -> dict:
        name = f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {LAST_NAMES[(i // 7) % len(LAST_NAMES)]} {i}"
        return {"name": name, "phone": f"+993 65 {i:06d}", "position": "Specialist"}

    registrations = seeding.add_registrations(event, size, tag, person)
    checkins = [
        seeding.checkin_row(
            event, rid, site_id, start + timedelta(seconds=n % 7200), received_at=start
        )
        for n, (rid, site_id) in enumerate(registrations)
        if n % 10 < 7
    ]
    db.session.execute(sa.insert(CheckIn), checkins)
    db.session.commit()
    seeding.analyze()
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


def main() -> None:
    with seeding.bench_app() as backend:
        print(f"database: {backend}; {len(seeding.SITES)} sites; 70% checked in, 10% online")
        print(f"{'export':<28}{'people':>8}{'seconds':>10}{'peak MiB':>10}{'size KiB':>10}")
        for size in (1_000, 10_000):
            with seeding.removed_afterwards(_seed(size, secrets.token_hex(3))) as event:
                for name, run in _exports(event).items():
                    seconds, peak, length = _measure(run)
                    print(
                        f"{name:<28}{size:>8}{seconds:>10.2f}{peak:>10.1f}{length / 1024:>10.0f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
