"""Writing out a campaign, the worker's part: each recipient's email, a batch at a time.

A batch is claimed by one conditional UPDATE of the campaign's cursor (the
highest registration id written so far), in the same transaction as the
batch's outbox rows. Of two workers holding the same cursor only one UPDATE
matches, so nobody gets a campaign twice; a worker that dies in the middle of
a batch leaves nothing committed, and the next call writes that batch again.
On PostgreSQL the campaign row is also locked with SKIP LOCKED, so a second
worker goes on to other work instead of waiting for the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale

from app.attendance.services import join_refusal
from app.extensions import db
from app.mail.messages import personal_url
from app.mail.outbox import build_message, enqueue
from app.messages.audience import Audience, audience_query
from app.messages.campaigns import (
    MessageText,
    campaign_texts,
    message_language,
    text_to_html,
)
from app.models import (
    Campaign,
    MessageKind,
    Mode,
    Registration,
    RegistrationStatus,
    utcnow,
)


def _join_url(registration: Registration, now: datetime) -> str | None:
    """The personal join link, for confirmed online people while the event is to come."""
    if (
        registration.mode != Mode.ONLINE
        or registration.status != RegistrationStatus.CONFIRMED
        or registration.event.ends_at <= now
        or join_refusal(registration) is not None
    ):
        return None
    return personal_url(registration, "attendance.join")


def render_campaign_message(
    campaign: Campaign,
    registration: Registration,
    texts: Mapping[str, MessageText] | None = None,
    *,
    now: datetime | None = None,
) -> EmailMessage:
    """One person's email of a campaign, in their language, with their own links."""
    texts = texts if texts is not None else campaign_texts(campaign)
    language = message_language(registration.language, texts)
    text = texts[language]
    with force_locale(language):
        context = {
            "event": campaign.event,
            "registration": registration,
            "language": language,
            "body": text.body,
            "body_html": text_to_html(text.body),
            "personal_url": personal_url(registration),
            "join_url": _join_url(registration, now or utcnow()),
        }
        return build_message(
            recipient=registration.email,
            subject=text.subject,
            text=render_template("emails/campaign.txt", **context),
            html=render_template("emails/campaign.html", **context),
        )


def _locks_rows() -> bool:
    """Whether the database can lock a row and let others skip it (PostgreSQL)."""
    return db.engine.dialect.name == "postgresql"


def _next_due_campaign(now: datetime, passed_over: set[int]) -> Campaign | None:
    query = (
        sa.select(Campaign)
        .where(Campaign.finished_at.is_(None), Campaign.send_at <= now)
        .order_by(Campaign.send_at, Campaign.id)
        .limit(1)
        .execution_options(populate_existing=True)
    )
    if passed_over:
        query = query.where(Campaign.id.not_in(passed_over))
    if _locks_rows():
        # Another worker busy with a campaign keeps it; this one takes the next.
        query = query.with_for_update(skip_locked=True)
    return db.session.scalar(query)


def _claim_batch(campaign: Campaign, cursor: int, finished: bool) -> bool:
    """Move the campaign's cursor on; True only if no other worker moved it first."""
    result = db.session.execute(
        sa.update(Campaign)
        .where(
            Campaign.id == campaign.id,
            Campaign.last_registration_id == campaign.last_registration_id,
            Campaign.finished_at.is_(None),
        )
        .values(last_registration_id=cursor, finished_at=utcnow() if finished else None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _expand_batch(campaign: Campaign, now: datetime, batch: int) -> int:
    """Write the campaign's next batch of outbox rows; how many, 0 if another worker had it."""
    recipients = list(
        db.session.scalars(
            audience_query(campaign.event_id, Audience.from_json(campaign.audience))
            .where(Registration.id > campaign.last_registration_id)
            .limit(batch)
        )
    )
    cursor = recipients[-1].id if recipients else campaign.last_registration_id
    if not _claim_batch(campaign, cursor, finished=len(recipients) < batch):
        return 0
    texts = campaign_texts(campaign)
    for registration in recipients:
        message = render_campaign_message(campaign, registration, texts, now=now)
        enqueue(
            message, kind=MessageKind.CAMPAIGN, registration=registration, campaign_id=campaign.id
        )
    return len(recipients)


def expand_campaigns(now: datetime | None = None, batch: int = 200) -> int:
    """Turn every due campaign into outbox rows, a committed batch at a time; how many.

    For the mail worker, which calls it over and over; safe with several
    workers at once and after a crash (see the module's docstring). A campaign
    whose batch fails is logged and left for the next call, so it does not hold
    back the others.
    """
    now = now or utcnow()
    batch = max(batch, 1)
    written = 0
    passed_over: set[int] = set()
    while True:
        campaign = _next_due_campaign(now, passed_over)
        if campaign is None:
            db.session.commit()
            return written
        campaign_id = campaign.id
        try:
            written += _expand_batch(campaign, now, batch)
            db.session.commit()
        except Exception:  # noqa: BLE001  left as it was, so the next call tries again
            db.session.rollback()
            passed_over.add(campaign_id)
            current_app.logger.exception("campaign %s: a batch was not written", campaign_id)
