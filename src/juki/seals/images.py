"""The 印影 (seal impression) as uploaded: checked, measured and normalised. Pillow only, no database.

How the size is judged (印鑑条例: a 印影 that fits in a square of 8 mm or does not fit in a square
of 25 mm is not registered):
- the upload is a scan of the impression on paper. Its resolution is the one the file records
  (PNG pHYs, JPEG JFIF/EXIF, TIFF); a file that records none is taken as scanned at
  `JUKI_SEAL_SCAN_DPI` (300 by default), which the clerk checks against the printed size shown;
- the impression is the ink: pixels clearly darker than the paper. Its bounding box (ignoring
  specks of dust) is measured in millimetres: too small when both sides are 8 mm or less, too
  large when a side exceeds 25 mm, refused when one side is more than three times the other (no
  seal is that shape: it is a line, a signature or a bad crop), and refused when the ink touches
  the edge of the scan (the impression may be cut off);
- the stored image is that box with a 1 mm margin, in 8-bit grayscale, as a fresh PNG (no
  metadata of the upload is kept), with its resolution, so it prints at its real size.
"""
from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from juki.core.errors import DomainError, ErrorCode

MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE_PX = 6000  # a 25 mm seal at 1200 dpi is ~1200 px: anything far bigger is not a seal scan
MIN_DPI, MAX_DPI = 150, 1200
MIN_MM, MAX_MM = Decimal("8"), Decimal("25")
MAX_ASPECT = 3
FORMATS = {"PNG", "JPEG", "TIFF", "BMP"}
INK_BELOW = 200  # grayscale level: paper is near white; red or black ink is well below this
MARGIN_MM = 1.0


@dataclass(frozen=True)
class SealImage:
    png: bytes  # normalised: grayscale PNG of the impression with a 1 mm margin
    sha256: str
    width_mm: Decimal  # of the impression (the ink), not of the margin
    height_mm: Decimal
    dpi: int
    dpi_from_file: bool  # False: the file recorded no resolution, JUKI_SEAL_SCAN_DPI was assumed

    @property
    def png_size_mm(self) -> tuple[float, float]:
        """The stored PNG's printed size (impression + margin), for drawing it at its real size."""
        with Image.open(io.BytesIO(self.png)) as img:
            return img.width * 25.4 / self.dpi, img.height * 25.4 / self.dpi


_TOO_BIG = "画像のファイルが大きすぎます（5MBまで）。印影の部分だけを読み取ってください。"


def _invalid(message: str) -> DomainError:
    return DomainError(ErrorCode.SEAL_IMAGE_INVALID, message, field="image")


def scan_dpi() -> int:
    return settings.JUKI_SEAL_SCAN_DPI


def _dpi_of(img: Image.Image) -> tuple[int, bool]:
    raw = img.info.get("dpi")
    if raw:
        try:
            x, y = (float(v) for v in raw)
        except (TypeError, ValueError):
            x = y = 0
        # Many programs write 72 (or 1) when they know nothing: treat those as "not recorded".
        if x > 1 and abs(x - y) < 1 and round(x) not in (72, 96):
            dpi = round(x)
            if not MIN_DPI <= dpi <= MAX_DPI:
                raise _invalid(f"画像の解像度（{dpi}dpi）では印影の大きさを正しく測れません。"
                               f"{MIN_DPI}〜{MAX_DPI}dpiで読み取り直してください（推奨 {scan_dpi()}dpi）。")
            return dpi, True
    return scan_dpi(), False


def read_upload(upload) -> bytes:
    """An uploaded file's bytes, refused by its size before it is read."""
    if upload.size > MAX_BYTES:
        raise _invalid(_TOO_BIG)
    return upload.read()


def _open(data: bytes) -> Image.Image:
    if not data:
        raise _invalid("印影の画像を選んでください。")
    if len(data) > MAX_BYTES:
        raise _invalid(_TOO_BIG)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if img.format not in FORMATS:
                raise _invalid("画像の形式は PNG・JPEG・TIFF・BMP にしてください。")
            if img.width > MAX_SIDE_PX or img.height > MAX_SIDE_PX:
                raise _invalid("画像の画素数が大きすぎます。印影の部分だけを読み取ってください。")
            img.load()
    except DomainError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombWarning,
            Image.DecompressionBombError):
        raise _invalid("画像として読み取れないファイルです。印影を読み取った画像（PNG・JPEG など）を選んでください。") from None
    return img


def _gray(img: Image.Image) -> Image.Image:
    img = ImageOps.exif_transpose(img)  # a photo taken sideways is measured upright
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)  # transparent means paper, not ink
    return img.convert("L")


def _ink_box(gray: Image.Image) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of the ink, right and bottom exclusive; None when there is none.

    A 3×3 median filter first: a speck of dust on the scanner glass must not stretch the box
    (a seal's strokes are several pixels wide at any accepted resolution, and survive it)."""
    mask = gray.point(lambda v: 255 if v < INK_BELOW else 0).filter(ImageFilter.MedianFilter(3))
    return mask.getbbox()


def _mm(px: int, dpi: int) -> Decimal:
    return (Decimal(px) * Decimal("25.4") / Decimal(dpi)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def normalise(data: bytes) -> SealImage:
    """Check an uploaded scan of a 印影 and return it normalised; refuses with SEAL_IMAGE_INVALID."""
    img = _open(data)
    dpi, from_file = _dpi_of(img)
    gray = _gray(img)
    box = _ink_box(gray)
    if box is None:
        raise _invalid("画像に印影が見つかりません。白い紙に押した印影を、明るさを変えずに読み取ってください。")
    left, top, right, bottom = box
    if left == 0 or top == 0 or right == gray.width or bottom == gray.height:
        raise _invalid("印影が画像の端で切れています。印影の周りに余白を残して読み取ってください。")
    width, height = _mm(right - left, dpi), _mm(bottom - top, dpi)
    basis = "" if from_file else f"（{dpi}dpiで読み取ったものとして計算）"
    size = f"{width}mm×{height}mm{basis}"
    if width <= MIN_MM and height <= MIN_MM:
        raise _invalid(f"印影が小さすぎます（{size}）。一辺8mmの正方形に収まる印鑑は登録できません。")
    if width > MAX_MM or height > MAX_MM:
        raise _invalid(f"印影が大きすぎます（{size}）。一辺25mmの正方形に収まらない印鑑は登録できません。")
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise _invalid(f"印影の縦横の比が印鑑として不自然です（{size}）。印影だけを正しく読み取ってください。")
    margin = round(MARGIN_MM / 25.4 * dpi)
    crop = gray.crop((max(0, left - margin), max(0, top - margin), min(gray.width, right + margin),
                      min(gray.height, bottom + margin)))
    out = io.BytesIO()
    crop.save(out, format="PNG", dpi=(dpi, dpi), optimize=True)
    png = out.getvalue()
    return SealImage(png=png, sha256=hashlib.sha256(png).hexdigest(), width_mm=width, height_mm=height, dpi=dpi,
                     dpi_from_file=from_file)
