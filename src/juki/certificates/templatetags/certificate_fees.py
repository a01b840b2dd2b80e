"""`{% certificate_fees as rows %}`: the fee table for the help page, which has no view of its own
to pass it (the help view is the counter's, shared by every topic)."""
from django import template

from juki.certificates.cash import FEE_RULES, fee_table

register = template.Library()


@register.simple_tag
def certificate_fees() -> dict:
    return {"rows": fee_table(), "rules": FEE_RULES}
