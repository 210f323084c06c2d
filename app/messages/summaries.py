"""What the organiser sees of their campaigns: state and counts (queued, sent, failed)."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.mail.delivery import gave_up
from app.messages.audience import Audience, describe_audience
from app.messages.campaigns import (
    MessageText,
    campaign_texts,
)
from app.models import (
    Campaign,
    Event,
    OutboxMessage,
    utcnow,
)


class CampaignState(enum.StrEnum):
    #: Its time has not come.
    SCHEDULED = "scheduled"
    #: Due; the worker is writing its messages, or is about to.
    PREPARING = "preparing"
    #: Every message is written; some still wait in the outbox.
    SENDING = "sending"
    #: Nothing is waiting any more (some may have failed).
    SENT = "sent"


CAMPAIGN_STATE = {
    CampaignState.SCHEDULED: _l("Scheduled"),
    CampaignState.PREPARING: _l("Preparing"),
    CampaignState.SENDING: _l("Sending"),
    CampaignState.SENT: _l("Sent"),
}


@dataclass(frozen=True)
class CampaignCounts:
    #: In the outbox, not sent yet (some may be retrying).
    queued: int = 0
    sent: int = 0
    #: Gave up on after OUTBOX_MAX_ATTEMPTS attempts.
    failed: int = 0

    @property
    def written(self) -> int:
        return self.queued + self.sent + self.failed


def campaign_counts(campaign_ids: Iterable[int]) -> dict[int, CampaignCounts]:
    """Queued, sent and failed messages per campaign, in one aggregate query."""
    campaign_ids = list(campaign_ids)
    if not campaign_ids:
        return {}
    rows = db.session.execute(
        sa.select(
            OutboxMessage.campaign_id,
            sa.func.count(OutboxMessage.id),
            sa.func.count(OutboxMessage.sent_at),
            sa.func.coalesce(sa.func.sum(sa.case((gave_up(), 1), else_=0)), 0),
        )
        .where(OutboxMessage.campaign_id.in_(campaign_ids))
        .group_by(OutboxMessage.campaign_id)
    )
    return {
        campaign_id: CampaignCounts(queued=total - sent - failed, sent=sent, failed=failed)
        for campaign_id, total, sent, failed in rows
    }


def campaign_state(campaign: Campaign, counts: CampaignCounts, now: datetime) -> CampaignState:
    if campaign.finished_at is None:
        return CampaignState.SCHEDULED if campaign.send_at > now else CampaignState.PREPARING
    return CampaignState.SENDING if counts.queued else CampaignState.SENT


@dataclass(frozen=True)
class CampaignSummary:
    campaign: Campaign
    #: The filters in words.
    audience: str
    counts: CampaignCounts
    state: CampaignState

    @property
    def texts(self) -> dict[str, MessageText]:
        return campaign_texts(self.campaign)

    @property
    def subject(self) -> str:
        return next(iter(self.texts.values()), MessageText()).subject

    @property
    def state_label(self) -> str:
        return str(CAMPAIGN_STATE[self.state])

    @property
    def recipients(self) -> int:
        """The people it reaches: as matched when composed, until the worker has written it."""
        if self.campaign.finished_at is None:
            return self.campaign.recipient_count
        return self.counts.written

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.campaign.id,
            "state": self.state.value,
            "state_label": self.state_label,
            "recipients": self.recipients,
            "queued": self.counts.queued,
            "sent": self.counts.sent,
            "failed": self.counts.failed,
        }


def campaign_summaries(event: Event, now: datetime | None = None) -> list[CampaignSummary]:
    """An event's campaigns, newest first, with their counts: two queries in all."""
    now = now or utcnow()
    campaigns = list(
        db.session.scalars(
            sa.select(Campaign)
            .where(Campaign.event_id == event.id)
            .options(joinedload(Campaign.created_by))
            .order_by(Campaign.created_at.desc(), Campaign.id.desc())
        )
    )
    counts = campaign_counts(c.id for c in campaigns)
    summaries = []
    for campaign in campaigns:
        campaign_count = counts.get(campaign.id, CampaignCounts())
        summaries.append(
            CampaignSummary(
                campaign=campaign,
                audience=describe_audience(event, Audience.from_json(campaign.audience)),
                counts=campaign_count,
                state=campaign_state(campaign, campaign_count, now),
            )
        )
    return summaries
