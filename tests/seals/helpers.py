"""Seal impressions drawn with Pillow, as a scanner would give them."""
from __future__ import annotations

import io

from PIL import Image, ImageDraw

VERMILION = (205, 45, 40)


def seal_png(mm: float = 15.0, *, dpi: int = 300, canvas_mm: float | None = None, height_mm: float | None = None,
             record_dpi: bool = True, fmt: str = "PNG", color=VERMILION) -> bytes:
    """A round (or oval) seal impression of ``mm`` × ``height_mm`` in the middle of white paper."""
    height_mm = height_mm or mm
    canvas_mm = canvas_mm or max(mm, height_mm) + 10
    side = round(canvas_mm / 25.4 * dpi)
    w, h = round(mm / 25.4 * dpi), round(height_mm / 25.4 * dpi)
    img = Image.new("RGB", (side, side), "white")
    draw = ImageDraw.Draw(img)
    x, y = (side - w) // 2, (side - h) // 2
    stroke = max(3, round(0.8 / 25.4 * dpi))
    draw.ellipse((x, y, x + w - 1, y + h - 1), outline=color, width=stroke)
    draw.rectangle((x + w // 3, y + h // 4, x + 2 * w // 3, y + 3 * h // 4), outline=color, width=stroke)
    out = io.BytesIO()
    options = {"dpi": (dpi, dpi)} if record_dpi else {}
    img.save(out, format=fmt, **options)
    return out.getvalue()
