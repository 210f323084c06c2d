"""Absolute links for emails, calendar files and badges, and safe targets for redirects."""

import re
from urllib.parse import urlsplit

from flask import current_app

#: Never in a local path: the tabs and line breaks browsers drop (so "/\t/evil.example"
#: reads "//evil.example"), backslashes they read as "/", spaces and other controls.
_UNSAFE_IN_TARGET = re.compile(r"[\x00-\x20\x7f\\]")


def public_url(endpoint: str, **values) -> str:
    """An absolute URL under PUBLIC_BASE_URL; works outside requests too (CLI, jobs)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def safe_redirect_target(target: str | None, fallback: str) -> str:
    """``target`` if it is a path on this site, else ``fallback``.

    Only a path from the root ("/manage/...") is kept: no scheme, no host, no
    "//", and none of the characters a browser would drop or read as a slash.
    """
    if not target or _UNSAFE_IN_TARGET.search(target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target
