"""Changes many participants must hear of: written as one notice, expanded by the worker.

A new time or place, a cancelled event, a site's new address: each concerns
everyone still registered, possibly thousands. The rules' signal writes a
single ``Notice`` row in the change's own transaction; the worker claims it
and writes each person's email (their updated invite, in their language) in
one transaction, so a crash leaves either all of them or none, and two
workers never expand one notice twice.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.mail.messages import notify_registration
from app.models import (
    Event,
    EventStatus,
    MessageKind,
    Mode,
    Notice,
    Registration,
    RegistrationStatus,
    Site,
    utcnow,
)
from app.signals import event_changed, site_changed


def _on_event_changed(event: Event, kind: MessageKind) -> None:
    db.session.add(Notice(event_id=event.id, kind=kind))


def _on_site_changed(site: Site) -> None:
    """Every published event still to come at this site tells its people there."""
    event_ids = db.session.scalars(
        sa.select(Registration.event_id)
        .join(Event, Event.id == Registration.event_id)
        .where(
            Registration.site_id == site.id,
            Registration.mode == Mode.IN_PERSON,
            Registration.status != RegistrationStatus.CANCELLED,
            Event.status == EventStatus.PUBLISHED,
            Event.ends_at > utcnow(),
        )
        .distinct()
    ).all()
    if not event_ids:
        return
    # Each person's SEQUENCE grows now, so their invite download already carries it.
    db.session.execute(
        sa.update(Registration)
        .where(
            Registration.event_id.in_(event_ids),
            Registration.site_id == site.id,
            Registration.mode == Mode.IN_PERSON,
            Registration.status != RegistrationStatus.CANCELLED,
        )
        .values(ical_sequence=Registration.ical_sequence + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.add_all(
        Notice(event_id=event_id, site_id=site.id, kind=MessageKind.UPDATED)
        for event_id in event_ids
    )


def subscribe() -> None:
    """Write a notice for each change the rules announce to many (once per process)."""
    event_changed.connect(_on_event_changed)
    site_changed.connect(_on_site_changed)


def _recipients(notice: Notice) -> list[Registration]:
    query = (
        sa.select(Registration)
        .options(joinedload(Registration.site), joinedload(Registration.event))
        .where(
            Registration.event_id == notice.event_id,
            Registration.status != RegistrationStatus.CANCELLED,
        )
        .order_by(Registration.id)
    )
    if notice.site_id is not None:
        query = query.where(
            Registration.site_id == notice.site_id, Registration.mode == Mode.IN_PERSON
        )
    return list(db.session.scalars(query))


def expand_notices(limit: int = 5) -> int:
    """Write the emails of up to ``limit`` waiting notices; returns how many emails."""
    written = 0
    for _ in range(limit):
        waiting = sa.select(Notice).where(Notice.done_at.is_(None)).order_by(Notice.id).limit(1)
        if db.engine.dialect.name == "postgresql":
            waiting = waiting.with_for_update(skip_locked=True)
        notice = db.session.scalar(waiting)
        if notice is None:
            break
        claimed = db.session.execute(
            sa.update(Notice)
            .where(Notice.id == notice.id, Notice.done_at.is_(None))
            .values(done_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed:
            recipients = _recipients(notice)
            for registration in recipients:
                notify_registration(registration, MessageKind(notice.kind))
            written += len(recipients)
        db.session.commit()
    return written
