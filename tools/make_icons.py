"""Draw the home-screen icons of the check-in page, static/icons/*.png, from the favicon.

static/favicon.svg is three shapes on a 32-unit grid; Pillow cannot read SVG, so they are
drawn here in the same units, scaled. Run it again after changing the favicon:

    .venv/bin/python tools/make_icons.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ICONS = Path(__file__).resolve().parent.parent / "static" / "icons"
BLUE = "#0b5cad"
#: The letter H of favicon.svg: ``M8 7h4.5v6.75h7V7H24v18h-4.5v-6.75h-7V25H8z``.
LETTER = [
    (8, 7),
    (12.5, 7),
    (12.5, 13.75),
    (19.5, 13.75),
    (19.5, 7),
    (24, 7),
    (24, 25),
    (19.5, 25),
    (19.5, 18.25),
    (12.5, 18.25),
    (12.5, 25),
    (8, 25),
]
#: Drawn this many times larger, then reduced, for smooth edges.
OVERSAMPLE = 4


def draw_icon(size: int, *, maskable: bool = False) -> Image.Image:
    """The favicon at ``size`` pixels; a maskable icon fills the square and keeps its shapes
    inside the central 80 % that every launcher's mask leaves visible."""
    canvas = size * OVERSAMPLE
    image = Image.new("RGBA", (canvas, canvas), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable:
        draw.rectangle((0, 0, canvas, canvas), fill=BLUE)
        scale, offset = canvas * 0.8 / 32, canvas * 0.1
    else:
        scale, offset = canvas / 32, 0.0

    def at(x: float, y: float) -> tuple[float, float]:
        return offset + x * scale, offset + y * scale

    if not maskable:
        draw.rounded_rectangle((*at(0, 0), *at(32, 32)), radius=7 * scale, fill=BLUE)
    draw.polygon([at(x, y) for x, y in LETTER], fill="#ffffff")
    draw.rounded_rectangle((*at(8, 27), *at(24, 29)), radius=1 * scale, fill="#f4f6f8")
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    ICONS.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        draw_icon(size).save(ICONS / f"icon-{size}.png", optimize=True)
    draw_icon(512, maskable=True).save(ICONS / "icon-maskable-512.png", optimize=True)


if __name__ == "__main__":
    main()
