"""The throw-away app and the seeded event the database benchmarks measure against.

The app runs on a temporary SQLite file, or on PostgreSQL when BENCH_DATABASE_URL
is set; there the benchmark's event, sites and people are removed afterwards.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

import sqlalchemy as sa

from app import create_app
from app.extensions import db
from app.models import (
    Certificate,
    CheckIn,
    CheckInMethod,
    CheckInResult,
    Event,
    EventSite,
    Gender,
    Mode,
    OrgKind,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    Site,
)
from config import Config, _database_url

SITES = ("ashgabat", "ahal", "balkan", "dashoguz", "lebap", "mary")
TITLE = "The Constitution of Turkmenistan: human rights (benchmark)"


class BenchConfig(Config):
    TESTING = True
    RATELIMIT_ENABLED = False


@contextmanager
def bench_app(**settings: object) -> Iterator[str]:
    """Run the block in a request context of a fresh app; yields the database's backend name.

    ``settings`` override BenchConfig's, such as the mail host.
    """
    url = os.environ.get("BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="hybriddesk-bench-") as folder:
        config = BenchConfig()
        config.SQLALCHEMY_DATABASE_URI = (
            _database_url(url) if url else f"sqlite:///{folder}/bench.sqlite"
        )
        for name, value in settings.items():
            setattr(config, name, value)
        app = create_app(config)
        with app.test_request_context():
            db.create_all()
            try:
                yield db.engine.dialect.name
            finally:
                db.session.remove()
                db.engine.dispose()


def add_event(tag: str, capacity: int, *, slug: str = "", title: str = TITLE, **fields) -> Event:
    """An event at the six SITES, each taking ``capacity`` people; ``fields`` go to Event."""
    sites = [Site(slug=f"{site}-{tag}", name=f"{site.title()} centre {tag}") for site in SITES]
    event = Event(slug=slug or f"bench-{tag}", title=title, **fields)
    event.event_sites = [
        EventSite(site=site, capacity=capacity, position=i) for i, site in enumerate(sites)
    ]
    db.session.add(event)
    db.session.commit()
    return event


def add_registrations(
    event: Event, size: int, tag: str, person: Callable[[int], dict] | None = None
) -> list[sa.Row]:
    """Insert ``size`` confirmed people, every tenth online; returns their (id, site_id).

    ``person(i)`` gives the columns in which the i-th row differs from the defaults.
    The caller commits.
    """
    kinds, genders = list(OrgKind), [*Gender, None]
    site_ids = [event_site.site_id for event_site in event.event_sites]
    rows = []
    for i in range(size):
        online = i % 10 == 0
        row = {
            "event_id": event.id,
            "name": f"Participant {i}",
            "email": f"p{i}.{tag}@example.org",
            "organization": f"Organisation {i % 97}",
            "org_kind": kinds[i % len(kinds)],
            "gender": genders[i % len(genders)],
            "mode": Mode.ONLINE if online else Mode.IN_PERSON,
            "site_id": None if online else site_ids[i % len(site_ids)],
            "status": RegistrationStatus.CONFIRMED,
            "manage_token": secrets.token_urlsafe(32),
            "badge_code": secrets.token_hex(20),
        }
        if person:
            row.update(person(i))
        row.setdefault("search_text", row["name"].lower())
        rows.append(row)
    db.session.execute(sa.insert(Registration), rows)
    return db.session.execute(
        sa.select(Registration.id, Registration.site_id).where(Registration.event_id == event.id)
    ).all()


def checkin_row(
    event: Event, registration_id: int, site_id: int | None, scanned_at: datetime, **fields
) -> dict:
    """A row for ``sa.insert(CheckIn)``: admitted by QR at the site, or online without one."""
    return {
        "client_id": str(uuid.uuid4()),
        "event_id": event.id,
        "registration_id": registration_id,
        "site_id": site_id,
        "method": CheckInMethod.QR if site_id else CheckInMethod.ONLINE_JOIN,
        "result": CheckInResult.ADMITTED,
        "scanned_at": scanned_at,
        "day": event.local_day(scanned_at),
        "received_at": scanned_at,
        **fields,
    }


def analyze() -> None:
    """Gather PostgreSQL's planner statistics, which a live database has and a fresh load not."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            connection.execute(sa.text("ANALYZE registrations, checkins, sites, event_sites"))
            connection.commit()


@contextmanager
def removed_afterwards(event: Event) -> Iterator[Event]:
    """Yield the event, and remove it when the block ends, however it ends."""
    try:
        yield event
    finally:
        db.session.rollback()
        remove_event(event)


def remove_event(event: Event) -> None:
    """Delete the event with its sites, people, check-ins, certificates and emails."""
    site_ids = [event_site.site_id for event_site in event.event_sites]
    registrations = sa.select(Registration.id).where(Registration.event_id == event.id)
    db.session.execute(
        sa.delete(OutboxMessage).where(OutboxMessage.registration_id.in_(registrations))
    )
    db.session.execute(sa.delete(Certificate).where(Certificate.event_id == event.id))
    db.session.execute(sa.delete(CheckIn).where(CheckIn.event_id == event.id))
    db.session.execute(sa.delete(Registration).where(Registration.event_id == event.id))
    db.session.execute(sa.delete(EventSite).where(EventSite.event_id == event.id))
    db.session.execute(sa.delete(Event).where(Event.id == event.id))
    db.session.execute(sa.delete(Site).where(Site.id.in_(site_ids)))
    db.session.commit()
