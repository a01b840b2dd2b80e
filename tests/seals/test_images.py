"""The 印影 upload: what is refused, how the size is judged, what is stored."""
from __future__ import annotations

import hashlib
import io
from decimal import Decimal

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image

from juki.core.errors import DomainError, ErrorCode
from juki.seals import images

from .helpers import seal_png
from tests.helpers import TEST_ACTOR


def refused(data: bytes) -> str:
    with pytest.raises(DomainError) as e:
        images.normalise(data)
    assert e.value.code == ErrorCode.SEAL_IMAGE_INVALID and e.value.field == "image"
    return e.value.message


def test_a_15mm_seal_is_measured_and_stored_as_a_grayscale_png_with_its_resolution():
    seal = images.normalise(seal_png(15, dpi=300))
    assert (seal.width_mm, seal.height_mm) == (Decimal("15.0"), Decimal("15.0"))
    assert seal.dpi == 300 and seal.dpi_from_file
    assert seal.sha256 == hashlib.sha256(seal.png).hexdigest()
    with Image.open(io.BytesIO(seal.png)) as img:
        assert img.format == "PNG" and img.mode == "L"
        assert round(img.info["dpi"][0]) == 300
        # Cropped to the impression with a 1 mm margin on each side: 17 mm at 300 dpi.
        assert abs(img.width - round(17 / 25.4 * 300)) <= 2
    w, h = seal.png_size_mm
    assert abs(w - 17) < 0.3 and abs(h - 17) < 0.3


def test_size_is_judged_in_millimetres_whatever_the_resolution():
    for dpi in (150, 300, 600):
        assert images.normalise(seal_png(20, dpi=dpi)).width_mm == Decimal("20.0")


def test_a_file_without_a_resolution_is_taken_as_scanned_at_the_configured_dpi(settings):
    seal = images.normalise(seal_png(15, dpi=300, record_dpi=False))
    assert seal.dpi == 300 and not seal.dpi_from_file and seal.width_mm == Decimal("15.0")
    settings.JUKI_SEAL_SCAN_DPI = 600  # the same pixels read at 600 dpi: half the size, too small
    assert "小さすぎます" in refused(seal_png(15, dpi=300, record_dpi=False))


def test_jpeg_and_tiff_scans_are_accepted_and_the_metadata_is_not_kept():
    for fmt in ("JPEG", "TIFF"):
        seal = images.normalise(seal_png(12, fmt=fmt))
        assert seal.width_mm == Decimal("12.0")
        with Image.open(io.BytesIO(seal.png)) as img:
            assert img.format == "PNG" and "exif" not in img.info


def test_a_seal_that_fits_in_an_8mm_square_is_too_small():
    message = refused(seal_png(8))
    assert message == "印影が小さすぎます（8.0mm×8.0mm）。一辺8mmの正方形に収まる印鑑は登録できません。"
    assert images.normalise(seal_png(8, height_mm=9)).height_mm == Decimal("9.0")  # one side over 8 mm: it does not fit


def test_a_seal_that_does_not_fit_in_a_25mm_square_is_too_large():
    assert images.normalise(seal_png(25)).width_mm == Decimal("25.0")
    assert "大きすぎます（25.5mm×25.5mm）" in refused(seal_png(25.5))
    assert "大きすぎます" in refused(seal_png(12, height_mm=26))


def test_a_shape_no_seal_has_is_refused():
    assert "縦横の比" in refused(seal_png(24, height_mm=7))
    assert images.normalise(seal_png(24, height_mm=9)).height_mm == Decimal("9.0")  # 小判型 (oval) is fine


def test_an_impression_cut_off_at_the_edge_of_the_scan_is_refused():
    assert "端で切れています" in refused(seal_png(20, canvas_mm=18))


def test_not_an_image_empty_or_blank_is_refused():
    assert "画像として読み取れない" in refused(b"%PDF-1.4 not an image")
    assert "選んでください" in refused(b"")
    blank = io.BytesIO()
    Image.new("RGB", (300, 300), "white").save(blank, format="PNG")
    assert "印影が見つかりません" in refused(blank.getvalue())
    gif = io.BytesIO()
    Image.new("RGB", (300, 300), "white").save(gif, format="GIF")
    assert "形式" in refused(gif.getvalue())


def test_an_unlikely_resolution_is_refused():
    assert "解像度（100dpi）" in refused(seal_png(15, dpi=100))


