"""Campaigns: an organiser's message to a filtered group of an event's participants.

Composing writes one row, whatever the size of the group: the texts in each
language written, the filters, and how many people they matched. No request
sends anything. The mail worker calls ``expand_campaigns`` over and over; for
each campaign whose time has come it evaluates the filters again and writes
one outbox row per person, in that person's language, a batch at a time.

The worker's part is in ``app/messages/sending.py``; what the organiser sees
of each campaign afterwards in ``app/messages/summaries.py``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from markupsafe import Markup

from app import labels
from app.database import flush_unless_duplicate
from app.extensions import db
from app.guards import CONTROL_CHARACTERS, has_control_character
from app.messages.audience import Audience, language_counts
from app.models import (
    Campaign,
    Event,
    Mode,
    StaffUser,
    utcnow,
)
from app.refusals import Reason, Refusal
from app.timezones import local_to_utc

#: The languages a message may be written in; "the first one written" follows this order.
LANGUAGES: tuple[str, ...] = tuple(labels.LANGUAGE_NAMES)
#: What a person gets when their own language was not written, if it was.
FALLBACK_LANGUAGE = "en"
SUBJECT_MAX_LENGTH = 200
BODY_MAX_LENGTH = 20000
#: What ``new_idempotency_key`` makes, with room for other URL-safe keys.
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
#: A tag, a comment or an entity: a subject is plain text and shown as typed.
_MARKUP = re.compile(r"<[A-Za-z/!?]|&(?:#\d+|#x[0-9A-Fa-f]+|[A-Za-z]+);")


def new_idempotency_key() -> str:
    """A random key for a compose form, so that sending it twice sends once."""
    return secrets.token_urlsafe(24)


# --- composing ----------------------------------------------------------------------


@dataclass(frozen=True)
class MessageText:
    subject: str = ""
    body: str = ""


@dataclass
class CampaignInput:
    #: Subject and body per language; a language left empty is not written.
    texts: Mapping[str, MessageText]
    audience: Audience
    #: Wall-clock time in the event's zone; None sends the message now.
    send_at_local: datetime | None = None


@dataclass(frozen=True)
class LanguagePreview:
    language: str
    #: How many people get the message in this language.
    recipients: int
    subject: str
    body_html: Markup


@dataclass(frozen=True)
class CampaignPreview:
    recipients: int
    send_at: datetime
    #: True when the message goes out as soon as it is sent.
    immediately: bool
    languages: list[LanguagePreview]


@dataclass
class CampaignOutcome:
    campaign: Campaign
    #: False when this form had been sent already: the existing campaign is returned.
    created: bool


def message_language(preferred: str | None, written: Iterable[str]) -> str:
    """The language a person gets: their own, else English, else the first one written."""
    written = [language for language in LANGUAGES if language in set(written)]
    if preferred in written:
        return preferred
    if FALLBACK_LANGUAGE in written:
        return FALLBACK_LANGUAGE
    return written[0]


def text_to_html(body: str) -> Markup:
    """Plain text as escaped HTML: a paragraph per blank line, a line break per newline."""
    paragraphs: list[list[str]] = [[]]
    for line in body.split("\n"):
        if line.strip():
            paragraphs[-1].append(line.rstrip())
        elif paragraphs[-1]:
            paragraphs.append([])
    return Markup("\n").join(
        Markup("<p>{}</p>").format(Markup("<br>\n").join(lines)) for lines in paragraphs if lines
    )


def _cleaned(text: MessageText) -> MessageText:
    body = CONTROL_CHARACTERS.sub("", text.body.replace("\r\n", "\n").replace("\r", "\n"))
    # Only the ends of the subject are trimmed: a newline inside it is refused below.
    return MessageText(subject=text.subject.strip(" \t"), body=body.strip())


def _checked_texts(
    texts: Mapping[str, MessageText], errors: dict[str | None, str]
) -> dict[str, MessageText]:
    """The languages written, cleaned; what is wrong goes into ``errors`` by field."""
    written = {}
    for language in LANGUAGES:
        text = _cleaned(texts.get(language, MessageText()))
        if not text.subject.strip() and not text.body:
            continue
        name = labels.LANGUAGE_NAMES[language]
        subject_field, body_field = f"subject_{language}", f"body_{language}"
        if not text.subject.strip():
            errors[subject_field] = _(
                "Write a subject in %(language)s too, or leave this language empty.",
                language=name,
            )
        elif "\n" in text.subject or "\r" in text.subject or has_control_character(text.subject):
            errors[subject_field] = _("The subject must fit on one line.")
        elif _MARKUP.search(text.subject):
            errors[subject_field] = _(
                "The subject is plain text: remove the HTML tags and codes (< >, &…;)."
            )
        elif len(text.subject) > SUBJECT_MAX_LENGTH:
            errors[subject_field] = _(
                "Keep the subject to %(num)d characters.", num=SUBJECT_MAX_LENGTH
            )
        if not text.body:
            errors[body_field] = _(
                "Write the message in %(language)s too, or leave this language empty.",
                language=name,
            )
        elif len(text.body) > BODY_MAX_LENGTH:
            errors[body_field] = _("Keep the message to %(num)d characters.", num=BODY_MAX_LENGTH)
        written[language] = MessageText(subject=text.subject.strip(), body=text.body)
    if not written:
        errors[f"subject_{LANGUAGES[0]}"] = _(
            "Write a subject and a message in at least one language."
        )
    return written


def _check_audience(event: Event, audience: Audience, errors: dict[str | None, str]) -> None:
    known = {es.site.slug for es in event.event_sites}
    unknown = [slug for slug in audience.sites if slug not in known]
    if unknown:
        errors["sites"] = _(
            "These sites do not take part in this event: %(sites)s.", sites=", ".join(unknown)
        )
    elif audience.sites and audience.mode == Mode.ONLINE:
        errors["sites"] = _(
            "People who take part online have no site: choose no site, or “In person”."
        )
    if not audience.statuses:
        errors["statuses"] = _("Choose at least one status.")
    if audience.language and audience.language not in LANGUAGES:
        errors["language"] = _("Choose a language from the list.")


def _send_time(
    event: Event, local: datetime | None, now: datetime, errors: dict[str | None, str]
) -> datetime:
    if local is None:
        return now
    try:
        moment = local_to_utc(local, event.zone)
    except ValueError:
        errors["send_at"] = _(
            "This time does not exist in %(zone)s (the clocks change). Choose another.",
            zone=event.timezone,
        )
        return now
    # Forms carry minutes: the current minute still counts as now.
    if moment < now.replace(second=0, microsecond=0):
        errors["send_at"] = _(
            "This time has passed. Choose a later one, or leave it empty to send now."
        )
    return moment


@dataclass(frozen=True)
class _Checked:
    texts: dict[str, MessageText]
    audience: Audience
    send_at: datetime
    immediately: bool
    #: Matching people per preferred language.
    counts: dict[str, int]

    @property
    def recipients(self) -> int:
        return sum(self.counts.values())


def _checked(event: Event, data: CampaignInput, now: datetime) -> _Checked:
    """Everything that is wrong with a message at once, or the message ready to store."""
    errors: dict[str | None, str] = {}
    texts = _checked_texts(data.texts, errors)
    _check_audience(event, data.audience, errors)
    send_at = _send_time(event, data.send_at_local, now, errors)
    if errors:
        raise Refusal.of_fields(errors)
    counts = language_counts(event.id, data.audience)
    if not sum(counts.values()):
        raise Refusal(
            Reason.INVALID,
            _("Nobody matches these filters, so the message would reach no one. Widen them."),
            "audience",
        )
    return _Checked(texts, data.audience, send_at, data.send_at_local is None, counts)


def preview_campaign(
    event: Event, data: CampaignInput, *, now: datetime | None = None
) -> CampaignPreview:
    """How many people a message would reach, and how it reads in each of their languages."""
    checked = _checked(event, data, now or utcnow())
    per_language: dict[str, int] = {}
    for preferred, number in checked.counts.items():
        language = message_language(preferred, checked.texts)
        per_language[language] = per_language.get(language, 0) + number
    return CampaignPreview(
        recipients=checked.recipients,
        send_at=checked.send_at,
        immediately=checked.immediately,
        languages=[
            LanguagePreview(
                language=language,
                recipients=per_language[language],
                subject=checked.texts[language].subject,
                body_html=text_to_html(checked.texts[language].body),
            )
            for language in LANGUAGES
            if language in per_language
        ],
    )


def find_campaign(idempotency_key: str) -> Campaign | None:
    return db.session.scalar(sa.select(Campaign).where(Campaign.idempotency_key == idempotency_key))


def create_campaign(
    event: Event,
    idempotency_key: str,
    data: CampaignInput,
    created_by: StaffUser | None = None,
    *,
    now: datetime | None = None,
) -> CampaignOutcome:
    """Store a message for the worker to send; nothing is sent here.

    A second call with the same key (a double click, a reload) returns the
    campaign of the first and writes nothing, even when both race.
    """
    if not IDEMPOTENCY_KEY.match(idempotency_key or ""):
        raise Refusal(
            Reason.INVALID,
            _("This form is out of date. Check the message and send it again."),
            "idempotency_key",
        )
    existing = find_campaign(idempotency_key)
    if existing is not None:
        return CampaignOutcome(existing, created=False)
    checked = _checked(event, data, now or utcnow())
    campaign = Campaign(
        event_id=event.id,
        idempotency_key=idempotency_key,
        texts={
            language: {"subject": text.subject, "body": text.body}
            for language, text in checked.texts.items()
        },
        audience=checked.audience.to_json(),
        recipient_count=checked.recipients,
        send_at=checked.send_at,
        created_by_id=created_by.id if created_by is not None else None,
    )
    if not flush_unless_duplicate(campaign):
        # The same form, sent a moment ago by another request, won the race.
        return CampaignOutcome(find_campaign(idempotency_key), created=False)
    return CampaignOutcome(campaign, created=True)


def campaign_texts(campaign: Campaign) -> dict[str, MessageText]:
    """A campaign's stored texts, in the order of LANGUAGES."""
    stored = campaign.texts or {}
    return {
        language: MessageText(
            subject=stored[language].get("subject", ""), body=stored[language].get("body", "")
        )
        for language in LANGUAGES
        if language in stored
    }
