"""QR codes for badges: the badge code, as PNG, SVG or a module matrix for PDFs.

Badge codes are upper-case base32, which QR alphanumeric mode packs into a
small symbol (version 2, 25 x 25 modules, for a 32-character code) that
scans quickly from paper or a phone screen. Error correction M survives a
crease or a scratch.
"""

from __future__ import annotations

from functools import lru_cache
from io import BytesIO

import qrcode
import qrcode.util
from qrcode.image.svg import SvgPathFillImage

#: Light modules around the symbol, as the QR specification asks.
QUIET_ZONE = 4
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
#: The mask for symbols that are not badge codes (links, such as a certificate's). Any of
#: the eight masks is valid; weighing them all costs qrcode some 15 ms for a link-sized
#: symbol, most of the time a 1,000-page certificate sheet takes, and at the printed
#: size any of them scans.
LINK_MASK = 0


def _qr(code: str, box_size: int = 10) -> qrcode.QRCode:
    alphanumeric = qrcode.util.RE_ALPHA_NUM.fullmatch(code.encode("ascii", "replace"))
    qr = qrcode.QRCode(
        error_correction=ERROR_CORRECTION,
        box_size=box_size,
        border=QUIET_ZONE,
        mask_pattern=None if alphanumeric else LINK_MASK,
    )
    if alphanumeric:
        qr.add_data(qrcode.util.QRData(code, mode=qrcode.util.MODE_ALPHA_NUM))
    else:
        # A link, or a code typed in lower case: let qrcode pick the mode.
        qr.add_data(code)
    qr.make(fit=True)
    return qr


@lru_cache(maxsize=4096)
def qr_matrix(code: str) -> tuple[tuple[bool, ...], ...]:
    """The dark (True) and light modules, without the quiet zone."""
    qr = _qr(code)
    qr.border = 0
    return tuple(tuple(row) for row in qr.get_matrix())


@lru_cache(maxsize=1024)
def qr_png(code: str, box_size: int = 10) -> bytes:
    """The QR as a black-on-white PNG, ``box_size`` pixels per module."""
    buffer = BytesIO()
    _qr(code, box_size).make_image().save(buffer)
    return buffer.getvalue()


@lru_cache(maxsize=1024)
def qr_svg(code: str) -> bytes:
    """The QR as an SVG with a white background, which scales to any size."""
    buffer = BytesIO()
    _qr(code).make_image(image_factory=SvgPathFillImage).save(buffer)
    return buffer.getvalue()
