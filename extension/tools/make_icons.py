"""Draw the toolbar and store icons (icons/icon-{16,32,48,128}.png): a seesaw tilted from blue to red.

Run once after changing the design: `python tools/make_icons.py` with Pillow importable (for example
`pip install --target /tmp/pil pillow && PYTHONPATH=/tmp/pil python tools/make_icons.py`). Pillow is not a
project dependency; the PNGs are committed.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

SIZES = (16, 32, 48, 128)
SCALE = 512  # drawn large, then downsampled for smooth edges
BLUE, GREY, RED = (37, 99, 235), (156, 163, 175), (220, 38, 38)
BACKGROUND = (17, 24, 39)
FULCRUM = (243, 244, 246)


def lerp(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))


def draw(size: int) -> Image.Image:
    image = Image.new("RGBA", (SCALE, SCALE), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.rounded_rectangle((0, 0, SCALE - 1, SCALE - 1), radius=SCALE * 0.22, fill=BACKGROUND)
    # The fulcrum: a triangle under the beam's middle.
    cx, base = SCALE / 2, SCALE * 0.80
    pen.polygon([(cx, SCALE * 0.50), (cx - SCALE * 0.17, base), (cx + SCALE * 0.17, base)], fill=FULCRUM)
    # The beam: tilted 16 degrees, blue on the low left through grey to red on the high right.
    angle = math.radians(-16)
    half, thick = SCALE * 0.40, SCALE * 0.16
    steps = 120
    for i in range(steps):
        t0, t1 = i / steps, (i + 1) / steps
        color = lerp(BLUE, GREY, t0 * 2) if t0 < 0.5 else lerp(GREY, RED, (t0 - 0.5) * 2)
        x0, x1 = -half + 2 * half * t0, -half + 2 * half * t1 + 1
        corners = [(x0, -thick / 2), (x1, -thick / 2), (x1, thick / 2), (x0, thick / 2)]
        cos, sin, cy = math.cos(angle), math.sin(angle), SCALE * 0.44
        points = [(cx + x * cos - y * sin, cy + x * sin + y * cos) for x, y in corners]
        pen.polygon(points, fill=color)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    out = Path(__file__).resolve().parent.parent / "icons"
    out.mkdir(exist_ok=True)
    for size in SIZES:
        draw(size).save(out / f"icon-{size}.png", optimize=True)


if __name__ == "__main__":
    main()
