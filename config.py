"""Configuration classes, read from the environment.

With no environment at all the app runs on SQLite under ``instance/`` and
writes outgoing mail as ``.eml`` files into ``instance/outbox/``.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _database_url(default: str) -> str:
    url = os.environ.get("DATABASE_URL", default)
    # Heroku-style URLs name the scheme "postgres", SQLAlchemy wants the driver.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")  # noqa: S105  production insists on its own
    SQLALCHEMY_DATABASE_URI = _database_url(f"sqlite:///{INSTANCE_DIR / 'hybriddesk.sqlite'}")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}

    #: Languages offered to participants; the first is the fallback.
    LANGUAGES = ("en", "ru", "tk")
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "app" / "translations")
    DEFAULT_EVENT_TIMEZONE = "Asia/Ashgabat"

    #: Absolute base of the links put into emails and calendar files.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    #: Where `flask seed-demo` keeps the demo staff passwords; unset: the instance folder.
    DEMO_LOGINS_FILE = os.environ.get("DEMO_LOGINS_FILE", "")

    MAIL_FROM = os.environ.get("MAIL_FROM", "HybridDesk <no-reply@hybriddesk.local>")
    #: Without SMTP_HOST, mail is written as .eml files into MAIL_FILE_DIR.
    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = int(os.environ.get("SMTP_PORT", "587"))
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    SMTP_STARTTLS = os.environ.get("SMTP_STARTTLS", "1") == "1"
    MAIL_FILE_DIR = os.environ.get("MAIL_FILE_DIR", str(INSTANCE_DIR / "outbox"))
    OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "8"))
    #: Seconds an SMTP connection may wait for the mail host before the try counts as failed.
    SMTP_TIMEOUT = float(os.environ.get("SMTP_TIMEOUT", "10"))
    #: Seconds a worker holds the messages it took, 20 at a time; it sends one only while at
    #: least 2 × SMTP_TIMEOUT of the hold is left. After a crash they are sent again then.
    OUTBOX_LEASE_SECONDS = int(os.environ.get("OUTBOX_LEASE_SECONDS", "300"))
    #: Seconds an idle worker waits before it looks for new work.
    WORKER_POLL_SECONDS = float(os.environ.get("WORKER_POLL_SECONDS", "1"))
    #: API tokens older than this many days stop working; 0 keeps them until revoked.
    API_TOKEN_MAX_AGE_DAYS = int(os.environ.get("API_TOKEN_MAX_AGE_DAYS", "0"))

    #: Where the rate limits are counted. memory:// counts in each process on its own, so
    #: with 4 workers every limit is 4 times looser; when several processes serve, share
    #: one Redis: RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0 (production insists).
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    #: If Redis stops answering, count in memory meanwhile rather than fail the request.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    #: Failed sign-ins per client address: loose, as a centre's coordinators share one.
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "30 per minute")
    #: Failed sign-ins per account (the email typed), from any address: stops password guessing.
    LOGIN_ACCOUNT_RATE_LIMIT = os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT", "5 per 15 minutes")
    #: Registrations made (or links re-sent) per address; a mistyped form does not count.
    REGISTER_RATE_LIMIT = os.environ.get("REGISTER_RATE_LIMIT", "20 per minute")
    #: Every registration form sent per address, good or not: a looser cap against junk floods.
    REGISTER_ATTEMPT_RATE_LIMIT = os.environ.get("REGISTER_ATTEMPT_RATE_LIMIT", "60 per minute")
    #: Certificate checks at /verify/<code> per address: plenty for people, not for guessing.
    VERIFY_RATE_LIMIT = os.environ.get("VERIFY_RATE_LIMIT", "60 per minute")

    #: How many reverse proxies sit in front of the app (for client addresses).
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None

    #: Days after a new event's end when its participants' details are anonymised; 0 keeps them.
    PERSONAL_DATA_RETENTION_DAYS = int(os.environ.get("PERSONAL_DATA_RETENTION_DAYS", "365"))
    #: Minutes before the start when an online participant's join link opens.
    JOIN_OPENS_MINUTES_BEFORE = int(os.environ.get("JOIN_OPENS_MINUTES_BEFORE", "30"))
    #: How often the live attendance dashboard refreshes itself, in milliseconds.
    DASHBOARD_REFRESH_MS = int(os.environ.get("DASHBOARD_REFRESH_MS", "5000"))
    #: Largest accepted upload for attendance-report imports, in bytes.
    MAX_CONTENT_LENGTH = 5 * 1024 * 1024


class DevelopmentConfig(Config):
    DEBUG = True


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing"  # noqa: S105
    SQLALCHEMY_DATABASE_URI = _database_url("sqlite://")
    RATELIMIT_ENABLED = False
    PUBLIC_BASE_URL = "http://localhost"


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    #: No ping before each use of a pooled connection: it would cost every request a round
    #: trip. Connections are renewed after half an hour instead, before any idle timeout of
    #: a firewall or proxy on the way; one the server closed (a restart) fails once and the
    #: pool renews itself: the check-in API then tries again (app.database), a page answers
    #: 503 with Retry-After.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_recycle": 1800}

    def __init__(self) -> None:
        if not os.environ.get("SECRET_KEY"):
            raise RuntimeError("SECRET_KEY must be set in production.")
        self.SECRET_KEY = os.environ["SECRET_KEY"]
        if self.RATELIMIT_STORAGE_URI.startswith("memory://") and (
            os.environ.get("WEB_CONCURRENCY") != "1"
        ):
            # gunicorn reads WEB_CONCURRENCY as its number of workers: 1 is a single process.
            raise RuntimeError(
                "RATELIMIT_STORAGE_URI is memory://, which each worker process counts on its "
                "own, so every rate limit would be as many times looser as there are workers. "
                "Set RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0 (a Redis all workers "
                "share), or WEB_CONCURRENCY=1 if exactly one process serves."
            )


configs = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
