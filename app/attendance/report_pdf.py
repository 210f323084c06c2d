"""The attendance report as an A4 PDF, to print or attach to a donor report.

The event's facts, then per table a bar chart and the figures, arrivals over
time per site, the refused check-ins and a note on method. The charts are
drawn with reportlab.graphics from the same report the page shows.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from reportlab.graphics.shapes import Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from app.attendance.charts import arrival_steps
from app.attendance.reports import (
    AttendanceReport,
    ReportArrivals,
    ReportLine,
    ReportTable,
    methods_note,
)
from app.fonts import fit_text, register_fonts

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 40
#: The padding platypus keeps inside each page's frame.
FRAME_PADDING = 6
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN - 2 * FRAME_PADDING
#: The narrowest column of figures in the report tables, and reportlab's cell padding.
MIN_NUMBER_WIDTH, CELL_PADDING = 72, 6
#: The least room the labels of a report table keep beside its figures.
MIN_LABEL_WIDTH = 130
ACCENT = colors.HexColor("#0b5cad")
REGISTERED = colors.HexColor("#9fb7d3")
MUTED = colors.HexColor("#5b6470")
LINE = colors.HexColor("#d5dae0")
#: The bar chart: room for the values at the bars' ends, each line's height, a bar's.
BARS_RIGHT, BARS_ROW, BAR_HEIGHT, BARS_LEGEND = 36, 30, 7, 18
#: The arrivals charts, two to a row.
ARRIVALS_WIDTH, ARRIVALS_HEIGHT = (CONTENT_WIDTH - 12) / 2, 120


@dataclass(frozen=True)
class ReportFacts:
    """What the reader needs to know about the event, already in the reader's language."""

    title: str
    #: The date, the times and the time zone.
    when: str
    timezone: str
    #: The organiser's name and email, or "" when none was recorded.
    organizer: str
    #: (name, address) of each site taking part.
    sites: list[tuple[str, str]]
    #: When the report was generated, in the event's time zone.
    generated: str


@dataclass(frozen=True)
class _Styles:
    regular: str
    bold: str

    def paragraph(self, size: float = 9, *, bold: bool = False, **options) -> ParagraphStyle:
        options.setdefault("leading", size * 1.3)
        return ParagraphStyle(
            "report", fontName=self.bold if bold else self.regular, fontSize=size, **options
        )


def render_report_pdf(
    facts: ReportFacts, report: AttendanceReport, arrivals: ReportArrivals, zone: ZoneInfo
) -> bytes:
    """The report on A4 pages numbered "page 1 of 3", in the current language."""
    regular, bold = register_fonts()
    styles = _Styles(regular, bold)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 12,
        title=f"{_('Attendance report')}: {facts.title}",
        author="HybridDesk",
        pageCompression=1,
    )
    story: list = [
        Paragraph(escape(_("Attendance report")), styles.paragraph(16, bold=True)),
        Spacer(1, 4),
        Paragraph(escape(facts.title), styles.paragraph(13, bold=True)),
        Spacer(1, 8),
        _facts_table(facts, styles),
        Spacer(1, 10),
        _totals(report.total, styles),
    ]
    for table in report.tables():
        story.append(
            KeepTogether(
                [
                    _heading(table.title, styles),
                    _bars_drawing(table.lines, styles),
                    Spacer(1, 6),
                    _figures_table(table, styles),
                ]
            )
        )
    if arrivals.series:
        story += [CondPageBreak(ARRIVALS_HEIGHT + 60), _heading(_("Arrivals over time"), styles)]
        story.append(_arrivals_grid(arrivals, zone, styles))
    story.append(_heading(_("Refused check-ins"), styles))
    if report.refused:
        story.append(_refused_table(report, styles))
    else:
        story.append(Paragraph(escape(_("No check-in was refused.")), styles.paragraph()))
    note = [_heading(_("How attendance was established"), styles)]
    for paragraph in methods_note():
        note += [Paragraph(escape(paragraph), styles.paragraph(8.5)), Spacer(1, 4)]
    note.append(
        Paragraph(
            escape(
                _("Generated on %(when)s (%(zone)s)", when=facts.generated, zone=facts.timezone)
            ),
            styles.paragraph(8.5, textColor=MUTED),
        )
    )
    story.append(KeepTogether(note))
    canvasmaker = functools.partial(_NumberedCanvas, footer=facts.title, font=regular)
    document.build(story, canvasmaker=canvasmaker)
    return buffer.getvalue()


