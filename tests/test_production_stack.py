"""The production stack of deploy/, started for real on loopback.

nginx (TLS, HTTP/2, gzip, static files, the configuration in deploy/nginx/) in front
of two gunicorn app servers (ProductionConfig, started with the command line of
deploy/systemd/hybriddesk-web@.service), one mail worker (that of
hybriddesk-worker.service), Redis for the rate limits and PostgreSQL, all with the
settings of deploy/hybriddesk.env.example. The tests drive it as people would, over
HTTPS, and then take an app server, Redis and (where allowed) PostgreSQL away.

Restarting PostgreSQL disturbs everything else that uses the server, so that step
runs only as root with ``CI`` or ``STACK_RESTART_POSTGRES=1`` set; the cluster is
``15 main`` unless ``STACK_POSTGRES_CLUSTER`` names another.
"""

from __future__ import annotations

import email
import email.policy
import gzip
import hashlib
import http.client
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from flask import url_for
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from app.models import Mode, OrgKind, Registration, RegistrationStatus, Site, utcnow
from config import TestingConfig, _database_url
from tests.conftest import POSTGRES_URL, csrf_token_from, make_event

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
EVENT = "stack-seminar"
SITE = "ashgabat"
COORDINATOR = "ashgabat.door@example.org"
PASSWORD = "correct horse battery staple"
#: Failed sign-ins per client address that the app servers allow (LOGIN_RATE_LIMIT).
LOGIN_LIMIT = 6
#: Registrations ready to be checked in under load: more than the scanners manage in 10 s
#: on an idle machine (about 450 a second), so that some are left when a server dies.
LOAD_CODES = 6000
LOAD_SECONDS = 10
RETRYABLE = {502, 503, 504}


def _missing() -> list[str]:
    tools = ("nginx", "redis-server", "openssl", "curl", "pg_dump", "pg_restore")
    missing = [tool for tool in tools if not shutil.which(tool)]
    if not POSTGRES_URL:
        missing.append("PostgreSQL (TEST_DATABASE_URL)")
    return missing


requires_stack = pytest.mark.skipif(
    bool(_missing()), reason=f"needs {', '.join(_missing())} for the production stack"
)


# --- static URLs, without the stack -------------------------------------------


def test_static_urls_name_their_content_and_those_are_kept_for_a_year():
    class HashedConfig(TestingConfig):
        STATIC_URL_HASHES = True

    app = create_app(HashedConfig)
    digest = hashlib.sha256((ROOT / "static" / "css" / "app.css").read_bytes()).hexdigest()[:12]
    with app.test_request_context():
        assert url_for("static", filename="css/app.css") == f"/static/css/app.css?v={digest}"
        assert url_for("static", filename="no-such-file.css") == "/static/no-such-file.css"
    client = app.test_client()
    hashed = client.get(f"/static/css/app.css?v={digest}")
    hashed.close()
    assert hashed.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # Unnamed, or named by an old hash: the browser checks with the server before using it.
    for path in ("/static/css/app.css", "/static/css/app.css?v=000000000000"):
        response = client.get(path)
        response.close()
        assert response.headers["Cache-Control"] == "no-cache", path

    # In debug and testing mode the files change under a running server: plain URLs.
    with create_app(TestingConfig).test_request_context():
        assert url_for("static", filename="css/app.css") == "/static/css/app.css"


# --- databases ---------------------------------------------------------------


def _libpq_url(url: str, database: str | None = None) -> str:
    """A plain postgresql:// URL, as libpq (psycopg, pg_dump) reads it."""
    parsed = make_url(url).set(drivername="postgresql")
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def _recreate_database(name: str) -> str:
    """A new, empty database on the test server (the role may create databases)."""
    with psycopg.connect(_libpq_url(POSTGRES_URL), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return _libpq_url(POSTGRES_URL, name)


def _drop_database(name: str) -> None:
    with psycopg.connect(_libpq_url(POSTGRES_URL), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _query(url: str, sql: str, *params):
    with psycopg.connect(url) as connection:
        return connection.execute(sql, params).fetchall()


# --- processes ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"nothing listens on port {port} after {timeout} s:\n{log.read_text()[-3000:]}")


@dataclass
class Service:
    """One program of the stack, in a process group of its own so that all of it can stop."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    port: int | None = None
    process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if self.port:
            _wait_for_port(self.port, self.process, self.log)

    def kill(self) -> None:
        """SIGKILL to the program and every process it started (a master and its workers)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def _unit_command(unit: str, **specifiers: str) -> list[str]:
    """The ExecStart of a systemd unit in deploy/, with this checkout's virtualenv."""
    text = (DEPLOY / "systemd" / unit).read_text()
    line = re.search(r"^ExecStart=(.+)$", text, re.MULTILINE).group(1)
    for specifier, value in specifiers.items():
        line = line.replace(f"%{specifier}", value)
    argv = shlex.split(line)
    argv[0] = str(BIN / Path(argv[0]).name)
    return argv


def _example_environment() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / "hybriddesk.env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip("'\"")
    return values


def _render_nginx_site(replacements: dict[str, str]) -> str:
    site = (DEPLOY / "nginx" / "hybriddesk.conf").read_text()
    for old, new in replacements.items():
        assert old in site, f"deploy/nginx/hybriddesk.conf no longer has {old!r}"
        site = site.replace(old, new)
    return site


# --- HTTP --------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self):
        return json.loads(self.body)


@dataclass
class Client:
    """A small browser: one server, its cookies, and TLS trusting the stack's certificate."""

    port: int
    tls: ssl.SSLContext | None = None
    cookies: dict[str, str] = field(default_factory=dict)

    def connection(self, timeout: float = 15) -> http.client.HTTPConnection:
        if self.tls:
            return http.client.HTTPSConnection(
                "127.0.0.1", self.port, context=self.tls, timeout=timeout
            )
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, *, form=None, payload=None, headers=None, connection=None):
        headers = dict(headers or {})
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif payload is not None:
            body = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST" and form is not None:
            # As a browser does; over HTTPS the CSRF check insists on a same-origin Referer.
            scheme = "https" if self.tls else "http"
            headers.setdefault("Referer", f"{scheme}://127.0.0.1:{self.port}{path}")
        own = connection is None
        connection = connection or self.connection()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            if own:
                connection.close()
        for header in response.headers.get_all("Set-Cookie") or ():
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        if response.headers.get("Content-Encoding") == "gzip":
            data = gzip.decompress(data)
        return Reply(response.status, response.headers, data)

    def get(self, path, **kwargs) -> Reply:
        return self.request("GET", path, **kwargs)

    def csrf(self, path: str) -> str:
        page = self.get(path)
        assert page.status == 200, (path, page.status)
        return csrf_token_from(page.text)


# --- the stack ---------------------------------------------------------------


@dataclass
class Stack:
    """The running stack: its services, ports and the people ready to be checked in."""

    tmp: Path
    database_url: str
    env: dict[str, str]
    ports: dict[str, int]
    #: Badge codes of people not checked in yet, handed out by ``next_code``.
    codes: list[str]
    services: list[Service] = field(default_factory=list)
    token: str = ""
    tls: ssl.SSLContext | None = None

    @property
    def certificate(self) -> Path:
        return self.tmp / "cert.pem"

    @property
    def mail_dir(self) -> Path:
        return Path(self.env["MAIL_FILE_DIR"])

    @property
    def public_base_url(self) -> str:
        return f"https://127.0.0.1:{self.ports['https']}"

    def service(self, name: str) -> Service:
        return next(service for service in self.services if service.name == name)

    @property
    def redis(self) -> Service:
        return self.service("redis")

    @property
    def web(self) -> list[Service]:
        return [self.service("web0"), self.service("web1")]

    @property
    def worker(self) -> Service:
        return self.service("worker")

    def browser(self) -> Client:
        """A client of nginx over HTTPS, trusting the stack's own certificate."""
        if self.tls is None:
            self.tls = ssl.create_default_context(cafile=str(self.certificate))
        return Client(self.ports["https"], self.tls)

    def direct(self, server: int) -> Client:
        """A client of one app server, past nginx."""
        return Client(self.ports[f"web{server}"])

    def next_code(self) -> str:
        return self.codes.pop()

    def checkin(self, code: str, client_id: str, connection=None) -> Reply:
        return self.browser().request(
            "POST",
            f"/api/v1/events/{EVENT}/checkins",
            payload={"code": code, "site": SITE, "client_id": client_id},
            headers={"Authorization": f"Bearer {self.token}"},
            connection=connection,
        )

    def flask(self, *args: str) -> str:
        done = subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def start(self, service: Service) -> Service:
        self.services.append(service)
        service.start()
        return service

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()


def _environment(tmp: Path, database_url: str, ports: dict[str, int]) -> dict[str, str]:
    """deploy/hybriddesk.env.example, filled in for this machine."""
    example = _example_environment()
    for name in ("FLASK_CONFIG", "SECRET_KEY", "DATABASE_URL", "PUBLIC_BASE_URL"):
        assert name in example, f"deploy/hybriddesk.env.example does not set {name}"
    assert example["FLASK_CONFIG"] == "production"
    assert example["TRUSTED_PROXIES"] == "1"
    assert example["RATELIMIT_STORAGE_URI"].startswith("redis://")
    assert {"SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD"} <= example.keys()
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PYTEST"))}
    return {
        **inherited,
        **example,
        "SECRET_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": f"https://127.0.0.1:{ports['https']}",
        "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{ports['redis']}/0",
        "WEB_CONCURRENCY": "2",
        "SMTP_HOST": "",  # mail goes to files
        "MAIL_FILE_DIR": str(tmp / "mail"),
        "WORKER_POLL_SECONDS": "0.2",
        "LOGIN_RATE_LIMIT": f"{LOGIN_LIMIT} per minute",
    }


def _seed(database_url: str, count: int) -> list[str]:
    """The event, its sites and ``count`` people expected at the main venue; their codes."""

    class SeedConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = _database_url(database_url)

    app = create_app(SeedConfig)
    with app.app_context():
        event = make_event(EVENT, sites={SITE: count + 100, "ahal": 20})
        site_id = db.session.scalar(sa.select(Site.id).where(Site.slug == SITE))
        people = [
            Registration(
                event_id=event.id,
                name=f"Participant {number:04d}",
                email=f"participant{number:04d}@example.org",
                organization="Institute of State, Law and Democracy",
                org_kind=OrgKind.STATE,
                mode=Mode.IN_PERSON,
                site_id=site_id,
                status=RegistrationStatus.CONFIRMED,
                consent_at=utcnow(),
            )
            for number in range(count)
        ]
        db.session.add_all(people)
        db.session.commit()
        codes = [person.badge_code for person in people]
        db.session.remove()
        db.engine.dispose()
    return codes


def _make_certificate(tmp: Path) -> None:
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(tmp / "key.pem"), "-out", str(tmp / "cert.pem")],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _start_redis(redis: Service) -> None:
    redis.start()
    deadline = time.monotonic() + 10
    while not _redis_ping(redis.port):
        assert time.monotonic() < deadline, redis.log.read_text()
        time.sleep(0.1)


