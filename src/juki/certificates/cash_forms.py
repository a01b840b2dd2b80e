"""The 日計表's pickers: the day (和暦 typed, like the 交付履歴) and the terminal."""
from __future__ import annotations

from django import forms

from juki.accounts.models import Terminal
from juki.ui.forms import Form, WarekiDateField


class CashForm(Form):
    day = WarekiDateField(label="交付日", required=False)
    terminal = forms.ChoiceField(label="端末", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["terminal"].choices = [("", "すべての端末")] + [
            (t.code, f"{t.code} {t.name}（{t.location}）") for t in Terminal.objects.order_by("code")]
