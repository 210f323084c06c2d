"""The worker: ``flask worker`` runs until stopped, beside the web app.

Each round it turns due organiser messages and reminders into outbox rows,
anonymises the events whose retention period has run out, then sends what
the outbox holds, one message at a time (see
``app/mail/delivery.py``). Any number of workers may run, on one host or
several: every step claims its work in the database, so nothing is sent
twice. A round that fails (the database restarting, say) is logged and tried
again; SIGTERM or Ctrl-C stops the worker after the message in flight.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

from flask import current_app

from app.extensions import db
from app.mail.delivery import CLAIM_BATCH, Mailer, claim_due, deliver, release
from app.mail.notices import expand_notices
from app.messages.reminders import enqueue_due_reminders
from app.messages.sending import expand_campaigns
from app.privacy.services import anonymise_due_events

#: The work that waits for its time, in this order: outbox rows to write, then personal
#: data past its retention. Each returns how much it did, 0 when nothing was due.
SCHEDULED_JOBS: tuple[Callable[[], int], ...] = (
    expand_notices,
    expand_campaigns,
    enqueue_due_reminders,
    anonymise_due_events,
)


def run_round(mailer: Mailer, stop: threading.Event) -> int:
    """One round of work: schedule, then deliver. Returns how much was done."""
    done = sum(job() for job in SCHEDULED_JOBS)
    batch = claim_due(CLAIM_BATCH)
    for index, message in enumerate(batch):
        if stop.is_set():
            release(batch[index:])
            break
        deliver(mailer, message)
        done += 1
    return done


def run_worker(stop: threading.Event | None = None) -> None:
    """Work until ``stop`` is set (by SIGTERM or SIGINT when run from the command line)."""
    stop = stop or threading.Event()
    poll = current_app.config["WORKER_POLL_SECONDS"]
    with Mailer(current_app.config) as mailer:
        while not stop.is_set():
            try:
                done = run_round(mailer, stop)
            except Exception:  # noqa: BLE001  a bad round must not end the worker
                db.session.rollback()
                current_app.logger.exception("worker round failed; trying again")
                done = 0
            finally:
                db.session.remove()
            if not done:
                stop.wait(poll)


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM and SIGINT, so the worker ends cleanly."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop
