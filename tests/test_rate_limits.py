"""Sign-in limits: counted once for every server, per account, and only for failures."""

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from app import create_app
from app.extensions import db
from app.models import Role
from config import ProductionConfig
from tests.conftest import PASSWORD, Auth, Config, make_staff

PROJECT_DIR = Path(__file__).resolve().parent.parent
#: Low limits, so that a test reaches them in a few requests.
ADDRESS_LIMIT = "6 per minute"
ACCOUNT_LIMIT = "3 per 15 minutes"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    """A Redis of its own on a free loopback port, for this module only."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("needs redis-server on PATH (Debian: apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(  # noqa: S603  a fixed program and arguments
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path_factory.mktemp("redis"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise
            time.sleep(0.05)
    yield url
    client.close()
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def redis_url(redis_server):
    """The module's Redis, emptied for each test."""
    client = redis.Redis.from_url(redis_server)
    client.flushdb()
    client.close()
    return redis_server


@pytest.fixture(params=["memory", "redis"])
def storage_uri(request):
    """Each in-process test runs with the default storage and with Redis."""
    if request.param == "memory":
        return "memory://"
    return request.getfixturevalue("redis_url")


@pytest.fixture
def limited(app, storage_uri):
    """The app with its sign-in limits on, and low."""

    class LimitedConfig(Config):
        RATELIMIT_ENABLED = True
        RATELIMIT_STORAGE_URI = storage_uri
        LOGIN_RATE_LIMIT = ADDRESS_LIMIT
        LOGIN_ACCOUNT_RATE_LIMIT = ACCOUNT_LIMIT

    limited = create_app(LimitedConfig)
    yield limited
    with limited.app_context():
        db.engine.dispose()


def sign_in(app, email: str, password: str = PASSWORD):
    """One sign-in from a browser of its own; every browser here has the same address."""
    return Auth(app.test_client()).login(email, password)


# One Limiter serves every app in a process, with the storage of the app made last, so two
# apps in one process would share even memory://. Two servers are two processes, here each
# reading sign-ins from its input and answering the status of each.
SERVER = """
import json, sys
from app import create_app
from config import TestingConfig

settings = json.loads(sys.argv[1])


class Server(TestingConfig):
    SQLALCHEMY_DATABASE_URI = settings["database"]
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = settings["storage"]
    LOGIN_RATE_LIMIT = settings["address_limit"]
    LOGIN_ACCOUNT_RATE_LIMIT = settings["account_limit"]
    WTF_CSRF_ENABLED = False  # the form token is tested elsewhere; here only the limits count


app = create_app(Server)
print("ready", flush=True)
for line in sys.stdin:
    email, password = json.loads(line)
    response = app.test_client().post("/manage/login", data={"email": email, "password": password})
    print(response.status_code, flush=True)
"""


class Server:
    """The app in a process of its own, sharing the tests' database."""

    def __init__(self, storage: str, log: Path) -> None:
        settings = {
            "database": Config.SQLALCHEMY_DATABASE_URI,
            "storage": storage,
            "address_limit": ADDRESS_LIMIT,
            "account_limit": ACCOUNT_LIMIT,
        }
        self.log = log
        with log.open("w") as errors:
            self.process = subprocess.Popen(  # noqa: S603  this Python, running the script above
                [sys.executable, "-c", SERVER, json.dumps(settings)],
                cwd=PROJECT_DIR,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )

    def _answer(self) -> str:
        line = self.process.stdout.readline().strip()
        assert line, self.log.read_text()
        return line

    def sign_ins(self, *sign_ins: tuple[str, str]) -> list[int]:
        codes = []
        for sign_in in sign_ins:
            self.process.stdin.write(json.dumps(sign_in) + "\n")
            self.process.stdin.flush()
            codes.append(int(self._answer()))
        return codes

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)
        self.process.stdout.close()


@pytest.fixture
def start_servers(app, tmp_path):
    """Start servers side by side, each with its storage; they stop after the test."""
    started: list[Server] = []

    def start(*storages: str) -> list[Server]:
        servers = [Server(uri, tmp_path / f"server{n}.log") for n, uri in enumerate(storages)]
        started.extend(servers)
        for server in servers:
            assert server._answer() == "ready"
        return servers

    yield start
    for server in started:
        server.stop()


#: A guess at an account that does not exist: it counts as any failed sign-in does.
WRONG = ("nobody@example.org", "a guess")


def test_two_servers_sharing_redis_share_one_failed_sign_in_limit(start_servers, redis_url):
    first, second = start_servers(redis_url, redis_url)

    assert first.sign_ins(WRONG, WRONG) == [200, 200]
    assert second.sign_ins(WRONG, WRONG) == [200, 429]
    assert first.sign_ins(WRONG) == [429]


def test_two_servers_counting_in_memory_each_allow_the_whole_limit(start_servers):
    """Why production wants Redis: each process keeps counts of its own."""
    first, second = start_servers("memory://", "memory://")

    assert first.sign_ins(WRONG, WRONG, WRONG) == [200, 200, 200]
    assert second.sign_ins(WRONG, WRONG, WRONG) == [200, 200, 200]


def test_a_server_whose_redis_is_gone_still_limits_and_never_fails(start_servers):
    make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",))
    (server,) = start_servers(f"redis://127.0.0.1:{free_port()}/0")
    guess = ("ahal@example.org", "a wrong guess")

    codes = server.sign_ins(guess, guess, guess, guess, ("ahal@example.org", PASSWORD))

    assert codes == [200, 200, 200, 429, 429]


def test_failed_sign_ins_lock_that_account_but_not_a_colleague_at_the_same_address(limited):
    make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",))
    make_staff("ahal2@example.org", Role.COORDINATOR, sites=("ahal",))

    codes = [sign_in(limited, "ahal@example.org", "a wrong guess").status_code for _ in range(3)]
    assert codes == [200, 200, 200]

    locked = sign_in(limited, "Ahal@Example.org ")  # the right password, typed otherwise
    assert locked.status_code == 429
    page = locked.get_data(as_text=True)
    assert "Too many failed sign-ins to this account. Please try again in 15 minutes." in page
    assert 'value="Ahal@Example.org "' in page  # the form as typed, to try again later

    assert sign_in(limited, "ahal2@example.org").status_code == 302


def test_an_unknown_email_is_locked_like_a_real_one(limited):
    codes = [sign_in(limited, "nobody@example.org", "a guess").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_successful_sign_ins_do_not_count(limited):
    make_staff("ahal@example.org", Role.COORDINATOR, sites=("ahal",))
    make_staff("ahal2@example.org", Role.COORDINATOR, sites=("ahal",))

    # A morning at a centre: everyone signs in, more often than either limit allows.
    codes = [sign_in(limited, email).status_code for email in ["ahal@example.org"] * 4]
    codes += [sign_in(limited, "ahal2@example.org").status_code for _ in range(4)]
    assert codes == [302] * 8

    # Failures from the address still count, whoever they are for.
    failures = [f"guess{n}@example.org" for n in range(7)]
    codes = [sign_in(limited, email, "a guess").status_code for email in failures]
    assert codes == [200] * 6 + [429]
    page = sign_in(limited, "ahal@example.org").get_data(as_text=True)
    assert "Too many attempts. Please wait a minute and try again." in page


def production(monkeypatch, storage: str, workers: str | None):
    """ProductionConfig as the environment would give it: a key, a storage, some workers."""
    monkeypatch.setenv("SECRET_KEY", "a production secret")
    if workers is None:
        monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    else:
        monkeypatch.setenv("WEB_CONCURRENCY", workers)

    class Production(ProductionConfig):
        SQLALCHEMY_DATABASE_URI = "sqlite://"
        RATELIMIT_STORAGE_URI = storage

    return Production


@pytest.mark.parametrize("workers", ["4", None])
def test_production_refuses_to_count_limits_in_memory_for_several_workers(monkeypatch, workers):
    config = production(monkeypatch, "memory://", workers)
    with pytest.raises(RuntimeError) as refusal:
        create_app(config)
    message = str(refusal.value)
    assert "RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0" in message
    assert "WEB_CONCURRENCY=1" in message


@pytest.mark.parametrize(
    ("storage", "workers"), [("memory://", "1"), ("redis://127.0.0.1:6379/0", "4")]
)
def test_production_starts_with_redis_or_with_one_process(monkeypatch, storage, workers):
    app = create_app(production(monkeypatch, storage, workers))
    assert app.config["RATELIMIT_STORAGE_URI"] == storage