class _NumberedCanvas(Canvas):
    """Holds the pages back until the end, to print "page 2 of 3" and the event on each."""

    def __init__(self, *args, footer: str, font: str, **kwargs):
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._font = font
        self._pages: list[dict] = []

    def showPage(self):  # noqa: N802 (reportlab's name)
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        for state in self._pages:
            self.__dict__.update(state)
            self._draw_footer(len(self._pages))
            super().showPage()
        super().save()

    def _draw_footer(self, pages: int) -> None:
        page_text = _("Page %(page)d of %(pages)d", page=self._pageNumber, pages=pages)
        self.setFont(self._font, 8)
        self.setFillColor(MUTED)
        self.drawRightString(PAGE_WIDTH - MARGIN - FRAME_PADDING, MARGIN - 8, page_text)
        self.drawString(
            MARGIN + FRAME_PADDING,
            MARGIN - 8,
            fit_text(self._footer, self._font, 8, CONTENT_WIDTH - 120),
        )


def _heading(text: str, styles: _Styles) -> Paragraph:
    return Paragraph(escape(text), styles.paragraph(12, bold=True, spaceBefore=14, spaceAfter=6))


def _facts_table(facts: ReportFacts, styles: _Styles) -> Table:
    label = styles.paragraph(9, bold=True)
    value = styles.paragraph(9)
    rows = [[Paragraph(escape(_("When")), label), Paragraph(escape(facts.when), value)]]
    if facts.organizer:
        rows.append(
            [Paragraph(escape(_("Organiser")), label), Paragraph(escape(facts.organizer), value)]
        )
    if facts.sites:
        sites = "<br/>".join(
            f"<b>{escape(name)}</b>" + (f" — {escape(address)}" if address else "")
            for name, address in facts.sites
        )
        rows.append([Paragraph(escape(_("Sites")), label), Paragraph(sites, value)])
    table = Table(rows, colWidths=(100, CONTENT_WIDTH - 100))
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _totals(total: ReportLine, styles: _Styles) -> Table:
    figures = (
        (_("Registered"), str(total.registered)),
        (_("Attended"), str(total.attended)),
        (_("Attendance rate"), total.rate_text),
    )
    cells = [
        [
            Paragraph(
                f"<font size=16><b>{escape(value)}</b></font><br/>{escape(name)}",
                styles.paragraph(9, leading=18),
            )
            for name, value in figures
        ]
    ]
    table = Table(cells, colWidths=[CONTENT_WIDTH / 3] * 3)
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (0, 0), 0.5, LINE),
                ("BOX", (1, 0), (1, 0), 0.5, LINE),
                ("BOX", (2, 0), (2, 0), 0.5, LINE),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table


def _figures_table(table: ReportTable, styles: _Styles) -> Table:
    titles = table.columns()
    # Each column of figures is wide enough for the longest word of any heading, so none
    # is cut in Russian or Turkmen, leaving the labels room; where five columns cannot
    # have that much, their headings are set smaller until the words fit.
    widest = max(stringWidth(word, styles.bold, 8.5) for title in titles for word in title.split())
    room = (CONTENT_WIDTH - MIN_LABEL_WIDTH) / len(titles)
    number_width = min(room, max(MIN_NUMBER_WIDTH, widest + 2 * CELL_PADDING))
    size = min(8.5, 8.5 * (number_width - 2 * CELL_PADDING - 1) / widest)
    header = styles.paragraph(8.5, bold=True)
    header_number = styles.paragraph(size, bold=True, alignment=TA_RIGHT)
    cell = styles.paragraph(9)
    rows = [["", *(Paragraph(escape(title), header_number) for title in titles)]]
    total = table.total
    for line in [*table.lines, total]:
        style = header if line is total else cell
        rows.append([Paragraph(escape(line.label), style), *(str(v) for v in table.figures(line))])
    widths = (CONTENT_WIDTH - len(titles) * number_width, *[number_width] * len(titles))
    return _table(rows, widths, styles, total_row=True)


def _refused_table(report: AttendanceReport, styles: _Styles) -> Table:
    header = styles.paragraph(8.5, bold=True)
    cell = styles.paragraph(9)
    rows = [
        [
            Paragraph(escape(_("Reason")), header),
            Paragraph(escape(_("Where")), header),
            Paragraph(escape(_("Count")), styles.paragraph(8.5, bold=True, alignment=TA_RIGHT)),
        ]
    ]
    for refusal in report.refused:
        rows.append(
            [
                Paragraph(escape(refusal.reason), cell),
                Paragraph(escape(refusal.where), cell),
                str(refusal.count),
            ]
        )
    widths = (CONTENT_WIDTH * 0.5, CONTENT_WIDTH * 0.5 - 80, 80)
    return _table(rows, widths, styles, total_row=False)


def _table(rows: list, widths: Sequence[float], styles: _Styles, *, total_row: bool) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    commands = [
        ("FONTNAME", (0, 0), (-1, -1), styles.regular),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("ALIGN", (-1, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.75, MUTED),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, LINE),
    ]
    if total_row:
        commands += [
            ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
            ("FONTNAME", (0, -1), (-1, -1), styles.bold),
            ("LINEABOVE", (0, -1), (-1, -1), 1, MUTED),
        ]
    table.setStyle(TableStyle(commands))
    return table


