"""The email outbox.

A message is written to ``outbox_messages`` in the same transaction as the
change that causes it, so a registration never fails because mail is down.
Once that transaction commits, the request delivers its new messages; what
fails stays pending and ``flask outbox send`` retries it with back-off.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import OutboxMessage, Registration, utcnow


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
    message["Subject"] = subject
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
            html_part.add_related(
                item.content,
                maintype=item.maintype,
                subtype=item.subtype,
                filename=item.filename,
                disposition="inline",
                cid=f"<{item.content_id}>",
            )
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
        message.add_attachment(
            item.content,
            maintype=item.maintype,
            subtype=item.subtype,
            filename=item.filename,
        )
    return message


def enqueue(
    message: EmailMessage, *, kind: str, registration: Registration | None = None
) -> OutboxMessage:
    """Add a message to the outbox, inside the caller's transaction."""
    row = OutboxMessage(
        recipient=str(message["To"]),
        subject=str(message["Subject"])[:300],
        kind=kind,
        registration=registration,
        raw_message=message.as_string(policy=SMTP),
        next_attempt_at=utcnow(),
    )
    db.session.add(row)
    return row


def deliver(row: OutboxMessage) -> None:
    """Send one message now, by SMTP when configured, else as an .eml file."""
    config = current_app.config
    if config["SMTP_HOST"]:
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=20) as smtp:
            if config["SMTP_STARTTLS"]:
                smtp.starttls()
            if config["SMTP_USERNAME"]:
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
            sender = config["MAIL_FROM"]
            smtp.sendmail(sender, [row.recipient], row.raw_message.encode("utf-8"))
    else:
        folder = Path(config["MAIL_FILE_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{row.created_at:%Y%m%dT%H%M%S}-{row.id:06d}-{row.kind}.eml"
        path.write_text(row.raw_message, encoding="utf-8", newline="")


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2**attempts, 240))


def send_pending(ids: Iterable[int] | None = None, limit: int = 200) -> tuple[int, int]:
    """Deliver due messages (or just ``ids``), recording each attempt.

    Returns (sent, failed). Each message is claimed and marked in its own
    short transaction, so one bad address does not hold back the rest.
    """
    now = utcnow()
    query = sa.select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(list(ids)))
    else:
        query = query.where(
            OutboxMessage.attempts < current_app.config["OUTBOX_MAX_ATTEMPTS"],
            sa.or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
        )
    query = query.order_by(OutboxMessage.id).limit(limit)
    if db.engine.dialect.name == "postgresql":
        # Several senders at once each take different rows.
        query = query.with_for_update(skip_locked=True)
    rows = db.session.scalars(query).all()
    sent = failed = 0
    for row in rows:
        row.attempts += 1
        try:
            deliver(row)
        except Exception as error:  # noqa: BLE001  any failure leaves it for a retry
            failed += 1
            row.last_error = f"{type(error).__name__}: {error}"[:2000]
            row.next_attempt_at = utcnow() + _backoff(row.attempts)
            current_app.logger.warning("outbox message %s not sent: %s", row.id, row.last_error)
        else:
            sent += 1
            row.sent_at = utcnow()
            row.last_error = ""
    db.session.commit()
    return sent, failed


def _collect_new_messages(session: Session, flush_context) -> None:
    # In after_flush, session.new still lists what was just inserted, with ids.
    ids = {obj.id for obj in session.new if isinstance(obj, OutboxMessage)}
    if ids:
        session.info.setdefault("outbox_flushed", set()).update(ids)


def _hand_over_after_commit(session: Session) -> None:
    ids = session.info.pop("outbox_flushed", None)
    if ids and has_request_context():
        g.setdefault("outbox_to_send", set()).update(ids)


def _forget_after_rollback(session: Session) -> None:
    session.info.pop("outbox_flushed", None)


_SESSION_EVENTS = (
    ("after_flush", _collect_new_messages),
    ("after_commit", _hand_over_after_commit),
    ("after_rollback", _forget_after_rollback),
)


def init_outbox(app: Flask) -> None:
    """After a request's commit, deliver the messages it wrote."""
    for name, listener in _SESSION_EVENTS:
        if not sa.event.contains(db.session, name, listener):
            sa.event.listen(db.session, name, listener)

    @app.after_request
    def send_after_commit(response):
        ids = g.pop("outbox_to_send", None)
        if ids and not app.config["OUTBOX_DEFER_DELIVERY"]:
            try:
                send_pending(ids)
            except Exception:  # noqa: BLE001  the outbox keeps it; never fail the request
                db.session.rollback()
                app.logger.exception("outbox delivery after commit failed")
        return response
