"""Text helpers shared by search, matching and exports."""

import re

from unidecode import unidecode

_SPACES = re.compile(r"\s+")


def fold_for_search(text: str) -> str:
    """Lower-case ASCII with single spaces: "Şükürowa" and "sukurowa" fold alike."""
    return _SPACES.sub(" ", unidecode(text or "")).strip().lower()
