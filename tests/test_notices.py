"""A change that concerns many people: one notice in the request, their emails by the worker."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.events.services import apply_event_changes
from app.extensions import db
from app.mail.notices import expand_notices
from app.models import Event, MessageKind, Notice, OutboxMessage, RegistrationStatus
from app.sites.services import SiteInput, update_site
from tests.conftest import at_once, make_event, make_registration, requires_postgres

PEOPLE = 60


def counts() -> tuple[int, int]:
    """(notices waiting, emails in the outbox)."""
    waiting = db.session.scalar(
        sa.select(sa.func.count()).select_from(Notice).where(Notice.done_at.is_(None))
    )
    emails = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    return waiting, emails


def crowd(event: Event) -> None:
    for index in range(PEOPLE):
        make_registration(event, name=f"Person {index}", email=f"p{index}@example.org")


def test_a_new_time_writes_one_notice_and_the_worker_writes_everyone_s_invite(app):
    event = make_event(sites={"ahal": 100})
    crowd(event)
    make_registration(
        event, name="Gone", email="gone@example.org", status=RegistrationStatus.CANCELLED
    )

    assert apply_event_changes(event, {"starts_at": event.starts_at + timedelta(hours=1)})
    db.session.commit()
    assert counts() == (1, 0)

    assert expand_notices() == PEOPLE
    assert counts() == (0, PEOPLE)
    kinds = set(db.session.scalars(sa.select(OutboxMessage.kind)))
    assert kinds == {MessageKind.UPDATED}
    assert expand_notices() == 0 and counts() == (0, PEOPLE)


def test_a_site_s_new_address_writes_a_notice_for_its_people_only(app):
    event = make_event(sites={"ahal": 100, "mary": 100})
    there = make_registration(event, site="ahal", email="there@example.org")
    make_registration(event, site="mary", email="elsewhere@example.org")
    sequence = there.ical_sequence
    site = there.site

    update_site(site, SiteInput(name=site.name, region=site.region, address="Anau, 12 Magtymguly"))
    db.session.commit()
    assert counts() == (1, 0)
    db.session.refresh(there)
    assert there.ical_sequence == sequence + 1

    assert expand_notices() == 1
    assert db.session.scalars(sa.select(OutboxMessage.recipient)).all() == [there.email]


@requires_postgres
def test_two_workers_expand_one_notice_once(app):
    event = make_event(sites={"ahal": 100})
    crowd(event)
    apply_event_changes(event, {"starts_at": event.starts_at + timedelta(hours=2)})
    db.session.commit()
    db.session.remove()

    written = at_once(app, expand_notices)
    assert sorted(written) == [0, PEOPLE]
    recipients = db.session.scalars(sa.select(OutboxMessage.recipient)).all()
    assert len(recipients) == len(set(recipients)) == PEOPLE
