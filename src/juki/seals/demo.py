"""Demo seals: an impression of the family name, drawn as a scanner would give it, registered for
the demo residents who get a city card (so the kiosk's 印鑑登録証明書 can be tried). Demo only."""
from __future__ import annotations

import io

from django.conf import settings
from PIL import Image, ImageDraw, ImageFont

from juki.audit import gate
from juki.audit.gate import Actor
from juki.core.errors import DomainError, ErrorCode
from juki.core.pdf import MINCHO, font_file
from juki.register.models import Person

from .models import RegistrationMethod, SealRegistration, SealState
from .services import seal_register

VERMILION = (200, 40, 40)


def seal_image(text: str, *, mm: float = 15.0, dpi: int = 300) -> bytes:
    """A round seal of ``mm`` with ``text`` (one to three characters) set top to bottom, as a PNG
    that records its resolution (so the seal measures ``mm``)."""
    px = round(mm / 25.4 * dpi)
    margin = round(5 / 25.4 * dpi)
    side = px + 2 * margin
    img = Image.new("RGB", (side, side), "white")
    draw = ImageDraw.Draw(img)
    stroke = max(3, round(0.7 / 25.4 * dpi))
    draw.ellipse((margin, margin, margin + px - 1, margin + px - 1), outline=VERMILION, width=stroke)
    chars = list(text)[:3] or ["印"]
    size = round(px * 0.78 / len(chars))
    font = ImageFont.truetype(font_file(MINCHO), size)
    top = margin + (px - size * len(chars)) // 2
    for i, ch in enumerate(chars):
        draw.text((side // 2, top + i * size + size // 2), ch, fill=VERMILION, font=font, anchor="mm")
    out = io.BytesIO()
    img.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()


def demo_seals(person_ids: list[int]) -> list[tuple[int, str]]:
    """Register a seal of the family name for each person who has none: [(person id, 印鑑番号)]."""
    if not getattr(settings, "JUKI_DEMO_TOOLS", False):
        raise DomainError(ErrorCode.PERMISSION_DENIED, "デモ用の印鑑登録はデモ環境でだけ作れます。")
    actor = Actor.system_actor("demo_seals")
    made = []
    for person_id in person_ids:
        with gate.open(actor, function="demo.seal_read", perm="seal.manage") as session:
            session.record([person_id])
            family = Person.objects.select_related("current").get(pk=person_id).current.family_name
            kept = SealRegistration.objects.filter(person_id=person_id, state=SealState.REGISTERED).first()
        if kept is not None:  # from an earlier start of the demo
            made.append((person_id, kept.number))
            continue
        try:
            reg = seal_register(actor=actor, person_id=person_id, method=RegistrationMethod.IDENTITY_DOCUMENT,
                                image=seal_image(family), seal_text=family, documents=["運転免許証"], seal_checked=True)
        except DomainError:
            continue  # already registered, under 15, or any other refusal: the demo goes on without it
        made.append((person_id, reg["number"]))
    return made
