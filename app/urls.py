"""Absolute links for emails, calendar files and badges."""

from flask import current_app


def public_url(endpoint: str, **values) -> str:
    """An absolute URL under PUBLIC_BASE_URL; works outside requests too (CLI, jobs)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path
