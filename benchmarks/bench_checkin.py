"""Check-ins per second through the real stack, against the floor of a bare Flask endpoint.

Creates a throw-away PostgreSQL database (the role needs CREATEDB), loads
10,000 registrations at 6 sites, and serves the app with gunicorn and several
workers. A load generator on loopback (threads with keep-alive connections,
concurrency 8) posts check-ins with a Bearer token, each for a different
person, so every one is a real admission. Then the same codes go, against the
same tables, to a bare Flask endpoint that does only one indexed lookup and
one insert: the floor. Prints check-ins/s, p50 and p99 for both, and the ratios.
The aim: at least 85% of the floor's throughput, a p99 at most twice the floor's.
The machine running both is shared with the load generator and PostgreSQL, and
often with more: compare the ratios of one run, never figures across runs.

    python -m benchmarks checkin
    BENCH_DATABASE_URL=postgresql://user:pass@host:5432/postgres python -m benchmarks checkin

BENCH_CHECKINS (default 3000) bounds the number of check-ins per run, and
BENCH_SECONDS (default 60) the time of each run; BENCH_ROUNDS (default 3)
how many times the two alternate; BENCH_WORKERS sets gunicorn's workers.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://hybriddesk:hybriddesk@127.0.0.1:5432/postgres"
REGISTRATIONS = 10_000
SITES = ["ashgabat", "ahal", "balkan", "dashoguz", "lebap", "mary"]
CONCURRENCY = 8
EVENT_SLUG = "bench-seminar"


def _driver_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _with_database(url: str, name: str) -> str:
    return str(sa.engine.make_url(url).set(database=name).render_as_string(hide_password=False))


# --- the floor: one indexed lookup and one insert, nothing else ------------------------


def floor_app():
    """A bare Flask endpoint for gunicorn: look the code up, insert the check-in."""
    from flask import Flask, jsonify, request

    engine = sa.create_engine(_driver_url(os.environ["DATABASE_URL"]))
    app = Flask("floor")
    lookup = sa.text("SELECT id, event_id, site_id FROM registrations WHERE badge_code = :code")
    insert = sa.text(
        "INSERT INTO checkins (client_id, event_id, registration_id, site_id, method, result, "
        "forced, code, scanned_at, day, received_at, device) VALUES (:client_id, :event_id, "
        ":id, :site_id, 'qr', 'admitted', false, :code, now() at time zone 'utc', "
        "current_date, now() at time zone 'utc', '') RETURNING id"
    )

    @app.post("/floor")
    def floor():
        body = request.get_json()
        with engine.begin() as connection:
            row = connection.execute(lookup, {"code": body["code"]}).mappings().first()
            if row is None:
                return jsonify(status="error"), 404
            connection.execute(
                insert, {**row, "client_id": body["client_id"], "code": body["code"]}
            )
        return jsonify(status="ok"), 201

    return app


# --- set-up ---------------------------------------------------------------------------------


def _create_database(admin_url: str) -> str:
    name = f"hybriddesk_bench_{secrets.token_hex(4)}"
    engine = sa.create_engine(_driver_url(admin_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return name


def _drop_database(admin_url: str, name: str) -> None:
    engine = sa.create_engine(_driver_url(admin_url), isolation_level="AUTOCOMMIT")
    # An autovacuum worker still busy with the loaded tables belongs to the superuser,
    # whom the role may not terminate: wait for it to finish, a few times.
    for attempt in range(10):
        try:
            with engine.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            break
        except sa.exc.ProgrammingError:
            if attempt == 9:
                raise
            time.sleep(1)
    engine.dispose()


def _load(database_url: str) -> tuple[list[str], str]:
    """Schema, an event at 6 sites, 10,000 registrations and an organiser's token."""
    from datetime import timedelta

    from app import create_app
    from app.extensions import db
    from app.models import (
        ApiToken,
        Event,
        EventSite,
        EventStatus,
        Registration,
        Role,
        Site,
        StaffUser,
        hash_api_token,
        utcnow,
    )
    from app.text import fold_for_search
    from config import Config

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = _driver_url(database_url)

    app = create_app(BenchConfig)
    token = secrets.token_urlsafe(32)
    with app.app_context():
        db.create_all()
        start = utcnow() + timedelta(hours=1)
        event = Event(
            slug=EVENT_SLUG,
            title="Benchmark seminar",
            starts_at=start,
            ends_at=start + timedelta(hours=4),
            status=EventStatus.PUBLISHED,
        )
        sites = [Site(slug=slug, name=slug.title()) for slug in SITES]
        event.event_sites = [
            EventSite(site=site, capacity=REGISTRATIONS, position=n) for n, site in enumerate(sites)
        ]
        user = StaffUser(email="bench@example.org", role=Role.ORGANIZER)
        user.set_password(secrets.token_urlsafe(16))
        db.session.add_all([event, user, ApiToken(user=user, token_hash=hash_api_token(token))])
        db.session.flush()
        rows, codes = [], []
        for number in range(REGISTRATIONS):
            code = secrets.token_hex(16).upper()
            name = f"Participant {number:05d}"
            site = sites[number % len(sites)]
            rows.append(
                {
                    "event_id": event.id,
                    "name": name,
                    "email": f"p{number}@example.org",
                    "mode": "in_person",
                    "site_id": site.id,
                    "status": "confirmed",
                    "manage_token": secrets.token_urlsafe(32),
                    "badge_code": code,
                    "search_text": fold_for_search(name),
                    "language": "en",
                }
            )
            codes.append((code, site.slug))
        db.session.execute(sa.insert(Registration), rows)
        db.session.commit()
        db.engine.dispose()
    return codes, token


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_redis() -> tuple[subprocess.Popen, str]:
    """A Redis of its own, as production shares its rate limits in one (check-ins do not use it)."""
    port = _free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    return process, f"redis://127.0.0.1:{port}/0"


