"""Certificates of attendance as A4 landscape pages: one person's, or a sheet of many.

Both take plain ``CertificateData``, already written in its reader's language,
and return PDF bytes. Text is set in the embedded DejaVu Sans, so Turkmen and
Cyrillic names print as typed, and every text block is fitted into its box
(wrapped, then shrunk, then cut) so nothing runs off the page. The QR, drawn as
vector rectangles, carries the certificate's verification URL; an uploaded
signature is embedded once however many pages show it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO

from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from app.badges.fitting import LEADING, fit_text
from app.badges.layout import draw_qr
from app.fonts import register_fonts

PAGE_WIDTH, PAGE_HEIGHT = landscape(A4)
ACCENT = HexColor("#0b5cad")
INK = HexColor("#1b1f24")
MUTED = HexColor("#5b6470")
RULE = HexColor("#c9d3de")
#: The frame's distance from the paper's edge, and the text's from the frame.
FRAME, PADDING = 12 * mm, 14 * mm
TEXT_WIDTH = PAGE_WIDTH - 2 * (FRAME + PADDING)
QR_SIZE = 34 * mm
SIGNATURE_WIDTH, SIGNATURE_HEIGHT = 62 * mm, 20 * mm
#: DejaVu Sans rises about 0.93 em above the baseline.
ASCENT = 0.93


@dataclass(frozen=True)
class CertificateData:
    """What one certificate says, every word already in its reader's language."""

    #: "Certificate of attendance".
    heading: str
    #: "This is to certify that".
    certifies: str
    name: str
    #: "attended".
    attended: str
    event_title: str
    #: The event's dates, e.g. "12–13 June 2026".
    dates: str
    #: Where the person attended: "at the Balkan centre", "online".
    place: str
    #: "Organised by UNDP Turkmenistan", or "".
    organiser: str
    #: "How attendance was established".
    evidence_heading: str
    #: One line per day, e.g. "12 June 2026: scanned at the Balkan centre at 09:52".
    evidence: tuple[str, ...]
    #: The signer's name as printed under the signature, or "".
    signer: str
    #: "Issued on 14 June 2026".
    issued: str
    #: "Verification code".
    code_label: str
    code: str
    #: "Check it at", before the URL.
    verify_hint: str
    #: What the QR carries: <PUBLIC_BASE_URL>/verify/<code>.
    verify_url: str
    #: A PNG or JPEG image of the signature, or None.
    signature: bytes | None = None


def render_certificates(pages: Sequence[CertificateData], title: str) -> bytes:
    """One A4 landscape page per certificate, in the order given (at least one page)."""
    regular, bold = register_fonts()
    buffer = BytesIO()
    canvas = Canvas(
        buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), pageCompression=1, initialFontName=regular
    )
    canvas.setTitle(title)
    canvas.setCreator("HybridDesk")
    # The same signature on many pages is read, and embedded, once.
    readers: dict[bytes, ImageReader] = {}
    for page in pages:
        signature = None
        if page.signature:
            signature = readers.setdefault(page.signature, ImageReader(BytesIO(page.signature)))
        _draw_certificate(canvas, page, signature, regular, bold)
        canvas.showPage()
    if not pages:
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


@dataclass(frozen=True)
class Style:
    """How a block of text is set: fitted between two sizes into at most ``lines`` lines."""

    max_size: float
    min_size: float
    lines: int = 1
    bold: bool = False
    color: Color = INK


HEADING = Style(28, 18, bold=True, color=ACCENT)
CERTIFIES = Style(13, 10)
NAME = Style(30, 14, lines=2, bold=True)
ATTENDED = Style(13, 10)
EVENT_TITLE = Style(18, 11, lines=3, bold=True)
DATES_PLACE = Style(13, 9, lines=2)
ORGANISER = Style(11, 8, color=MUTED)
EVIDENCE_HEADING = Style(9, 7, bold=True, color=MUTED)
EVIDENCE = Style(8.5, 6.5, color=MUTED)
SIGNER = Style(10, 7)
ISSUED = Style(8.5, 6.5, color=MUTED)
CODE_LABEL = Style(8, 6.5, color=MUTED)
CODE = Style(9.5, 7, bold=True)
VERIFY_HINT = Style(8, 6.5, color=MUTED)
VERIFY_URL = Style(7.5, 5.5, lines=2, color=MUTED)


