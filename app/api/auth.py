"""Who is calling the API: a Bearer token, or a signed-in staff member's browser.

Tokens come from ``flask users token``; only their SHA-256 is stored, and the
lookup joins the token to its user in a single query. A view marked
``resolves_token_itself`` (the scanners' check-in) looks its token up in the
statement that also finds where it acts (``caller_door``), which saves a round
trip on the busiest call. The check-in page calls the same API with the session
cookie instead, and then every unsafe request must carry the page's CSRF token
in an ``X-CSRFToken`` header.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app, g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from app.checkin.services import Door, door_for_user, door_params, door_statement, find_door
from app.extensions import db
from app.models import ApiToken, StaffUser, hash_api_token, utcnow

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Endpoints anyone may read: the API's own description.
PUBLIC_ENDPOINTS = frozenset({"api.openapi"})


#: Staff users with their tokens, and the ones that identify their user: unrevoked,
#: unexpired, of an active account.
_TOKEN_HOLDERS = sa.join(StaffUser, ApiToken, ApiToken.user_id == StaffUser.id)
_VALID_TOKEN = sa.and_(
    ApiToken.token_hash == sa.bindparam("token_hash"),
    ApiToken.revoked_at.is_(None),
    ApiToken.created_at > sa.bindparam("issued_after"),
    StaffUser.is_active_user.is_(True),
)
#: Built once: a statement constructed per request costs more than running it.
_USER_FOR_TOKEN = sa.select(StaffUser).select_from(_TOKEN_HOLDERS).where(_VALID_TOKEN)
_DOOR_FOR_TOKEN = door_statement(_TOKEN_HOLDERS, _VALID_TOKEN)
_DOOR_FOR_TOKEN_WITH_SESSION = door_statement(_TOKEN_HOLDERS, _VALID_TOKEN, with_session=True)
#: Before any token was issued: no age limit.
_NO_LIMIT = datetime(2000, 1, 1, tzinfo=UTC)


def _token_params(token: str) -> dict | None:
    """The bound parameters that find the user of ``token``; None for no possible token.

    ``API_TOKEN_MAX_AGE_DAYS``, when set, makes older tokens expire.
    """
    if not token or len(token) > 200:
        return None
    max_age = current_app.config["API_TOKEN_MAX_AGE_DAYS"]
    issued_after = utcnow() - timedelta(days=int(max_age)) if max_age else _NO_LIMIT
    return {"token_hash": hash_api_token(token), "issued_after": issued_after}


def user_for_token(token: str) -> StaffUser | None:
    """The active staff user behind an unrevoked (and unexpired) API token, in one query."""
    params = _token_params(token)
    if params is None:
        return None
    return db.session.scalar(_USER_FOR_TOKEN, params)


def resolves_token_itself(view):
    """Mark a view that finds its Bearer token's user itself, through ``caller_door``.

    ``authenticate`` then leaves the token to the view, which must call
    ``caller_door`` before anything else and answer ``token_refused()`` when it
    finds no one. Until then ``api_user()`` has no user to give.
    """
    view.resolves_token_itself = True
    return view


def caller_door(
    slug: str, site_slug: str, session_id: int | None = None, code: str | None = None
) -> Door | None:
    """The caller, where they check people in and the badge presented, in one statement;
    None for a Bearer token that identifies no one.

    A Bearer token left to the view is looked up here with the event ``slug``, its
    site ``site_slug``, the agenda item ``session_id`` and the badge ``code``; a caller
    ``authenticate`` knew already (the session cookie) only needs the rest.
    """
    token = g.get("api_token")
    if token is None:
        return door_for_user(api_user(), slug, site_slug, session_id, code)
    params = _token_params(token)
    if params is None:
        return None
    statement = _DOOR_FOR_TOKEN if session_id is None else _DOOR_FOR_TOKEN_WITH_SESSION
    door = find_door(statement, {**door_params(slug, site_slug, session_id, code), **params})
    if door is not None:
        g.api_user = door.user
    return door


def token_refused():
    """The answer to a Bearer token that is unknown, expired or revoked."""
    return _unauthorized(_("This token is unknown, expired or revoked."))


def _unauthorized(message: str):
    response = jsonify(status="error", reason="unauthorized", message=message)
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="hybriddesk"'
    return response


def authenticate():
    """Runs before every API request: sets ``g.api_user`` or answers 401 (or 400 for CSRF)."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _sep, token = header.partition(" ")
        if scheme.lower() != "bearer":
            return _unauthorized(_("Use an Authorization: Bearer token."))
        view = current_app.view_functions.get(request.endpoint)
        if getattr(view, "resolves_token_itself", False):
            g.api_token = token.strip()
            return None
        user = user_for_token(token.strip())
        if user is None:
            return token_refused()
        g.api_user = user
        return None
    if current_user.is_authenticated:
        if request.method not in SAFE_METHODS:
            try:
                validate_csrf(request.headers.get("X-CSRFToken", ""))
            except ValidationError:
                response = jsonify(
                    status="error",
                    reason="csrf_failed",
                    message=_("The page expired. Reload it and try again."),
                )
                response.status_code = 400
                return response
        g.api_user = current_user._get_current_object()
        return None
    return _unauthorized(_("Sign in, or send an Authorization: Bearer token."))


def api_user() -> StaffUser:
    """The staff user making this API request."""
    return g.api_user