def _start_gunicorn(
    target: str, database_url: str, workers: int, redis_url: str
) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "FLASK_CONFIG": "production",
        "SECRET_KEY": secrets.token_hex(16),
        "RATELIMIT_STORAGE_URI": redis_url,
    }
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            target,
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process, port
        except OSError as error:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn {target} exited with {process.returncode}") from error
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"gunicorn {target} did not start")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


# --- the load generator ---------------------------------------------------------------------


def _run_load(
    port: int, path: str, codes: list[tuple[str, str]], headers: dict, seconds: float
) -> dict:
    """Post one check-in per code from CONCURRENCY threads; latencies in seconds."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    position = iter(range(len(codes)))
    stop_at = time.monotonic() + seconds

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, seen = [], {}
        while time.monotonic() < stop_at:
            with lock:
                index = next(position, None)
            if index is None:
                break
            code, site = codes[index]
            body = json.dumps({"code": code, "site": site, "client_id": str(uuid.uuid4())})
            started = time.perf_counter()
            connection.request(
                "POST", path, body=body, headers={"Content-Type": "application/json", **headers}
            )
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            seen[response.status] = seen.get(response.status, 0) + 1
        connection.close()
        with lock:
            latencies.extend(mine)
            for status, count in seen.items():
                statuses[status] = statuses.get(status, 0) + count

    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "count": len(latencies),
        "elapsed": elapsed,
        "rate": len(latencies) / elapsed if elapsed else 0.0,
        "p50": statistics.median(latencies) if latencies else 0.0,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0.0,
        "statuses": statuses,
    }


def _report(label: str, result: dict) -> None:
    statuses = ", ".join(
        f"{status}: {count}" for status, count in sorted(result["statuses"].items())
    )
    print(
        f"{label:<10} {result['count']:>5} in {result['elapsed']:5.1f} s  "
        f"{result['rate']:7.0f}/s  p50 {result['p50'] * 1000:6.1f} ms  "
        f"p99 {result['p99'] * 1000:6.1f} ms  ({statuses})",
        flush=True,
    )


def _truncate_checkins(database_url: str) -> None:
    engine = sa.create_engine(_driver_url(database_url))
    with engine.begin() as connection:
        connection.execute(sa.text("TRUNCATE checkins"))
    engine.dispose()


def main() -> None:
    admin_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    try:
        engine = sa.create_engine(_driver_url(admin_url), connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except Exception as error:  # any reason at all: say so and skip
        print(
            f"PostgreSQL is not reachable at {admin_url} ({type(error).__name__}); "
            "set BENCH_DATABASE_URL to a server where the role may CREATE DATABASE."
        )
        return

    if shutil.which("redis-server") is None:
        print("redis-server is not installed (Debian: redis-server); production serves with it.")
        return

    count = int(os.environ.get("BENCH_CHECKINS", "3000"))
    seconds = float(os.environ.get("BENCH_SECONDS", "60"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    workers = int(os.environ.get("BENCH_WORKERS", str(max(2, min(8, 2 * (os.cpu_count() or 1))))))
    name = _create_database(admin_url)
    database_url = _with_database(admin_url, name)
    processes: list[subprocess.Popen] = []
    try:
        started = time.perf_counter()
        codes, token = _load(database_url)
        print(
            f"loaded {len(codes)} registrations at {len(SITES)} sites in "
            f"{time.perf_counter() - started:.1f} s; gunicorn {workers} workers, "
            f"concurrency {CONCURRENCY}, PostgreSQL database {name}",
            flush=True,
        )
        warm_up, measured = codes[-200:], codes[:count]

        redis_server, redis_url = _start_redis()
        processes.append(redis_server)
        app_server, app_port = _start_gunicorn("wsgi:app", database_url, workers, redis_url)
        processes.append(app_server)
        floor_server, floor_port = _start_gunicorn(
            "benchmarks.bench_checkin:floor_app()", database_url, workers, redis_url
        )
        processes.append(floor_server)
        targets = {
            "check-in": (
                app_port,
                f"/api/v1/events/{EVENT_SLUG}/checkins",
                {"Authorization": f"Bearer {token}"},
            ),
            "floor": (floor_port, "/floor", {}),
        }
        # Alternate the two, several rounds, and keep each one's best: a shared
        # machine's noise then hurts both alike. Each run starts from no check-ins.
        best: dict[str, dict] = {}
        for _round in range(rounds):
            for label, (port, path, headers) in targets.items():
                _truncate_checkins(database_url)
                _run_load(port, path, warm_up, headers, seconds)
                result = _run_load(port, path, measured, headers, seconds)
                _report(label, result)
                if label not in best or result["rate"] > best[label]["rate"]:
                    best[label] = result

        print("best of", rounds, "rounds:")
        for label, result in best.items():
            _report(label, result)
        ratio = best["check-in"]["rate"] / best["floor"]["rate"] if best["floor"]["rate"] else 0
        tail = best["check-in"]["p99"] / best["floor"]["p99"] if best["floor"]["p99"] else 0
        print(f"ratio: {ratio:.0%} of the floor's throughput (aim: at least 85%)")
        print(f"p99: {tail:.1f} times the floor's (aim: at most 2)")
    finally:
        for process in processes:
            if process.poll() is None:
                _stop(process)
        _drop_database(admin_url, name)


if __name__ == "__main__":
    main()