def _bars_drawing(lines: Sequence[ReportLine], styles: _Styles) -> Drawing:
    """Registered and attended as a pair of bars per line, as on the report page."""
    plot_width = CONTENT_WIDTH - BARS_RIGHT
    height = BARS_LEGEND + BARS_ROW * max(len(lines), 1)
    top_value = max([1, *(max(line.registered, line.attended) for line in lines)])
    drawing = Drawing(CONTENT_WIDTH, height)
    x = 0.0
    for colour, name in ((REGISTERED, _("Registered")), (ACCENT, _("Attended"))):
        drawing.add(Rect(x, height - 10, 8, 8, fillColor=colour, strokeColor=None, strokeWidth=0))
        drawing.add(String(x + 11, height - 9, name, fontName=styles.regular, fontSize=8))
        x += 24 + stringWidth(name, styles.regular, 8)
    for index, line in enumerate(lines):
        top = height - BARS_LEGEND - index * BARS_ROW
        label = fit_text(line.label, styles.regular, 8.5, CONTENT_WIDTH)
        drawing.add(String(0, top - 8, label, fontName=styles.regular, fontSize=8.5))
        for offset, (colour, value) in enumerate(
            ((REGISTERED, line.registered), (ACCENT, line.attended))
        ):
            y = top - 11 - (offset + 1) * (BAR_HEIGHT + 1)
            length = value / top_value * plot_width
            drawing.add(
                Rect(0, y, length, BAR_HEIGHT, fillColor=colour, strokeColor=None, strokeWidth=0)
            )
            drawing.add(
                String(
                    length + 3,
                    y + 1,
                    str(value),
                    fontName=styles.regular,
                    fontSize=7,
                    fillColor=MUTED,
                )
            )
    if not lines:
        drawing.add(
            String(0, height - BARS_LEGEND - 12, _("Nobody."), fontName=styles.regular, fontSize=8)
        )
    return drawing


def _arrivals_grid(arrivals: ReportArrivals, zone: ZoneInfo, styles: _Styles) -> Table:
    caption = styles.paragraph(8.5, bold=True)
    cells = []
    for series in arrivals.series:
        line = series.line
        text = f"{escape(line.label)} · {line.attended} / {line.registered}"
        cells.append(
            [
                Paragraph(text, caption),
                _arrivals_drawing(
                    series.points, arrivals.start, arrivals.end, line.registered, zone, styles
                ),
            ]
        )
    rows = [cells[index : index + 2] for index in range(0, len(cells), 2)]
    if len(rows[-1]) == 1:
        rows[-1].append("")
    table = Table(rows, colWidths=[ARRIVALS_WIDTH + 6] * 2)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    return table


def _arrivals_drawing(
    points: list[tuple[datetime, int]],
    start: datetime,
    end: datetime,
    expected: int,
    zone: ZoneInfo,
    styles: _Styles,
) -> Drawing:
    """Cumulative arrivals as a step line, the expected number dashed: the dashboard's chart."""
    left, bottom, right, top = 24, 14, 6, 6
    plot_width = ARRIVALS_WIDTH - left - right
    plot_height = ARRIVALS_HEIGHT - bottom - top
    steps = arrival_steps(points, start, end, expected)
    top_value = steps.top

    def x(share: float) -> float:
        return left + share * plot_width

    def y(value: int) -> float:
        return bottom + value / top_value * plot_height

    drawing = Drawing(ARRIVALS_WIDTH, ARRIVALS_HEIGHT)
    drawing.add(Line(left, bottom, left + plot_width, bottom, strokeColor=LINE))
    drawing.add(Line(left, bottom, left, bottom + plot_height, strokeColor=LINE))
    tick = {"fontName": styles.regular, "fontSize": 7, "fillColor": MUTED}
    drawing.add(String(left - 3, bottom - 2, "0", textAnchor="end", **tick))
    drawing.add(
        String(left - 3, bottom + plot_height - 6, str(top_value), textAnchor="end", **tick)
    )
    drawing.add(String(left, 2, f"{start.astimezone(zone):%H:%M}", **tick))
    drawing.add(
        String(left + plot_width, 2, f"{end.astimezone(zone):%H:%M}", textAnchor="end", **tick)
    )
    if expected:
        drawing.add(
            Line(
                left,
                y(expected),
                left + plot_width,
                y(expected),
                strokeColor=MUTED,
                strokeWidth=0.75,
                strokeDashArray=[3, 2],
            )
        )
    if points:
        path = [coordinate for share, value in steps.corners for coordinate in (x(share), y(value))]
        drawing.add(PolyLine(path, strokeColor=ACCENT, strokeWidth=1.5))
    else:
        drawing.add(
            String(
                left + plot_width / 2,
                bottom + plot_height / 2,
                _("No arrivals yet"),
                textAnchor="middle",
                **tick,
            )
        )
    return drawing