def test_too_many_pixels_or_bytes_are_refused_before_decoding(monkeypatch):
    monkeypatch.setattr(images, "MAX_SIDE_PX", 100)
    assert "画素数が大きすぎます" in refused(seal_png(15))
    monkeypatch.setattr(images, "MAX_BYTES", 10)
    assert "5MBまで" in refused(seal_png(15))


def _rule(w: float, h: float, slack: float = 0.0) -> bool:
    """The size rule, with ``slack`` mm of doubt on each bound (a pixel either way)."""
    return (not (w <= 8 + slack and h <= 8 + slack) and w <= 25 - slack and h <= 25 - slack
            and max(w, h) <= 3 * min(w, h) - 3 * slack)


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(width=st.integers(min_value=40, max_value=280), height=st.integers(min_value=40, max_value=280),
       dpi=st.sampled_from([200, 300, 400]))
def test_the_size_rule_holds_for_any_seal(width, height, dpi):
    """Seals of any size (in tenths of a millimetre): an accepted one obeys the rule as measured and
    is measured within a pixel of what was drawn; a refused one is not clearly within the rule."""
    w, h = width / 10, height / 10
    pixel = 25.4 / dpi
    try:
        seal = images.normalise(seal_png(w, height_mm=h, dpi=dpi))
    except DomainError as e:
        assert e.code == ErrorCode.SEAL_IMAGE_INVALID
        assert not _rule(w, h, slack=2 * pixel), (w, h, e.message)
    else:
        mw, mh = float(seal.width_mm), float(seal.height_mm)
        assert _rule(mw, mh), (mw, mh)
        assert abs(mw - w) <= pixel + 0.05 and abs(mh - h) <= pixel + 0.05, (w, h, mw, mh)


def _odd_scan(mode: str, fmt: str, **save) -> bytes:
    """A 25 mm canvas at 300 dpi with a ring drawn 60 px in from each edge, in an unusual pixel mode."""
    from PIL import ImageDraw

    side = round(25 / 25.4 * 300)
    img = Image.new("L", (side, side), 255)
    ImageDraw.Draw(img).ellipse((60, 60, side - 60, side - 60), outline=0, width=10)
    if mode == "I;16":
        img = img.convert("I").point(lambda v: v * 257).convert("I;16")
    elif mode != "L":
        img = img.convert(mode)
    out = io.BytesIO()
    img.save(out, format=fmt, dpi=(300, 300), **save)
    return out.getvalue()


@pytest.mark.parametrize(("mode", "fmt", "save"), [
    ("I;16", "PNG", {}), ("I;16", "TIFF", {}), ("F", "TIFF", {}), ("CMYK", "JPEG", {}), ("1", "PNG", {}),
    ("LA", "TIFF", {}), ("P", "TIFF", {}), ("RGB", "BMP", {}), ("RGB", "TIFF", {"compression": "jpeg"}),
])
def test_scans_in_unusual_pixel_modes_are_measured(mode, fmt, save):
    seal = images.normalise(_odd_scan(mode, fmt, **save))
    # The ring spans the canvas less 2 × 60 px (+1 px of outline): 14.9 mm at 300 dpi.
    assert (seal.width_mm, seal.height_mm) == (Decimal("14.9"), Decimal("14.9")) and seal.dpi == 300
    assert Image.open(io.BytesIO(seal.png)).mode == "L"


def test_the_demo_seal_is_a_seal_the_rules_accept():
    """seals.demo draws the family name in a 15 mm circle at 300 dpi: measured as 15 mm, accepted."""
    from juki.seals import demo

    seal = images.normalise(demo.seal_image("青木"))
    assert abs(seal.width_mm - 15) < 1 and abs(seal.height_mm - 15) < 1


@override_settings(JUKI_DEMO_TOOLS=True)
def test_demo_seals_register_the_family_name_and_log_whom_they_read(fam):
    from juki.audit import gate
    from juki.audit.models import AccessLog
    from juki.seals.demo import demo_seals
    from juki.seals.models import SealRegistration

    made = demo_seals([fam["head"], fam["child"]])  # the child (born 2015) is under 15: passed over
    assert [pid for pid, _number in made] == [fam["head"]]
    assert demo_seals([fam["head"]]) == made  # again: the same registration
    with gate.open(TEST_ACTOR, function="test", perm="seal.manage"):
        assert SealRegistration.objects.get(number=made[0][1]).seal_text == "青木"
    reads = AccessLog.objects.filter(function="demo.seal_read").order_by("id")
    assert [[s.person_id for s in r.subjects.all()] for r in reads] == [[fam["head"]], [fam["child"]], [fam["head"]]]
