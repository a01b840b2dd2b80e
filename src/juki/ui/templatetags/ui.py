from django import template

from juki.accounts.permissions import RESTRICTION_RIGHTS, Perm
from juki.core.wareki import to_wareki
from juki.ui import menu

register = template.Library()


@register.filter
def wareki(value):
    """A date in 和暦 [90]."""
    return to_wareki(value) if value else ""


@register.filter
def get(mapping, key):
    return (mapping or {}).get(key) if hasattr(mapping, "get") else None


@register.filter
def has_right(user, perm: str) -> bool:
    """`{% if request.user|has_right:"accesslog.view" %}`: show a link only to those it opens for."""
    return menu.holds(user, perm)


@register.filter
def may_open_protection(user) -> bool:
    """The person's 抑止・支援措置 link: for holders of any 抑止 right (RESTRICTION_RIGHTS) or of 支援措置."""
    return any(has_right(user, p) for p in (*RESTRICTION_RIGHTS, Perm.SUPPORT_MEASURE_MANAGE))


@register.simple_tag
def menu_entries(user) -> list[dict]:
    """The menu bar's links for `user` (`ui.menu`: each screen app registers its own)."""
    return menu.entries_for(user)
