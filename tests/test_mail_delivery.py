"""Delivery: no request waits for the mail host; workers send each message once.

Against real peers on loopback: an SMTP server (aiosmtpd) that records what
it receives, and a black hole that accepts connections and never answers.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from email import message_from_bytes, message_from_string, policy
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.mail.delivery import claim_due, release, send_pending
from app.mail.outbox import build_message, enqueue
from app.models import ApiToken, OutboxMessage, Role, hash_api_token, utcnow
from tests.conftest import (
    get_csrf,
    make_event,
    make_registration,
    make_staff,
    new_id,
    on_postgres,
    requires_postgres,
)

ROOT = Path(__file__).resolve().parent.parent


class Recorder:
    """An aiosmtpd handler that keeps the Message-ID of everything it receives."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.message_ids: list[str] = []
        self.raw: list[bytes] = []
        self.connections = 0
        self._lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self._lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            time.sleep(self.delay)  # a slow mail host: the worker is killed mid-batch
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.message_ids.append(str(parsed["Message-ID"]))
            self.raw.append(envelope.content)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback; yields (port, recorder)."""
    from aiosmtpd.controller import Controller

    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller.port, recorder
    controller.stop()


@pytest.fixture
def black_hole():
    """A mail host that accepts connections and never says a word; yields (port, accepted)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def hold():
        while not stop.is_set():
            try:
                connection, _address = listener.accept()
            except TimeoutError:
                continue
            held.append(connection)

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    yield listener.getsockname()[1], held
    stop.set()
    thread.join(timeout=5)
    for connection in held:
        connection.close()
    listener.close()


def queue_messages(number: int) -> list[int]:
    rows = [
        enqueue(
            build_message(
                recipient=f"person{index}@example.org", subject=f"Message {index}", text="Hello"
            ),
            kind="confirmation",
        )
        for index in range(number)
    ]
    db.session.commit()
    return [row.id for row in rows]


def use_smtp(app, port: int, **extra) -> None:
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False, **extra)


# --- no request waits --------------------------------------------------------------


def test_no_request_waits_for_a_mail_host_that_never_answers(client, app, black_hole):
    port, accepted = black_hole
    use_smtp(app, port, SMTP_TIMEOUT=0.5)
    event = make_event("seminar", {"ahal": 10})
    coordinator = make_staff("ahal@example.org", Role.COORDINATOR, sites=["ahal"])
    token = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=coordinator, token_hash=hash_api_token(token), label="door"))
    person = make_registration(event, site="ahal")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}

    csrf = get_csrf(client, "/events/seminar/register")
    registered = client.post(
        "/events/seminar/register",
        data={
            "csrf_token": csrf,
            "participation": "ahal",
            "name": "Aýna Orazowa",
            "email": "ayna@example.org",
            "organization": "Lebap information centre",
            "org_kind": "info_centre",
            "language": "tk",
            "consent": "y",
        },
    )
    checked_in = client.post(
        "/api/v1/events/seminar/checkins",
        json={"code": person.badge_code, "site": "ahal", "client_id": new_id()},
        headers=headers,
    )
    walked_in = client.post(
        "/api/v1/events/seminar/registrations",
        json={
            "name": "Merdan Ataýew",
            "email": "merdan@example.org",
            "site": "ahal",
            "check_in": True,
            "client_id": new_id(),
        },
        headers=headers,
    )

    assert registered.status_code == 302
    assert checked_in.status_code == 201 and walked_in.status_code == 201
    # Not one of those requests even opened a connection to the mail host.
    assert accepted == []
    queued = db.session.scalars(sa.select(OutboxMessage)).all()
    assert len(queued) == 2 and all(m.sent_at is None and m.attempts == 0 for m in queued)

    # The worker's try times out, records why, and leaves each message for later.
    assert send_pending() == (0, 2)
    db.session.expire_all()
    for message in db.session.scalars(sa.select(OutboxMessage)):
        assert message.sent_at is None and message.attempts == 1
        assert "timed out" in message.last_error.lower()
        assert message.next_attempt_at > utcnow()
    assert len(accepted) >= 1


# --- the worker's rules ------------------------------------------------------------------


def test_one_connection_serves_many_messages(app, smtp_server):
    port, recorder = smtp_server
    use_smtp(app, port)
    queue_messages(20)
    assert send_pending() == (20, 0)
    assert len(recorder.message_ids) == 20 and recorder.connections == 1
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(OutboxMessage.sent_at.is_not(None)))
        == 20
    )


def test_a_message_that_keeps_failing_ends_as_failed_with_its_error(app):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=9, OUTBOX_MAX_ATTEMPTS=2)  # refused
    [message_id] = queue_messages(1)
    assert send_pending() == (0, 1)
    # Not due again until its back-off has passed.
    assert send_pending() == (0, 0)
    db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow()))
    db.session.commit()
    assert send_pending() == (0, 1)
    db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow()))
    db.session.commit()
    # Two attempts were allowed: it is no longer tried.
    assert send_pending() == (0, 0)
    message = db.session.get(OutboxMessage, message_id)
    assert message.sent_at is None and message.attempts == 2 and message.last_error


