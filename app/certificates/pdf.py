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

from reportlab.lib.colors import HexColor
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


def _draw_lines(
    canvas: Canvas,
    text: str,
    font: str,
    top: float,
    *,
    max_size: float,
    min_size: float,
    max_lines: int,
    color=INK,
    width: float = TEXT_WIDTH,
    centre: float = PAGE_WIDTH / 2,
) -> float:
    """Centred, fitted text whose first line's top is at ``top``; returns the bottom."""
    size, lines = fit_text(
        text, font, width, max_lines * max_size * LEADING, max_size, min_size, max_lines
    )
    canvas.setFont(font, size)
    canvas.setFillColor(color)
    baseline = top - size * ASCENT
    for line in lines:
        canvas.drawCentredString(centre, baseline, line)
        baseline -= size * LEADING
    return top - len(lines) * size * LEADING


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

    top = PAGE_HEIGHT - FRAME - PADDING
    top = _draw_lines(
        canvas, page.heading, bold, top, max_size=28, min_size=18, max_lines=1, color=ACCENT
    )
    top = _draw_lines(
        canvas, page.certifies, regular, top - 8 * mm, max_size=13, min_size=10, max_lines=1
    )
    top = _draw_lines(canvas, page.name, bold, top - 4 * mm, max_size=30, min_size=14, max_lines=2)
    canvas.setStrokeColor(RULE)
    canvas.line(PAGE_WIDTH / 2 - 70 * mm, top - 1.5 * mm, PAGE_WIDTH / 2 + 70 * mm, top - 1.5 * mm)
    top = _draw_lines(
        canvas, page.attended, regular, top - 5 * mm, max_size=13, min_size=10, max_lines=1
    )
    top = _draw_lines(
        canvas, page.event_title, bold, top - 3 * mm, max_size=18, min_size=11, max_lines=3
    )
    top = _draw_lines(
        canvas,
        f"{page.dates} · {page.place}",
        regular,
        top - 3 * mm,
        max_size=13,
        min_size=9,
        max_lines=2,
    )
    if page.organiser:
        top = _draw_lines(
            canvas,
            page.organiser,
            regular,
            top - 1.5 * mm,
            max_size=11,
            min_size=8,
            max_lines=1,
            color=MUTED,
        )
    if page.evidence:
        top = _draw_lines(
            canvas,
            page.evidence_heading,
            bold,
            top - 5 * mm,
            max_size=9,
            min_size=7,
            max_lines=1,
            color=MUTED,
        )
        # Only what fits above the signature and the QR.
        room = top - (FRAME + PADDING + QR_SIZE + 2 * mm)
        for line in page.evidence[: max(int(room // (8.5 * LEADING)), 0)]:
            top = _draw_lines(
                canvas, line, regular, top, max_size=8.5, min_size=6.5, max_lines=1, color=MUTED
            )
    _draw_signature(canvas, page, signature, regular)
    _draw_verification(canvas, page, regular, bold)


def _draw_signature(
    canvas: Canvas, page: CertificateData, signature: ImageReader | None, regular: str
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
    centre = left + SIGNATURE_WIDTH / 2
    below = line_y - 1.5 * mm
    if page.signer:
        below = _draw_lines(
            canvas,
            page.signer,
            regular,
            below,
            max_size=10,
            min_size=7,
            max_lines=1,
            width=SIGNATURE_WIDTH + 20 * mm,
            centre=centre,
        )
    _draw_lines(
        canvas,
        page.issued,
        regular,
        below - 0.5 * mm,
        max_size=8.5,
        min_size=6.5,
        max_lines=1,
        color=MUTED,
        width=SIGNATURE_WIDTH + 20 * mm,
        centre=centre,
    )


def _draw_verification(canvas: Canvas, page: CertificateData, regular: str, bold: str) -> None:
    """The QR in the lower right corner, with the code and the URL beside it."""
    right = PAGE_WIDTH - FRAME - PADDING
    bottom = FRAME + PADDING - 4 * mm
    draw_qr(canvas, page.verify_url, right - QR_SIZE, bottom, QR_SIZE)
    text_width = 78 * mm
    centre = right - QR_SIZE - 3 * mm - text_width / 2
    top = bottom + QR_SIZE - 6 * mm
    top = _draw_lines(
        canvas,
        page.code_label,
        regular,
        top,
        max_size=8,
        min_size=6.5,
        max_lines=1,
        color=MUTED,
        width=text_width,
        centre=centre,
    )
    top = _draw_lines(
        canvas,
        page.code,
        bold,
        top - 0.5 * mm,
        max_size=9.5,
        min_size=7,
        max_lines=1,
        width=text_width,
        centre=centre,
    )
    top = _draw_lines(
        canvas,
        page.verify_hint,
        regular,
        top - 2 * mm,
        max_size=8,
        min_size=6.5,
        max_lines=1,
        color=MUTED,
        width=text_width,
        centre=centre,
    )
    _draw_lines(
        canvas,
        page.verify_url,
        regular,
        top - 0.5 * mm,
        max_size=7.5,
        min_size=5.5,
        max_lines=2,
        color=MUTED,
        width=text_width,
        centre=centre,
    )
