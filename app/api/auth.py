"""Who is calling the API: a Bearer token, or a signed-in staff member's browser.

Tokens come from ``flask users token``; only their SHA-256 is stored, and the
lookup joins the token to its user in a single query. The check-in page calls
the same API with the session cookie instead, and then every unsafe request
must carry the page's CSRF token in an ``X-CSRFToken`` header.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app, g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from app.extensions import db
from app.models import ApiToken, StaffUser, hash_api_token, utcnow

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Endpoints anyone may read: the API's own description.
PUBLIC_ENDPOINTS = frozenset({"api.openapi"})


#: Built once: a statement constructed per request costs more than running it.
_USER_FOR_TOKEN = (
    sa.select(StaffUser)
    .join(ApiToken, ApiToken.user_id == StaffUser.id)
    .where(
        ApiToken.token_hash == sa.bindparam("token_hash"),
        ApiToken.revoked_at.is_(None),
        ApiToken.created_at > sa.bindparam("issued_after"),
        StaffUser.is_active_user.is_(True),
    )
)
#: Before any token was issued: no age limit.
_NO_LIMIT = datetime(2000, 1, 1, tzinfo=UTC)


def user_for_token(token: str) -> StaffUser | None:
    """The active staff user behind an unrevoked (and unexpired) API token, in one query.

    ``API_TOKEN_MAX_AGE_DAYS``, when set, makes older tokens expire.
    """
    if not token or len(token) > 200:
        return None
    max_age = current_app.config["API_TOKEN_MAX_AGE_DAYS"]
    issued_after = utcnow() - timedelta(days=int(max_age)) if max_age else _NO_LIMIT
    return db.session.scalar(
        _USER_FOR_TOKEN, {"token_hash": hash_api_token(token), "issued_after": issued_after}
    )


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
        user = user_for_token(token.strip())
        if user is None:
            return _unauthorized(_("This token is unknown, expired or revoked."))
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
