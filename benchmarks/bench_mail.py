"""Queueing and delivering 10,000 emails to a local SMTP server, with peak memory.

The messages are personal emails such as an organiser's message produces
(text and HTML, each with the person's own link); the cost of a full
confirmation (calendar invite and QR badge besides) is shown apart. An
aiosmtpd sink runs as a separate process on loopback; one worker delivers
over SMTP as ``flask worker`` does, then two workers share the same amount.
Runs on a throw-away SQLite file, or on PostgreSQL when BENCH_DATABASE_URL is
set (its rows are removed afterwards).

    python -m benchmarks mail
    BENCH_MESSAGES=2000 python -m benchmarks mail
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import threading
import time

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.mail.delivery import send_pending
from app.mail.messages import notify_registration, personal_url
from app.mail.outbox import build_message, enqueue
from app.models import EventStatus, MessageKind, Mode, OutboxMessage, Registration
from app.registrations.services import RegistrationInput, register_participant
from benchmarks import seeding
from benchmarks.bench_exports import _seed

MESSAGES = int(os.environ.get("BENCH_MESSAGES", "10000"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_sink(port: int) -> subprocess.Popen:
    sink = subprocess.Popen(  # noqa: S603  our own interpreter, fixed arguments
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return sink
        except OSError:
            time.sleep(0.1)
    sink.kill()
    raise RuntimeError("the SMTP sink did not start")


def _queue(event) -> float:
    """Queue one personal email per registration, as a campaign does; returns the seconds."""
    registrations = db.session.scalars(
        sa.select(Registration).where(Registration.event_id == event.id).limit(MESSAGES)
    ).all()
    started = time.perf_counter()
    for index, registration in enumerate(registrations, 1):
        link = personal_url(registration)
        message = build_message(
            recipient=registration.email,
            subject=f"Gender deňligi boýunça okuw: {registration.name}",
            text=f"Hello {registration.name},\n\nThe Dashoguz centre moved.\n\n{link}\n",
            html=f"<p>Hello {registration.name},</p><p><a href='{link}'>{link}</a></p>",
        )
        enqueue(message, kind=MessageKind.UPDATED, registration=registration)
        if index % 500 == 0:
            db.session.commit()
    db.session.commit()
    return time.perf_counter() - started


def _confirmations(event, number: int) -> float:
    """Seconds per full confirmation (invite, QR badge, HTML), for comparison."""
    registrations = db.session.scalars(
        sa.select(Registration).where(Registration.event_id == event.id).limit(number)
    ).all()
    started = time.perf_counter()
    for registration in registrations:
        notify_registration(registration, MessageKind.CONFIRMATION)
    db.session.rollback()
    return (time.perf_counter() - started) / number


def _registering(app, event, port: int, label: str, number: int = 100) -> None:
    """Registrations, as the form's POST runs them, while the mail host is at ``port``."""
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    started = time.perf_counter()
    for index in range(number):
        register_participant(
            event,
            RegistrationInput(
                name=f"Walk-in {label} {index}",
                email=f"{label}.{index}@example.org",
                mode=Mode.IN_PERSON,
                site_slug=event.event_sites[0].site.slug,
                consent=True,
            ),
        )
        db.session.commit()
    each = (time.perf_counter() - started) / number * 1000
    print(f"register  {number} with the mail host {label:<22} {each:6.1f} ms each")


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _deliver(app, workers: int) -> float:
    """Deliver everything due with this many worker threads; returns the seconds."""

    def work():
        with app.app_context():
            send_pending(limit=MESSAGES)
            db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def main() -> None:
    port = _free_port()
    sink = _start_sink(port)
    try:
        with seeding.bench_app(
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=port,
            SMTP_STARTTLS=False,
            PUBLIC_BASE_URL="http://127.0.0.1:5000",
        ) as backend:
            app = current_app._get_current_object()
            print(f"database: {backend}; {MESSAGES} personal emails")
            with seeding.removed_afterwards(_seed(MESSAGES, "mail")) as event:
                before = _peak_rss_mib()
                queued = _queue(event)
                size = db.session.scalar(
                    sa.select(sa.func.avg(sa.func.length(OutboxMessage.raw_message)))
                )
                print(
                    f"queue     {MESSAGES} in {queued:6.1f} s  {MESSAGES / queued:7.0f}/s"
                    f"  peak RSS +{_peak_rss_mib() - before:5.1f} MiB"
                    f"  ~{size / 1024:.1f} KiB each"
                )
                for workers in (1, 2):
                    if workers == 2:
                        db.session.execute(
                            sa.update(OutboxMessage).values(
                                sent_at=None, attempts=0, next_attempt_at=None
                            )
                        )
                        db.session.commit()
                    before = _peak_rss_mib()
                    seconds = _deliver(app, workers)
                    unsent = db.session.scalar(
                        sa.select(sa.func.count()).where(OutboxMessage.sent_at.is_(None))
                    )
                    grew = _peak_rss_mib() - before
                    print(
                        f"deliver   {MESSAGES} in {seconds:6.1f} s  "
                        f"{MESSAGES / seconds:7.0f}/s  peak RSS +{grew:5.1f} MiB"
                        f"  ({workers} worker(s), {unsent} unsent)",
                        flush=True,
                    )
                # A mail host that accepts connections and never says a word.
                with socket.socket() as black_hole:
                    black_hole.bind(("127.0.0.1", 0))
                    black_hole.listen(128)
                    event.status = EventStatus.PUBLISHED
                    db.session.commit()
                    _registering(app, event, port, "answering")
                    _registering(app, event, black_hole.getsockname()[1], "silent (black hole)")
                app.config.update(SMTP_PORT=port)
                each = _confirmations(event, 100)
                print(f"a full confirmation (invite + QR badge) takes {each * 1000:.0f} ms")
    finally:
        sink.terminate()
        sink.wait(timeout=10)


if __name__ == "__main__":
    main()
