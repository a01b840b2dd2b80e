"""A QR code as inline SVG, for the TOTP enrolment screen.

ReportLab (already used for the PDFs) encodes it; we draw the modules ourselves as one SVG path,
which is a few kilobytes instead of ReportLab's own SVG renderer's tens, and stays crisp at any size.
The code is drawn on the server: the secret never goes to a third-party service or script.
"""
from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from reportlab.graphics.barcode.qr import QrCodeWidget

QUIET_ZONE = 4  # modules of white border that readers need


def modules(text: str, level: str = "M") -> list[list[bool]]:
    """The dark (True) and light modules, row by row."""
    widget = QrCodeWidget(text, barLevel=level)
    widget.qr.make()
    return [[bool(m) for m in row] for row in widget.qr.modules]


def svg(text: str, *, size_px: int = 200, label: str = "QRコード") -> SafeString:
    grid = modules(text)
    n = len(grid) + 2 * QUIET_ZONE
    runs = []
    for y, row in enumerate(grid, start=QUIET_ZONE):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                runs.append(f"M{start + QUIET_ZONE} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" width="{size_px}" height="{size_px}" '
        f'shape-rendering="crispEdges" role="img" aria-label="{escape(label)}" class="qr">'
        f'<rect width="{n}" height="{n}" fill="#fff"/><path fill="#000" d="{"".join(runs)}"/></svg>')
