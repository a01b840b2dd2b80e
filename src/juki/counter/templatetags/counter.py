from django import template

from juki.core.wareki import to_wareki

register = template.Library()


@register.filter
def wareki(value):
    """A date in 和暦 [90]."""
    return to_wareki(value) if value else ""


@register.filter
def get(mapping, key):
    return (mapping or {}).get(key) if hasattr(mapping, "get") else None
