"""``flask privacy anonymise``: the retention job by hand, for one event or all."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from app.extensions import db
from app.models import Event
from app.privacy.services import (
    anonymise_due_events,
    anonymise_event,
    events_due,
    has_ended,
    personal_data_left,
    retention_ends_at,
    retention_reason,
)
from app.refusals import Refusal

privacy_cli = AppGroup("privacy", help="Participants' personal data: retention and anonymising.")


def _anonymise(event: Event, why: str) -> int:
    try:
        count = anonymise_event(event, why=why)
    except Refusal as refusal:
        db.session.rollback()
        raise click.ClickException(f"{event.slug}: {refusal.message}") from None
    db.session.commit()
    click.echo(f"{event.slug}: {count} registration(s) anonymised")
    return count


@privacy_cli.command("anonymise")
@click.option("--event", "slug", help="Only this event (its slug).")
@click.option(
    "--now", "at_once", is_flag=True, help="Whatever the retention period, once the event ended."
)
def anonymise_command(slug: str | None, at_once: bool):
    """Anonymise the participants of the events past their retention period.

    With --now, of every event that has ended (or of the --event), whatever its retention.
    """
    if slug is None and not at_once:
        total = 0
        while done := anonymise_due_events():
            total += done
        click.echo(f"anonymised {total} registration(s)")
        return
    if slug is None:
        click.confirm("Anonymise every event that has ended, whatever its retention?", abort=True)
        ended = db.session.scalars(sa.select(Event).order_by(Event.ends_at)).all()
        events = [event for event in ended if has_ended(event) and personal_data_left(event)]
        total = sum(_anonymise(event, "by hand") for event in events)
        click.echo(f"anonymised {total} registration(s)")
        return
    event = db.session.scalar(sa.select(Event).where(Event.slug == slug))
    if event is None:
        raise click.BadParameter(f"no event {slug}", param_hint="--event")
    if at_once:
        _anonymise(event, "by hand")
    elif event in events_due():
        _anonymise(event, retention_reason(event))
    elif (until := retention_ends_at(event)) is not None:
        click.echo(f"{event.slug}: not due until {until:%Y-%m-%d %H:%M} UTC; --now does it at once")
    else:
        click.echo(f"{event.slug}: kept until anonymised by hand; --now does it")
