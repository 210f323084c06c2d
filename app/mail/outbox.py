"""The email outbox: composing messages and queueing them.

A message is written to ``outbox_messages`` in the same transaction as the
change that causes it, so a registration never fails because mail is down,
and no request ever waits for the mail host: the worker (``flask worker``,
see ``app/mail/delivery.py``) sends what is queued.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.header import Header
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid

from flask import current_app

from app.extensions import db
from app.models import OutboxMessage, Registration, utcnow

#: The reserved top-level domain (RFC 2606) that no mail can reach: anonymised addresses.
UNREACHABLE_DOMAIN = ".invalid"


class EncodedSubject(str):
    """A subject that folds as RFC 2047 encoded words split between characters.

    The standard library's folder drops the space between two encoded words
    ("Gender deňligi boýunça" arrived as "Gender deňligiboýunça"); here each
    space travels inside an encoded word, so every mail client reads it back.
    """

    name = "Subject"

    def fold(self, *, policy) -> str:
        encoded = Header(str(self), "utf-8", header_name=self.name).encode(linesep=policy.linesep)
        return f"{self.name}: {encoded}{policy.linesep}"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str
    subtype: str
    #: Set for inline images referenced from the HTML part as cid:<content_id>.
    content_id: str | None = None


@dataclass(frozen=True)
class CalendarPart:
    """An iCalendar body; ``method`` must equal the file's METHOD."""

    ics: bytes
    method: str


def _add_part(add: Callable[..., None], item: Attachment, **params: str) -> None:
    """Add ``item`` to a message through ``add`` (``add_related`` or ``add_attachment``)."""
    add(
        item.content, maintype=item.maintype, subtype=item.subtype, filename=item.filename, **params
    )


def build_message(
    *,
    recipient: str,
    subject: str,
    text: str,
    html: str | None = None,
    calendar: CalendarPart | None = None,
    attachments: Iterable[Attachment] = (),
) -> EmailMessage:
    """Compose the MIME message, in the shape Outlook and Gmail accept as an invite.

    ::

        multipart/mixed                      (only when there are files)
          multipart/alternative
            text/plain
            text/html, or multipart/related: text/html + its inline images
            text/calendar; charset=UTF-8; method=...   (last, base64)
          invite.ics (application/ics), other attachments

    The calendar part is passed on byte for byte, so its CRLF line ends and
    folding survive; its ``method`` parameter equals the METHOD inside.
    """
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = recipient
    message["Subject"] = subject if subject.isascii() else EncodedSubject(subject)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="hybriddesk.local")
    message.set_content(text, charset="utf-8")
    attachments = list(attachments)
    inline = [item for item in attachments if item.content_id and html is not None]
    files = [item for item in attachments if item not in inline]
    if html is not None:
        message.add_alternative(html, subtype="html", charset="utf-8")
        html_part = message.get_payload()[-1]
        for item in inline:
            _add_part(html_part.add_related, item, disposition="inline", cid=f"<{item.content_id}>")
    if calendar is not None:
        message.add_alternative(
            calendar.ics,
            maintype="text",
            subtype="calendar",
            cte="base64",
            params={"charset": "UTF-8", "method": calendar.method},
        )
        # A copy as a file, for mail programs that do not read the part above.
        files.insert(0, Attachment("invite.ics", calendar.ics, "application", "ics"))
    for item in files:
        _add_part(message.add_attachment, item)
    return message


def enqueue(
    message: EmailMessage,
    *,
    kind: str,
    registration: Registration | None = None,
    campaign_id: int | None = None,
) -> OutboxMessage | None:
    """Add a message to the outbox, inside the caller's transaction.

    Nothing is written for an address under the reserved ``.invalid`` domain,
    which no mail can reach: an anonymised person's.
    """
    recipient = str(message["To"])
    if recipient.rstrip(">").lower().endswith(UNREACHABLE_DOMAIN):
        return None
    row = OutboxMessage(
        recipient=recipient,
        subject=str(message["Subject"])[:300],
        kind=kind,
        registration=registration,
        campaign_id=campaign_id,
        raw_message=message.as_string(policy=SMTP),
        next_attempt_at=utcnow(),
    )
    db.session.add(row)
    return row
