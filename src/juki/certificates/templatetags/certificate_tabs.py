"""`{% certificate_tabs p "copy" %}`: the 総合証明 [S7] tabs above a person's certificate screens —
住民票の写し等, 転出証明書 (only for a person with a 転出), 住民票コード通知票 and 印鑑登録証明書 (when
that screen exists). ``p`` is the person dict of the screen; the second argument names the tab
shown ("copy", "move_out", "code_notice", "seal"). Other apps' certificate screens may use it too."""
from django import template

from juki.certificates.move_out import has_move_out

register = template.Library()


@register.inclusion_tag("certificates/_tabs.html")
def certificate_tabs(person: dict, current: str) -> dict:
    return {"p": person, "current": current, "move_out": has_move_out(person)}
