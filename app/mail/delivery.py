"""Sending what the outbox holds, one message at a time, from any number of workers.

A worker claims a few due messages with a lease: one statement moves their
``next_attempt_at`` a few minutes ahead and counts the attempt, and it is
committed before anything is sent. Other workers (on this host or another)
no longer see the row as due, and on PostgreSQL they skip it while the claim
is being taken (``FOR UPDATE SKIP LOCKED``). After sending, the row is marked
sent and committed at once. So a worker killed in the middle re-sends at most
the one message it had in flight, when its lease runs out; a failure is
retried with back-off, and a message that keeps failing ends as failed, with
its last error, after ``OUTBOX_MAX_ATTEMPTS`` attempts.

No request sends mail: the web app only writes outbox rows.
"""

from __future__ import annotations

import enum
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import OutboxMessage, utcnow

#: How many messages a worker claims at once; each is still marked on its own.
CLAIM_BATCH = 20


def backoff(attempts: int) -> timedelta:
    """How long to wait before the next try after this many failed attempts."""
    return timedelta(minutes=min(2**attempts, 240))


@dataclass(frozen=True)
class Claimed:
    """A message taken for sending, detached from any session."""

    id: int
    recipient: str
    kind: str
    created_at: datetime
    raw_message: str
    attempts: int
    #: Until when this worker holds it; past that another worker may take it.
    held_until: datetime


class Delivery(enum.StrEnum):
    """Where an outbox message stands."""

    QUEUED = "queued"
    SENT = "sent"
    #: Not sent after OUTBOX_MAX_ATTEMPTS attempts: it is not tried again.
    FAILED = "failed"


def gave_up() -> sa.ColumnElement[bool]:
    """True for a message that is not sent and will not be tried again."""
    return sa.and_(
        OutboxMessage.sent_at.is_(None),
        OutboxMessage.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"],
    )


def delivery_state() -> sa.Case:
    """A message's Delivery, as a SQL expression to select or group by."""
    return sa.case(
        (OutboxMessage.sent_at.is_not(None), Delivery.SENT.value),
        (gave_up(), Delivery.FAILED.value),
        else_=Delivery.QUEUED.value,
    )


def _due(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        OutboxMessage.sent_at.is_(None),
        OutboxMessage.attempts < current_app.config["OUTBOX_MAX_ATTEMPTS"],
        sa.or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
    )


def claim_due(limit: int = 20, now: datetime | None = None) -> list[Claimed]:
    """Take up to ``limit`` due messages under a lease, and commit; oldest due first."""
    now = now or utcnow()
    lease = timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    candidates = (
        sa.select(OutboxMessage.id)
        .where(_due(now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    rows = db.session.execute(
        sa.update(OutboxMessage)
        # The due condition again: on SQLite the statement is the whole claim.
        .where(OutboxMessage.id.in_(candidates.scalar_subquery()), _due(now))
        .values(next_attempt_at=now + lease, attempts=OutboxMessage.attempts + 1)
        .returning(
            OutboxMessage.id,
            OutboxMessage.recipient,
            OutboxMessage.kind,
            OutboxMessage.created_at,
            OutboxMessage.raw_message,
            OutboxMessage.attempts,
        )
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted((Claimed(*row, now + lease) for row in rows), key=lambda message: message.id)


def release(messages: list[Claimed]) -> None:
    """Give back claimed messages that were not tried, e.g. when the worker stops."""
    if not messages:
        return
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_([message.id for message in messages]))
        .values(next_attempt_at=utcnow(), attempts=OutboxMessage.attempts - 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _mark_sent(message: Claimed) -> None:
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message.id)
        .values(sent_at=utcnow(), last_error="")
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _mark_failed(message: Claimed, error: Exception) -> None:
    text = f"{type(error).__name__}: {error}"[:2000]
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message.id)
        .values(last_error=text, next_attempt_at=utcnow() + backoff(message.attempts))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    current_app.logger.warning("outbox message %s not sent: %s", message.id, text)


class Mailer:
    """Delivers messages by SMTP over one connection kept open between them.

    Without ``SMTP_HOST`` it writes each message as an ``.eml`` file into
    ``MAIL_FILE_DIR`` instead, the embedded default. Use it as a context
    manager, so the connection is closed when the worker stops.
    """

    def __init__(self, config):
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            config = self.config
            smtp = smtplib.SMTP(
                config["SMTP_HOST"], config["SMTP_PORT"], timeout=config["SMTP_TIMEOUT"]
            )
            try:
                if config["SMTP_STARTTLS"]:
                    smtp.starttls()
                if config["SMTP_USERNAME"]:
                    smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
            except BaseException:
                smtp.close()
                raise
            self._smtp = smtp
        return self._smtp

    def send(self, message: Claimed) -> None:
        """Send one message; raises on failure, after dropping a broken connection."""
        if not self.config["SMTP_HOST"]:
            self._write_file(message)
            return
        data = message.raw_message.encode("utf-8")
        try:
            self._connection().sendmail(self.config["MAIL_FROM"], [message.recipient], data)
        except smtplib.SMTPRecipientsRefused:
            raise  # the connection is fine; only this address was refused
        except (smtplib.SMTPException, OSError):
            # A connection the server closed, or one that timed out: start afresh next time.
            self.close()
            raise

    def _write_file(self, message: Claimed) -> None:
        folder = Path(self.config["MAIL_FILE_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{message.created_at:%Y%m%dT%H%M%S}-{message.id:06d}-{message.kind}.eml"
        (folder / name).write_text(message.raw_message, encoding="utf-8", newline="")


def deliver(mailer: Mailer, message: Claimed) -> bool | None:
    """Send one claimed message and record the outcome at once.

    True when it was sent, False when it failed, None when this worker's hold
    on it would run out before a slow mail host could answer: another worker
    may take it then, so it is left to them rather than risk sending it twice.
    """
    slowest = timedelta(seconds=2 * mailer.config["SMTP_TIMEOUT"])
    if utcnow() + slowest >= message.held_until:
        return None
    try:
        mailer.send(message)
    except Exception as error:  # noqa: BLE001  any failure is recorded and retried later
        _mark_failed(message, error)
        return False
    _mark_sent(message)
    return True


def send_pending(limit: int = 500) -> tuple[int, int]:
    """One pass over what is due, for cron: returns (sent, failed)."""
    sent = failed = 0
    with Mailer(current_app.config) as mailer:
        while sent + failed < limit:
            batch = claim_due(min(CLAIM_BATCH, limit - sent - failed))
            if not batch:
                break
            for message in batch:
                outcome = deliver(mailer, message)
                if outcome:
                    sent += 1
                elif outcome is False:
                    failed += 1
    return sent, failed
