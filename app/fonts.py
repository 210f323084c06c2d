"""The embedded Unicode font used by every generated PDF.

The fourteen built-in PDF fonts cannot print Turkmen letters such as ň or any
Cyrillic, so badges and sign-in sheets embed DejaVu Sans (vendored, with its
licence, under static/vendor/dejavu).
"""

from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "vendor" / "dejavu"
REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"


@cache
def register_fonts() -> tuple[str, str]:
    """Register the regular and bold faces with reportlab once per process."""
    pdfmetrics.registerFont(TTFont(REGULAR, str(FONT_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD)
    return REGULAR, BOLD


def fit_text(text: str, font: str, size: float, width: float) -> str:
    """Cut text to one line of the given width, with an ellipsis when it was cut."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"