def _wait_until_serving(server: Service, timeout: float = 60) -> None:
    """Wait until an app server answers a page that reads the database."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if Client(server.port).get(f"/events/{EVENT}").status == 200:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, server.log.read_text()[-3000:]
        time.sleep(0.2)


def _nginx_config(stack: Stack) -> Path:
    """deploy/nginx/hybriddesk.conf with this machine's ports and paths, in a main config."""
    tmp, ports = stack.tmp, stack.ports
    site = _render_nginx_site(
        {
            "listen 443 ssl http2;": f"listen 127.0.0.1:{ports['https']} ssl http2;",
            "listen 80;": f"listen 127.0.0.1:{ports['http']};",
            "server 127.0.0.1:8001 ": f"server 127.0.0.1:{ports['web0']} ",
            "server 127.0.0.1:8002 ": f"server 127.0.0.1:{ports['web1']} ",
            "/etc/ssl/hybriddesk/fullchain.pem": str(tmp / "cert.pem"),
            "/etc/ssl/hybriddesk/privkey.pem": str(tmp / "key.pem"),
            "/srv/hybriddesk/static/": f"{ROOT / 'static'}/",
            "server_name hybriddesk.example.org;": "server_name 127.0.0.1 localhost;",
        }
    )
    (tmp / "hybriddesk.conf").write_text(site)
    # As root, nginx's workers would run as "nobody", who may not read this checkout.
    user = f"user {pwd.getpwuid(os.getuid()).pw_name};" if os.getuid() == 0 else ""
    main = tmp / "nginx.conf"
    main.write_text(
        f"""{user}
worker_processes 1;
pid nginx.pid;
error_log error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log access.log;
    client_body_temp_path client_body;
    proxy_temp_path proxy;
    fastcgi_temp_path fastcgi;
    uwsgi_temp_path uwsgi;
    scgi_temp_path scgi;
    include hybriddesk.conf;
}}
"""
    )
    return main


