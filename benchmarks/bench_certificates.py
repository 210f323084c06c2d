"""How long issuing 1,000 certificates takes (emails queued), and drawing their 1,000-page sheet.

Runs on a throw-away SQLite file, or on PostgreSQL when BENCH_DATABASE_URL is
set (the benchmark adds its own event and sites, and removes them afterwards).
Everyone is checked in once, at one of six sites or online, in three languages,
and the event has a signature image, as a real one would.

    python -m benchmarks certificates
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta
from io import BytesIO

import sqlalchemy as sa
from PIL import Image, ImageDraw
from pypdf import PdfReader

from app.attendance.completion import completions
from app.certificates.content import sheet_data
from app.certificates.pdf import render_certificates
from app.certificates.services import certificates_of, issue_certificates
from app.extensions import db
from app.models import CheckIn, Event, OrgKind, OutboxMessage
from benchmarks import seeding

COUNT = 1000
FIRST_NAMES = ("Ňurgeldi", "Aýna", "Гульнара", "Merdan", "Jeren", "Döwlet", "Çary", "Ýazgül")
LAST_NAMES = ("Şükürow", "Orazowa", "Аманова", "Gurbanow", "Öwezowa", "Annaýew", "Nurmyradow")
LANGUAGES = ("tk", "ru", "en")


def _signature() -> bytes:
    image = Image.new("RGBA", (600, 200), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(20, 160), (240, 40), (580, 140)], fill=(20, 20, 90, 255), width=6)
    buffer = BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _seed(tag: str) -> Event:
    """An event that ended yesterday, with COUNT people who each attended once."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    event = seeding.add_event(
        tag,
        COUNT,
        title="The Constitution of Turkmenistan: the guarantee of human rights and freedoms",
        starts_at=start,
        ends_at=start + timedelta(hours=4),
        organizer_name="UNDP Turkmenistan",
        certificate_signer="Merdan Orazow, Director",
        certificate_signature=_signature(),
        certificate_signature_type="image/png",
    )

    def person(i: int) -> dict:
        name = f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {LAST_NAMES[(i // 8) % len(LAST_NAMES)]} {i}"
        return {
            "name": name,
            "org_kind": OrgKind.STATE,
            "gender": None,
            "language": LANGUAGES[i % len(LANGUAGES)],
        }

    people = seeding.add_registrations(event, COUNT, tag, person)
    checkins = [
        seeding.checkin_row(
            event, rid, site_id, start + timedelta(seconds=n % 3600), received_at=start
        )
        for n, (rid, site_id) in enumerate(people)
    ]
    db.session.execute(sa.insert(CheckIn), checkins)
    db.session.commit()
    return event


def _timed(run):
    began = time.perf_counter()
    result = run()
    return result, time.perf_counter() - began


def main() -> None:
    with seeding.bench_app() as backend:
        with seeding.removed_afterwards(_seed(secrets.token_hex(3))) as event:
            print(f"database: {backend}; {COUNT} people, 3 languages")

            def issue() -> int:
                issued = issue_certificates(event, None)
                db.session.commit()
                return len(issued)

            issued, seconds = _timed(issue)
            emails = db.session.scalar(
                sa.select(sa.func.count(OutboxMessage.id)).where(
                    OutboxMessage.kind == "certificate"
                )
            )
            print(f"issue {issued} certificates, {emails} emails queued: {seconds:.2f} s")
            _none, seconds = _timed(lambda: issue_certificates(event, None))
            print(f"issue again (nothing new):              {seconds:.2f} s")

            def sheet() -> bytes:
                pages = sheet_data(certificates_of(event, valid_only=True), completions(event))
                return render_certificates(pages, title="Certificates")

            data, seconds = _timed(sheet)
            pages = len(PdfReader(BytesIO(data)).pages)
            print(f"sheet of {pages} pages, {len(data) / 1e6:.1f} MB:         {seconds:.2f} s")


if __name__ == "__main__":
    main()
