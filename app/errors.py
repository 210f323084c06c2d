"""Error pages in the user's language, and JSON errors under /api/."""

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError


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
        return render_error(error.code, description)

    @app.errorhandler(InternalServerError)
    def server_error(error):
        return render_error(500)