def _make_coordinator(stack: Stack) -> str:
    """A coordinator of the main venue, made with the command line; their new API token."""
    stack.flask("users", "create", COORDINATOR, "--role", "coordinator", "--site", SITE,
                "--password", PASSWORD)  # fmt: skip
    return stack.flask("users", "token", COORDINATOR, "--label", "door").strip()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stack")
    database = "hybriddesk_stack"
    database_url = _recreate_database(database)
    ports = {name: _free_port() for name in ("redis", "web0", "web1", "https", "http")}
    env = _environment(tmp, database_url, ports)
    stack = Stack(tmp, database_url, env, ports, codes=[])
    try:
        _start_stack(stack)
        yield stack
    finally:
        stack.stop()
        _drop_database(database)


def _start_stack(stack: Stack) -> None:
    tmp, ports, env = stack.tmp, stack.ports, stack.env
    stack.flask("db", "upgrade")
    stack.codes = _seed(stack.database_url, LOAD_CODES)
    # The coordinator is made while the servers start.
    token: list[str] = []
    staff = threading.Thread(target=lambda: token.append(_make_coordinator(stack)), daemon=True)
    staff.start()
    _make_certificate(tmp)

    redis = Service(
        "redis",
        ["redis-server", "--port", str(ports["redis"]), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp)],
        env,
        tmp / "redis.log",
        ports["redis"],
    )  # fmt: skip
    stack.services.append(redis)
    _start_redis(redis)
    for n in (0, 1):
        port = str(ports[f"web{n}"])
        command = _unit_command("hybriddesk-web@.service", i=port)
        stack.start(Service(f"web{n}", command, env, tmp / f"web{n}.log", ports[f"web{n}"]))
    command = _unit_command("hybriddesk-worker.service")
    stack.start(Service("worker", command, env, tmp / "worker.log"))
    command = ["nginx", "-p", f"{tmp}/", "-c", str(_nginx_config(stack)), "-g", "daemon off;"]
    stack.start(Service("nginx", command, env, tmp / "nginx.log", ports["https"]))

    for server in stack.web:
        _wait_until_serving(server)
    staff.join(timeout=120)
    assert token, "the coordinator or their API token could not be made"
    stack.token = token[0]


# --- what people do through it -------------------------------------------------


def _register_on_the_public_form(stack: Stack) -> None:
    """A participant registers over HTTPS and the worker mails them their personal link."""
    visitor = stack.browser()
    form = {
        "csrf_token": visitor.csrf(f"/events/{EVENT}/register"),
        "participation": "ahal",
        "name": "Ogulgerek Berdiýewa",
        "email": "ogulgerek@example.org",
        "phone": "+993 12 345678",
        "organization": "Ahal information centre for human rights",
        "position": "Head of centre",
        "org_kind": "info_centre",
        "gender": "female",
        "language": "en",
        "consent": "y",
    }
    sent = visitor.request("POST", f"/events/{EVENT}/register", form=form)
    assert sent.status == 302, sent.text
    thanks = visitor.get(sent.headers["Location"])
    assert thanks.status == 200 and "/r/" in thanks.text

    deadline = time.monotonic() + 20
    while True:
        mails = [
            email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in stack.mail_dir.glob("*.eml")
        ]
        mails = [mail for mail in mails if "ogulgerek@example.org" in mail["To"]]
        if mails:
            break
        assert time.monotonic() < deadline, stack.worker.log.read_text()[-3000:]
        time.sleep(0.2)
    text = mails[0].get_body(preferencelist=("plain",)).get_content()
    assert f"{stack.public_base_url}/r/" in text


def _sign_in(stack: Stack) -> Client:
    coordinator = stack.browser()
    token = coordinator.csrf("/manage/login")
    signed_in = coordinator.request(
        "POST",
        "/manage/login",
        form={"email": COORDINATOR, "password": PASSWORD, "csrf_token": token},
    )
    assert signed_in.status == 302, signed_in.text
    cookies = " ".join(signed_in.headers.get_all("Set-Cookie"))
    assert "Secure" in cookies and "HttpOnly" in cookies
    return coordinator