def test_a_claimed_message_is_not_claimed_again_until_its_lease_runs_out(app):
    [message_id] = queue_messages(1)
    [first] = claim_due()
    assert first.id == message_id and first.attempts == 1
    assert claim_due() == []
    lease = app.config["OUTBOX_LEASE_SECONDS"]
    [again] = claim_due(now=utcnow() + timedelta(seconds=lease + 1))
    assert again.id == message_id and again.attempts == 2


def test_a_stopping_worker_gives_back_what_it_did_not_try(app):
    queue_messages(3)
    claimed = claim_due()
    assert len(claimed) == 3 and claim_due() == []
    release(claimed[1:])
    assert [message.id for message in claim_due()] == [m.id for m in claimed[1:]]


# --- several workers, and a worker killed mid-batch ---------------------------------


def _start_worker(app, port: int, lease_seconds: int = 120) -> subprocess.Popen:
    env = {
        **os.environ,
        "FLASK_APP": "wsgi",
        "FLASK_CONFIG": "development",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_STARTTLS": "0",
        "WORKER_POLL_SECONDS": "0.2",
        "SMTP_TIMEOUT": "1",
        "OUTBOX_LEASE_SECONDS": str(lease_seconds),
    }
    flask = Path(sys.executable).with_name("flask")
    return subprocess.Popen(  # noqa: S603  our own command, fixed arguments
        [str(flask), "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def test_a_worker_killed_mid_batch_resends_at_most_the_message_in_flight(app, smtp_server):
    port, recorder = smtp_server
    recorder.delay = 0.02
    queue_messages(100)
    db.session.remove()

    # A short hold, so that the restarted worker takes the dead one's messages soon.
    worker = _start_worker(app, port, lease_seconds=5)
    try:
        assert _wait_for(lambda: len(recorder.message_ids) >= 30, timeout=60)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    finally:
        _stop(worker)
    assert len(set(recorder.message_ids)) < 100, "the worker finished before it was killed"

    restarted = _start_worker(app, port, lease_seconds=5)
    try:
        assert _wait_for(lambda: len(set(recorder.message_ids)) == 100, timeout=90)
    finally:
        _stop(restarted)
    duplicates = len(recorder.message_ids) - len(set(recorder.message_ids))
    assert duplicates <= 1
    unsent = db.session.scalar(sa.select(sa.func.count()).where(OutboxMessage.sent_at.is_(None)))
    assert unsent == 0


@pytest.mark.parametrize(
    "number", [pytest.param(1000, marks=requires_postgres, id="postgresql-1000")]
)
def test_two_workers_at_once_never_send_a_message_twice(app, smtp_server, number):
    port, recorder = smtp_server
    queue_messages(number)
    db.session.remove()
    workers = [_start_worker(app, port), _start_worker(app, port)]
    try:
        assert _wait_for(lambda: len(set(recorder.message_ids)) >= number, timeout=240)
        time.sleep(1)  # anything sent twice would arrive now
    finally:
        for worker in workers:
            _stop(worker)
    assert len(recorder.message_ids) == number == len(set(recorder.message_ids))


def test_two_workers_on_sqlite_share_the_work_too(app, smtp_server):
    if on_postgres():
        pytest.skip("the PostgreSQL run checks 1,000 messages above")
    port, recorder = smtp_server
    queue_messages(150)
    db.session.remove()
    workers = [_start_worker(app, port), _start_worker(app, port)]
    try:
        assert _wait_for(lambda: len(set(recorder.message_ids)) >= 150, timeout=120)
        time.sleep(1)
    finally:
        for worker in workers:
            _stop(worker)
    assert len(recorder.message_ids) == 150 == len(set(recorder.message_ids))


# --- headers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    [
        "Gender deňligi boýunça okuw",
        "You are registered: Gender deňligi boýunça okuw",
        "Siz hasaba alyndyňyz: Türkmenistanyň Konstitusiýasy — adam hukuklarynyň we "
        "azatlyklarynyň kepili, Aşgabat we welaýat merkezleri",
        "Вы зарегистрированы: Конституция Туркменистана: гарантия прав и свобод человека",
        "Two  spaces   kept, ünicode at the end ",
    ],
)
def test_subjects_survive_folding_as_a_mail_client_reads_them(app, smtp_server, subject):
    port, recorder = smtp_server
    use_smtp(app, port)
    enqueue(build_message(recipient="a@example.org", subject=subject, text="x"), kind="updated")
    db.session.commit()
    [stored] = db.session.scalars(sa.select(OutboxMessage)).all()
    assert message_from_string(stored.raw_message, policy=policy.default)["Subject"] == subject
    assert all(len(line) <= 78 for line in stored.raw_message.split("\r\n")[:12])

    assert send_pending() == (1, 0)
    [received] = recorder.raw
    assert message_from_bytes(received, policy=policy.default)["Subject"] == subject
