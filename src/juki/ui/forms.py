"""The staff screens' base form and fields, shared by every screen app (counter, certificates,
seals, cards, protection, rights): Japanese messages that name their item, and dates in 和暦 or 西暦."""
from __future__ import annotations

from django import forms

from juki.core.wareki import InvalidDate, parse_date

DATE_HELP = "例: R7.4.1、令和7年4月1日、2025-04-01"


class Form(forms.Form):
    """No ":" after labels: Japanese forms do not use one. Messages name their item, and nothing
    typed is cut: the browser's maxlength would drop the excess silently, so the limit is checked
    here and refused with a message, as the API does (issue 12)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            item = str(field.label or "").split("（")[0]
            if isinstance(field, forms.CharField) and field.max_length:
                field.widget.attrs.pop("maxlength", None)
                field.error_messages["max_length"] = (
                    f"{item}は%(limit_value)d文字以内で入力してください（%(show_value)d文字入力されています）。")
            if str(field.error_messages.get("required")) != str(forms.Field.default_error_messages["required"]):
                continue  # a field's own message stays
            if isinstance(field, (forms.ChoiceField, forms.FileField)):
                field.error_messages["required"] = f"{item}を選んでください。"
            elif not isinstance(field, forms.BooleanField):
                field.error_messages["required"] = f"{item}を入力してください。"


class WarekiDateField(forms.Field):
    """A date typed in 和暦 or 西暦 [90]."""

    widget = forms.TextInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("help_text", DATE_HELP)
        super().__init__(*args, **kwargs)
        self.widget.attrs.update({"autocomplete": "off", "class": "date"})

    def to_python(self, value):
        value = (value or "").strip()
        if not value:
            return None
        if len(value) > 20:
            raise forms.ValidationError("日付が長すぎます。")
        try:
            return parse_date(value)
        except InvalidDate as exc:  # says why: 「昭和64年1月8日は存在しない日付です（平成元年1月8日です）…」
            raise forms.ValidationError(exc.message, code="invalid_date") from None


def text_field(label, *, required=False, max_length=60, **attrs):
    f = forms.CharField(label=label, required=required, max_length=max_length)
    f.widget.attrs.update({"autocomplete": "off", **attrs})
    return f