def _failed_sign_ins(clients, address: str | None, attempts: int) -> list[int]:
    """Statuses of failed sign-ins sent in turn through ``clients``, each for another account."""
    statuses = []
    for attempt in range(attempts):
        client = clients[attempt % len(clients)]
        headers = {"X-Forwarded-For": address or f"198.51.100.{attempt + 1}"}
        token = client.csrf("/manage/login")
        reply = client.request(
            "POST",
            "/manage/login",
            form={
                "email": f"nobody-{uuid.uuid4().hex[:8]}@example.org",
                "password": "not the password",
                "csrf_token": token,
            },
            headers=headers,
        )
        statuses.append(reply.status)
    return statuses


class ProductionLikeConfig(TestingConfig):
    """Static URLs as the app servers of the stack name them."""

    STATIC_URL_HASHES = True


def _check_static_files(stack: Stack) -> None:
    browser = stack.browser()
    page = browser.get(f"/events/{EVENT}", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"
    stylesheet = ROOT / "static" / "css" / "app.css"
    digest = hashlib.sha256(stylesheet.read_bytes()).hexdigest()[:12]
    assert f"/static/css/app.css?v={digest}" in page.text

    gzipped = {"Accept-Encoding": "gzip"}
    for path in ("css/app.css", "favicon.svg"):
        digest = hashlib.sha256((ROOT / "static" / path).read_bytes()).hexdigest()[:12]
        hashed = browser.get(f"/static/{path}?v={digest}", headers=gzipped)
        assert hashed.status == 200, path
        assert hashed.headers["Content-Encoding"] == "gzip", path
        assert hashed.headers["Cache-Control"] == "public, max-age=31536000, immutable", path
        assert hashed.body == (ROOT / "static" / path).read_bytes()

    # Scripts come from the app servers, each import named by its content as well, so that
    # the check-in page's modules all come from the browser's cache the next time.
    with create_app(ProductionLikeConfig).test_request_context():
        main = url_for("static", filename="js/checkin/main.js")
        storage = url_for("static", filename="js/checkin/storage.js")
    module = browser.get(main, headers=gzipped)
    assert module.status == 200
    assert module.headers["Content-Encoding"] == "gzip"
    assert module.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert f'from "./storage.js?v={storage.split("?v=")[1]}"' in module.text
    # Without a hash: kept, but checked before each use.
    unnamed = browser.get("/static/js/checkin/storage.js", headers=gzipped)
    assert unnamed.headers["Cache-Control"] == "no-cache"
    again = browser.get(
        "/static/js/checkin/storage.js",
        headers={**gzipped, "If-None-Match": unnamed.headers["ETag"]},
    )
    assert again.status == 304

    # The app servers say the same of the files they serve themselves, for the current hash.
    own = hashlib.sha256(stylesheet.read_bytes()).hexdigest()[:12]
    direct = stack.direct(1).get(f"/static/css/app.css?v={own}")
    assert direct.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    outdated = stack.direct(1).get("/static/css/app.css?v=000000000000")
    assert outdated.headers["Cache-Control"] == "no-cache"

    described = browser.get("/api/v1/openapi.json", headers=gzipped)
    assert described.headers["Content-Encoding"] == "gzip"
    # Scheme and host as the client used them: X-Forwarded-Proto and -Host reach the app.
    assert described.json()["servers"][0]["url"] == f"{stack.public_base_url}/api/v1"


def _http2(stack: Stack) -> str:
    done = subprocess.run(
        ["curl", "--http2", "--silent", "--show-error", "--output", "/dev/null",
         "--write-out", "%{http_version}", "--cacert", str(stack.certificate),
         f"{stack.public_base_url}/events/{EVENT}"],
        capture_output=True,
        text=True,
        timeout=30,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


@dataclass
class Scan:
    code: str
    client_id: str
    attempts: int = 0
    status: int | None = None
    acknowledged_at: float | None = None


def _scanner(stack: Stack, todo: list[str], lock: threading.Lock, until: float, scans: list):
    """Check people in one after another, as a door scanner does: a check-in that got no
    2xx is sent again with the same client id until it gets one."""
    connection = None
    while time.monotonic() < until:
        with lock:
            if not todo:
                break
            scan = Scan(todo.pop(), str(uuid.uuid4()))
            scans.append(scan)
        give_up = time.monotonic() + 20
        while True:
            scan.attempts += 1
            try:
                connection = connection or stack.browser().connection(timeout=10)
                scan.status = stack.checkin(scan.code, scan.client_id, connection).status
            except (OSError, http.client.HTTPException):
                if connection is not None:
                    connection.close()
                connection = None
                scan.status = None
            if scan.status in (200, 201):
                scan.acknowledged_at = time.monotonic()
                break
            if scan.status not in RETRYABLE | {None} or time.monotonic() > give_up:
                break
            time.sleep(0.1)
    if connection is not None:
        connection.close()


def _checkin_load_while_a_server_dies(stack: Stack) -> None:
    todo = [stack.next_code() for _ in range(len(stack.codes) - 100)]
    scans: list[Scan] = []
    lock = threading.Lock()
    started = time.monotonic()
    scanners = [
        threading.Thread(
            target=_scanner, args=(stack, todo, lock, started + LOAD_SECONDS, scans), daemon=True
        )
        for _ in range(2)
    ]
    for scanner in scanners:
        scanner.start()
    time.sleep(LOAD_SECONDS / 3)
    stack.web[0].kill()
    killed_at = time.monotonic()
    for scanner in scanners:
        scanner.join(timeout=LOAD_SECONDS + 30)
    assert not any(scanner.is_alive() for scanner in scanners)

    rows = _query(
        stack.database_url,
        "SELECT c.client_id, r.badge_code, c.result FROM checkins c"
        " JOIN events e ON e.id = c.event_id JOIN registrations r ON r.id = c.registration_id"
        " WHERE e.slug = %s",
        EVENT,
    )
    stored: dict[str, int] = {}
    people: dict[str, int] = {}
    for client_id, code, result in rows:
        assert result == "admitted"
        stored[client_id] = stored.get(client_id, 0) + 1
        people[code] = people.get(code, 0) + 1
    acknowledged = [scan for scan in scans if scan.acknowledged_at is not None]
    lost = [scan for scan in scans if scan.acknowledged_at is None or scan.client_id not in stored]
    duplicated = sum(n - 1 for n in stored.values()) + sum(n - 1 for n in people.values())
    print(
        f"\ncheck-in load for {LOAD_SECONDS} s, one app server killed after"
        f" {killed_at - started:.1f} s: requests {sum(scan.attempts for scan in scans)},"
        f" ok {len(acknowledged)}, retried {sum(scan.attempts - 1 for scan in scans)},"
        f" lost {len(lost)}, duplicated {duplicated}"
    )
    assert not lost, [(scan.code, scan.status, scan.attempts) for scan in lost[:5]]
    assert duplicated == 0
    # Only what the scanners sent, each once.
    assert set(stored) == {scan.client_id for scan in scans}
    assert len(acknowledged) >= 50
    assert any(scan.acknowledged_at > killed_at + 1 for scan in acknowledged), (
        "nothing was checked in after the app server died"
    )


@pytest.mark.stack
@requires_stack
def test_stack_serves_over_https_and_survives_losing_an_app_server_and_redis(stack):
    assert _http2(stack) == "2"
    plain = Client(stack.ports["http"]).get(f"/events/{EVENT}")
    assert plain.status == 301
    assert plain.headers["Location"] == f"https://127.0.0.1/events/{EVENT}"

    _register_on_the_public_form(stack)

    # A session made through nginx works on each app server.
    coordinator = _sign_in(stack)
    assert coordinator.get("/manage/").status == 200
    for server in (0, 1):
        direct = stack.direct(server)
        assert direct.get("/manage/").status == 302  # not signed in there without the cookie
        direct.cookies.update(coordinator.cookies)
        assert direct.get(f"/manage/events/{EVENT}/checkin/{SITE}").status == 200

    # Failed sign-ins from one address, spread over both servers, are counted once.
    both = [stack.direct(0), stack.direct(1)]
    assert _failed_sign_ins(both, "203.0.113.10", LOGIN_LIMIT + 1) == [200] * LOGIN_LIMIT + [429]
    # Through nginx a made-up X-Forwarded-For changes nothing: nginx says who the client is.
    assert _failed_sign_ins([stack.browser()], None, LOGIN_LIMIT + 1) == (
        [200] * LOGIN_LIMIT + [429]
    )

    _check_static_files(stack)

    _checkin_load_while_a_server_dies(stack)
    stack.web[0].start()
    _wait_until_serving(stack.web[0])
    assert stack.checkin(stack.next_code(), str(uuid.uuid4())).status == 201

    stack.redis.stop()
    _start_redis(stack.redis)
    assert stack.browser().get(f"/events/{EVENT}").status == 200
    assert stack.checkin(stack.next_code(), str(uuid.uuid4())).status == 201
    # The limits count again, in the new Redis, for both servers together.
    assert _failed_sign_ins(both, "203.0.113.11", LOGIN_LIMIT + 1) == [200] * LOGIN_LIMIT + [429]


def _may_restart_postgres() -> bool:
    allowed = os.environ.get("CI") or os.environ.get("STACK_RESTART_POSTGRES") == "1"
    return os.getuid() == 0 and bool(allowed)


@pytest.mark.stack
@requires_stack
def test_stack_answers_503_while_postgres_restarts_then_recovers(stack):
    if not _may_restart_postgres():
        pytest.skip(
            "restarting PostgreSQL disturbs everything using it: runs as root with CI"
            " or STACK_RESTART_POSTGRES=1"
        )
    cluster = os.environ.get("STACK_POSTGRES_CLUSTER", "15 main").split()
    answers: list[tuple[float, int | None]] = []
    stop = threading.Event()

    def probe():
        client = stack.browser()
        while not stop.is_set():
            try:
                status = client.get(f"/events/{EVENT}").status
            except (OSError, http.client.HTTPException):
                status = None
            answers.append((time.monotonic(), status))
            time.sleep(0.02)

    probes = [threading.Thread(target=probe, daemon=True) for _ in range(2)]
    for thread in probes:
        thread.start()
    time.sleep(0.3)
    subprocess.run(["pg_ctlcluster", *cluster, "restart"], check=True, timeout=60)
    restarted = time.monotonic()
    deadline = restarted + 20
    while not any(at > restarted and status == 200 for at, status in answers):
        assert time.monotonic() < deadline, "no page answered after PostgreSQL came back"
        time.sleep(0.1)
    stop.set()
    for thread in probes:
        thread.join(timeout=20)

    statuses = [status for _, status in answers]
    print(
        f"\nPostgreSQL restart: {len(statuses)} requests, {statuses.count(200)} answered 200,"
        f" {statuses.count(503)} answered 503"
    )
    assert set(statuses) <= {200, 503}, sorted(set(statuses), key=str)
    assert 503 in statuses
    assert statuses[-1] == 200
    assert stack.checkin(stack.next_code(), str(uuid.uuid4())).status == 201


@pytest.mark.stack
@requires_stack
def test_backup_of_a_live_event_restores_registrations_and_checkins(stack):
    checked_in = stack.next_code()
    assert stack.checkin(checked_in, str(uuid.uuid4())).status == 201
    dump = stack.tmp / "hybriddesk.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", f"--file={dump}", f"--dbname={stack.database_url}"],
        check=True,
        timeout=60,
    )
    restored_name = "hybriddesk_stack_restored"
    restored = _recreate_database(restored_name)
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={restored}", str(dump)],
            check=True,
            timeout=60,
        )
        counts = (
            "SELECT (SELECT count(*) FROM registrations r JOIN events e ON e.id = r.event_id"
            " WHERE e.slug = %(slug)s),"
            " (SELECT count(*) FROM checkins c JOIN events e ON e.id = c.event_id"
            " WHERE e.slug = %(slug)s AND c.annulled_at IS NULL)"
        )
        person = (
            "SELECT r.name, r.email, r.organization, r.status, s.slug, r.manage_token,"
            " c.client_id, c.scanned_at FROM registrations r JOIN sites s ON s.id = r.site_id"
            " JOIN checkins c ON c.registration_id = r.id WHERE r.badge_code = %(code)s"
        )
        with psycopg.connect(stack.database_url) as live, psycopg.connect(restored) as copy:
            expected = live.execute(counts, {"slug": EVENT}).fetchone()
            assert copy.execute(counts, {"slug": EVENT}).fetchone() == expected
            assert expected[0] >= LOAD_CODES and expected[1] >= 1
            details = live.execute(person, {"code": checked_in}).fetchall()
            assert len(details) == 1
            assert copy.execute(person, {"code": checked_in}).fetchall() == details
    finally:
        _drop_database(restored_name)
