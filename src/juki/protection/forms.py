"""The protection screens' forms: input checks only; the rules are the services'."""
from django import forms

from juki.ui.forms import Form, WarekiDateField

from .models import Level, Process, SupportMeasure


def _text(label, *, required=False, max_length=60, **attrs):
    f = forms.CharField(label=label, required=required, max_length=max_length)
    f.widget.attrs.update({"autocomplete": "off", **attrs})
    return f


class SupportForm(Form):
    person = forms.IntegerField(widget=forms.HiddenInput)  # chosen by search, never typed
    kind = forms.ChoiceField(label="種別", choices=SupportMeasure.Kind.choices)
    applied_on = WarekiDateField(label="申出日")
    provisional = forms.TypedChoiceField(
        label="登録の区分", choices=[("1", "仮支援措置（支援の必要性を確認中）"), ("0", "支援措置（確認済み）")],
        coerce=lambda v: v == "1", initial="1", widget=forms.RadioSelect)
    start = WarekiDateField(label="支援措置の開始年月日", required=False,
                            help_text="支援措置として登録する場合。省略すると申出日から。終了年月日は1年後の前日になります。")
    member_atena_numbers = _text("併せて支援を求める者の宛名番号", max_length=200,
                                 help_text="複数のときは「,」で区切ってください。")
    offender_name = _text("相手方の氏名", required=True, max_length=120)
    offender_kana = _text("相手方のフリガナ", max_length=240)
    offender_birth_date = WarekiDateField(label="相手方の生年月日", required=False)
    offender_atena_number = _text("相手方の宛名番号（住民の場合）", max_length=20, inputmode="numeric")
    offender_note = _text("相手方の住所・その他", max_length=400)

class EndForm(Form):
    reason = _text("終了の理由", required=True, max_length=200)


class RestrictionForm(Form):
    processes = forms.MultipleChoiceField(label="抑止する処理", choices=Process.choices, widget=forms.CheckboxSelectMultiple)
    scope = forms.ChoiceField(label="対象", choices=[("person", "この方"), ("household", "この方の世帯全員")],
                              initial="person", widget=forms.RadioSelect)
    level = forms.ChoiceField(label="抑止レベル", choices=Level.choices, initial=Level.ERROR)
    start = WarekiDateField(label="開始日", required=False, help_text="省略すると本日から")
    end = WarekiDateField(label="終了日（予定）", required=False,
                          help_text="終了日を過ぎても抑止は自動では終わりません。解除してください。")
    reason = _text("理由", required=True, max_length=200)
