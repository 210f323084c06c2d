"""HybridDesk: registration, badges, check-in and attendance for hybrid events."""

import os
from pathlib import Path

from flask import Flask, request
from flask_babel import lazy_gettext as _l
from werkzeug.middleware.proxy_fix import ProxyFix

from app.extensions import babel, csrf, db, limiter, login_manager, migrate, select_locale

PROJECT_DIR = Path(__file__).resolve().parent.parent


def create_app(config_class=None) -> Flask:
    """Build the application; the config class defaults to FLASK_CONFIG or development."""
    from config import configs

    app = Flask(
        __name__,
        template_folder=str(PROJECT_DIR / "templates"),
        static_folder=str(PROJECT_DIR / "static"),
        instance_path=str(PROJECT_DIR / "instance"),
    )
    if config_class is None:
        config_class = configs[os.environ.get("FLASK_CONFIG", "development")]
    app.config.from_object(config_class() if isinstance(config_class, type) else config_class)
    Path(app.instance_path).mkdir(exist_ok=True)
    if app.config["TRUSTED_PROXIES"]:
        # Behind a reverse proxy: take the client address and scheme from its headers.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    register_guards(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    register_security_headers(app)
    register_compression(app)
    return app


#: Only this site's own scripts, styles and images run on its pages: no inline script or
#: style attribute, no plugin, no framing. The check-in page's QR reader starts its decoder
#: as a worker from a blob: URL it builds itself, hence worker-src.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "worker-src 'self' blob:",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)
#: Only the check-in page needs a device: the camera, to read badges.
PERMISSIONS_POLICY = "camera=(self), microphone=(), geolocation=()"
#: Staff downloads that list people: never kept by a browser or proxy cache.
PERSONAL_DOWNLOADS = (".csv", ".xlsx", ".pdf")


def is_personal_response() -> bool:
    """True for a participant's own pages and files (/r/<token>...) and staff lists of people.

    Their URL carries a secret or their body names people: no cache may keep them, and no
    link followed from them may tell another site where it came from.
    """
    path = request.path
    if path.startswith("/r/"):
        return True
    return path.startswith("/manage/") and path.endswith(PERSONAL_DOWNLOADS)


#: Static files a page includes, for which the document's policies are the ones that apply.
INCLUDED_TYPES = ("text/css", "text/javascript")


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def set_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if request.endpoint == "static" and response.mimetype in INCLUDED_TYPES:
            # A stylesheet or a script runs under the policies of the page that includes it
            # (the camera's worker starts from a blob: URL, under the page's too): the other
            # headers would only lengthen each of the check-in page's many small files.
            return response
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        # Other pages' links may say which page they come from, but only to this site.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if is_personal_response():
            response.headers["Cache-Control"] = "no-store"
            response.headers["Referrer-Policy"] = "no-referrer"
        return response


#: What is worth compressing: text. PDFs, images and spreadsheets are compressed already,
#: and the streamed CSV lists are left whole so that their rows reach the browser as written.
COMPRESSED_TYPES = (
    "text/html",
    "text/css",
    "text/javascript",
    "text/plain",
    "application/javascript",
    "application/json",
    "application/manifest+json",
    "image/svg+xml",
)


def register_compression(app: Flask) -> None:
    """Brotli or gzip for pages, scripts, styles and JSON, as the browser accepts them.

    nginx compresses what it serves itself (deploy/nginx/) and passes the app's compressed
    answers through untouched. Streamed responses are never compressed: a compressor holds
    back what it has not filled a block with, and a stream must arrive as it is written.
    """
    from flask_compress import Compress

    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)
    app.config.setdefault("COMPRESS_MIMETYPES", list(COMPRESSED_TYPES))
    app.config.setdefault("COMPRESS_STREAMS", False)
    Compress(app)


def register_guards(app: Flask) -> None:
    # Before the extensions' own hooks, so that nothing reads a request before it is checked.
    from app.guards import register

    register(app)


def register_extensions(app: Flask) -> None:
    from app import models  # noqa: F401  (the models must be known to Flask-Migrate)
    from app.auth.access import load_staff_user
    from app.mail import notices
    from app.mail.messages import subscribe_to_signals

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_DIR / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    # Flashed as plain text, translated into the language of the request that needed it.
    login_manager.localize_callback = str
    login_manager.user_loader(load_staff_user)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    subscribe_to_signals()
    notices.subscribe()
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from app.database import enable_sqlite_foreign_keys

        with app.app_context():
            enable_sqlite_foreign_keys(db.engine)


def register_blueprints(app: Flask) -> None:
    from app.api.routes import bp as api_bp
    from app.attendance import (  # noqa: F401  (they add views to bp)
        completion_views,
        downloads,
        import_views,
        paper_views,
        routes,
    )
    from app.attendance.blueprint import bp as attendance_bp
    from app.auth.routes import bp as auth_bp
    from app.certificates.routes import bp as certificates_bp
    from app.checkin import manifest, queue_upload  # noqa: F401  (they add views to bp)
    from app.checkin.routes import bp as checkin_bp
    from app.events.manage import bp as events_manage_bp
    from app.events.routes import bp as events_bp
    from app.invites.routes import bp as invites_bp
    from app.messages.manage import bp as messages_bp
    from app.messages.reminders_manage import bp as reminders_bp
    from app.privacy.routes import bp as privacy_bp
    from app.registrations.manage import bp as registrations_manage_bp
    from app.registrations.routes import bp as registrations_bp
    from app.sites.manage import bp as sites_bp
    from app.staff.manage import bp as staff_bp

    for blueprint in (
        events_bp,
        registrations_bp,
        invites_bp,
        auth_bp,
        events_manage_bp,
        sites_bp,
        registrations_manage_bp,
        staff_bp,
        messages_bp,
        reminders_bp,
        privacy_bp,
        checkin_bp,
        attendance_bp,
        certificates_bp,
        api_bp,
    ):
        app.register_blueprint(blueprint)
    csrf.exempt(api_bp)


def register_errorhandlers(app: Flask) -> None:
    from app.errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from app.templating import register

    register(app)


def register_commands(app: Flask) -> None:
    from app.cli import register

    register(app)
