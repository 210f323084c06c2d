"""Error pages in the user's language, and JSON errors under /api/."""

import sqlalchemy as sa
from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.extensions import db

#: How long a client should wait before trying again once the database is unreachable.
RETRY_AFTER_SECONDS = 5


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood."),
        403: _("You do not have access to this page."),
        404: _("This page does not exist."),
        405: _("This action is not allowed here."),
        410: _("This is no longer available."),
        413: _("The file is too large."),
        422: _("The data sent could not be processed."),
        429: _("Too many attempts. Please wait a minute and try again."),
        500: _("Something went wrong on our side. Please try again."),
        503: _("The service is briefly unavailable. Please try again in a few seconds."),
    }


def wants_json() -> bool:
    return request.path.startswith("/api/")


def render_error(code: int, message: str | None = None):
    """An error page (or JSON body under /api/) with a clear message."""
    message = message or _messages().get(code, _("Something went wrong."))
    if wants_json():
        return jsonify(status="error", reason=_reason_for(code), message=message), code
    return render_template("errors/error.html", code=code, message=message), code


def _reason_for(code: int) -> str:
    return {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        410: "gone",
        413: "too_large",
        422: "invalid",
        429: "rate_limited",
        503: "unavailable",
    }.get(code, "server_error")


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, _("The form expired or was sent twice. Please try again."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        if error.response is not None:  # a page of its own, e.g. a rate-limited form kept as typed
            return error.response
        description = getattr(error, "user_message", None)
        body, code = render_error(error.code, description)
        # Keep the headers the error brings, e.g. a 405's Allow: only the body is ours.
        headers = [(name, value) for name, value in error.get_headers() if name != "Content-Type"]
        return body, code, headers

    @app.errorhandler(InternalServerError)
    def server_error(error):
        return render_error(500)

    # The database is restarting or out of reach (or a lock wait gave up): a moment later
    # the same request will most likely succeed, so say so rather than report a fault.
    @app.errorhandler(sa.exc.OperationalError)
    @app.errorhandler(sa.exc.InterfaceError)
    def database_unavailable(error: sa.exc.DBAPIError):
        current_app.logger.warning("Database unavailable: %s", error)
        try:
            db.session.rollback()
        except sa.exc.SQLAlchemyError:  # the connection is gone; the session is reset anyway
            pass
        # Who is signed in cannot be looked up: show the page as to a visitor.
        g._login_user = current_app.login_manager.anonymous_user()
        body, code = render_error(503)
        return body, code, {"Retry-After": str(RETRY_AFTER_SECONDS)}

    # Runs before Flask-SQLAlchemy's own teardown. A database that restarts closes the
    # connections of requests already answered; their ROLLBACK then fails, and the
    # answer must not turn into a 500 for that: the connection is thrown away instead.
    @app.teardown_appcontext
    def end_session_on_a_lost_connection(_error):
        try:
            db.session.remove()
        except sa.exc.DBAPIError:
            db.session.registry().invalidate()
            db.session.remove()
