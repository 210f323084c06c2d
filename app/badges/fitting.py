"""Fitting text into a fixed box: wrapped, then shrunk, and only then cut with an ellipsis."""

from __future__ import annotations

from functools import lru_cache

from reportlab.pdfbase.pdfmetrics import stringWidth

#: Line height as a multiple of the font size.
LEADING = 1.2
ELLIPSIS = "…"


def _break_word(word: str, font: str, size: float, width: float) -> list[str]:
    """Split a word wider than the box at character boundaries."""
    pieces, current = [], ""
    for char in word:
        if current and stringWidth(current + char, font, size) > width:
            pieces.append(current)
            current = char
        else:
            current += char
    if current:
        pieces.append(current)
    return pieces


def wrap_text(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy word wrap; a word that cannot fit on a line is broken."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if stringWidth(candidate, font, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        if stringWidth(word, font, size) <= width:
            current = word
        else:
            *whole, current = _break_word(word, font, size, width)
            lines.extend(whole)
    if current:
        lines.append(current)
    return lines


def _shorten(line: str, font: str, size: float, width: float) -> str:
    while line and stringWidth(line + ELLIPSIS, font, size) > width:
        line = line[:-1]
    return line.rstrip() + ELLIPSIS


@lru_cache(maxsize=16384)
def fit_text(
    text: str,
    font: str,
    width: float,
    height: float,
    max_size: float,
    min_size: float,
    max_lines: int = 0,
) -> tuple[float, tuple[str, ...]]:
    """The largest font size at which ``text`` fits the box, and its lines.

    Sizes step down by half a point. If even ``min_size`` does not fit, the
    lines that fit are kept and the last one ends with an ellipsis.
    """
    text = " ".join(text.split())
    if not text:
        return max_size, ()
    size = max_size
    while True:
        lines = wrap_text(text, font, size, width)
        room = max(int(height // (size * LEADING)), 1)
        if max_lines:
            room = min(room, max_lines)
        if len(lines) <= room:
            return size, tuple(lines)
        if size <= min_size:
            kept = lines[:room]
            kept[-1] = _shorten(kept[-1], font, size, width)
            return size, tuple(kept)
        size = max(min_size, size - 0.5)