@dataclass
class _Column:
    """Blocks of text set one under the other, each centred on ``centre`` within ``width``."""

    canvas: Canvas
    #: The regular and the bold font's names.
    fonts: tuple[str, str]
    #: Where the next block's first line has its top.
    top: float
    width: float = TEXT_WIDTH
    centre: float = PAGE_WIDTH / 2

    def write(self, text: str, style: Style, gap: float = 0) -> None:
        """Set ``text`` ``gap`` below the block before; an empty text takes no room."""
        if not text:
            return
        font = self.fonts[style.bold]
        size, lines = fit_text(
            text,
            font,
            self.width,
            style.lines * style.max_size * LEADING,
            style.max_size,
            style.min_size,
            style.lines,
        )
        top = self.top - gap
        self.canvas.setFont(font, size)
        self.canvas.setFillColor(style.color)
        baseline = top - size * ASCENT
        for line in lines:
            self.canvas.drawCentredString(self.centre, baseline, line)
            baseline -= size * LEADING
        self.top = top - len(lines) * size * LEADING


def _draw_certificate(
    canvas: Canvas, page: CertificateData, signature: ImageReader | None, regular: str, bold: str
) -> None:
    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(2)
    canvas.rect(FRAME, FRAME, PAGE_WIDTH - 2 * FRAME, PAGE_HEIGHT - 2 * FRAME)
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.6)
    inset = FRAME + 2.5 * mm
    canvas.rect(inset, inset, PAGE_WIDTH - 2 * inset, PAGE_HEIGHT - 2 * inset)

    column = _Column(canvas, (regular, bold), top=PAGE_HEIGHT - FRAME - PADDING)
    column.write(page.heading, HEADING)
    column.write(page.certifies, CERTIFIES, gap=8 * mm)
    column.write(page.name, NAME, gap=4 * mm)
    rule_y = column.top - 1.5 * mm
    canvas.setStrokeColor(RULE)
    canvas.line(PAGE_WIDTH / 2 - 70 * mm, rule_y, PAGE_WIDTH / 2 + 70 * mm, rule_y)
    column.write(page.attended, ATTENDED, gap=5 * mm)
    column.write(page.event_title, EVENT_TITLE, gap=3 * mm)
    column.write(f"{page.dates} · {page.place}", DATES_PLACE, gap=3 * mm)
    column.write(page.organiser, ORGANISER, gap=1.5 * mm)
    if page.evidence:
        column.write(page.evidence_heading, EVIDENCE_HEADING, gap=5 * mm)
        # Only what fits above the signature and the QR.
        room = column.top - (FRAME + PADDING + QR_SIZE + 2 * mm)
        for line in page.evidence[: max(int(room // (EVIDENCE.max_size * LEADING)), 0)]:
            column.write(line, EVIDENCE)
    _draw_signature(canvas, page, signature, (regular, bold))
    _draw_verification(canvas, page, (regular, bold))


def _draw_signature(
    canvas: Canvas, page: CertificateData, signature: ImageReader | None, fonts: tuple[str, str]
) -> None:
    """The signature over a line, the signer's name under it, and the date of issue."""
    left = FRAME + PADDING
    line_y = FRAME + PADDING + 12 * mm
    if signature is not None:
        canvas.drawImage(
            signature,
            left,
            line_y + 1 * mm,
            width=SIGNATURE_WIDTH,
            height=SIGNATURE_HEIGHT,
            preserveAspectRatio=True,
            anchor="sw",
            mask="auto",
        )
    canvas.setStrokeColor(INK)
    canvas.setLineWidth(0.6)
    canvas.line(left, line_y, left + SIGNATURE_WIDTH, line_y)
    column = _Column(
        canvas,
        fonts,
        top=line_y - 1.5 * mm,
        width=SIGNATURE_WIDTH + 20 * mm,
        centre=left + SIGNATURE_WIDTH / 2,
    )
    column.write(page.signer, SIGNER)
    column.write(page.issued, ISSUED, gap=0.5 * mm)


def _draw_verification(canvas: Canvas, page: CertificateData, fonts: tuple[str, str]) -> None:
    """The QR in the lower right corner, with the code and the URL beside it."""
    right = PAGE_WIDTH - FRAME - PADDING
    bottom = FRAME + PADDING - 4 * mm
    draw_qr(canvas, page.verify_url, right - QR_SIZE, bottom, QR_SIZE)
    text_width = 78 * mm
    column = _Column(
        canvas,
        fonts,
        top=bottom + QR_SIZE - 6 * mm,
        width=text_width,
        centre=right - QR_SIZE - 3 * mm - text_width / 2,
    )
    column.write(page.code_label, CODE_LABEL)
    column.write(page.code, CODE, gap=0.5 * mm)
    column.write(page.verify_hint, VERIFY_HINT, gap=2 * mm)
    column.write(page.verify_url, VERIFY_URL, gap=0.5 * mm)
