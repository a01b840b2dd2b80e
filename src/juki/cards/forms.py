"""The counter's card forms: shape only (the PIN typed twice must match); the rules are the services'.

PIN fields are password inputs that are never rendered back: after a refusal the clerk asks the
resident to type the PIN again."""
from __future__ import annotations

from django import forms

from juki.certificates.forms import DOCUMENTS as CERTIFICATE_DOCUMENTS
from juki.ui.forms import Form, WarekiDateField

from .services import COUNTER_END_REASONS, REISSUE_REASONS

# The identity documents of the certificate counter, but for a 職員証: it proves an official
# requesting on duty, never that the resident is the card holder.
DOCUMENTS = [d for d in CERTIFICATE_DOCUMENTS if d != "職員証（官公署）"]


def _pin(label: str, *, autocomplete: str = "new-password") -> forms.CharField:
    # No server-side max_length: the service's own message for a wrong format is shown instead.
    return forms.CharField(label=label, strip=False, widget=forms.PasswordInput(render_value=False, attrs={
        "inputmode": "numeric", "maxlength": "4", "size": "6", "autocomplete": autocomplete, "class": "pin"}),
        error_messages={"required": f"{label}を入力してください。"})


def _text(label: str, *, required: bool = False, max_length: int = 200, **attrs) -> forms.CharField:
    field = forms.CharField(label=label, required=required, max_length=max_length,
                            error_messages={"required": f"{label}を入力してください。"})
    field.widget.attrs.update({"autocomplete": "off", **attrs})
    return field


def DocumentField(*, required: bool) -> forms.CharField:  # noqa: N802 - used like a field class
    """Free text with the usual documents offered (the page's <datalist id="documents">)."""
    return _text("確認した本人確認書類", required=required, max_length=60, list="documents",
                 placeholder="例: 運転免許証")


class CardForm(Form):
    def error_message(self) -> str:
        """The first problem, for the message at the top of the screen."""
        return next(iter(e for errors in self.errors.values() for e in errors), "入力内容を確認してください。")


class NewPinForm(CardForm):
    """A new PIN the resident types twice."""

    pin = _pin("暗証番号（数字4桁）")
    pin_confirm = _pin("暗証番号（確認のためもう一度）")

    def clean(self):
        data = super().clean()
        if data.get("pin") is not None and data.get("pin_confirm") is not None and data["pin"] != data["pin_confirm"]:
            self.add_error("pin_confirm", "確認のため入力した暗証番号が一致しません。もう一度入力してください。")
        return data


class IssueForm(NewPinForm):
    document = DocumentField(required=False)
    field_order = ["document", "pin", "pin_confirm"]


class SuspendForm(CardForm):
    reason = _text("一時停止の理由", required=True, placeholder="例: 紛失の届出（電話）")



class ResumeForm(CardForm):
    document = DocumentField(required=False)
    note = _text("備考", placeholder="例: 自宅で発見")



class UnlockForm(NewPinForm):
    document = DocumentField(required=True)
    pin = _pin("新しい暗証番号（数字4桁）")
    pin_confirm = _pin("新しい暗証番号（確認のためもう一度）")
    field_order = ["document", "pin", "pin_confirm"]


class ChangePinForm(NewPinForm):
    old_pin = _pin("現在の暗証番号", autocomplete="current-password")
    pin = _pin("新しい暗証番号（数字4桁）")
    pin_confirm = _pin("新しい暗証番号（確認のためもう一度）")
    field_order = ["old_pin", "pin", "pin_confirm"]


class ReissueForm(NewPinForm):
    reason = forms.ChoiceField(label="再交付の理由", choices=[("", "（選んでください）"), *REISSUE_REASONS.items()],
                               error_messages={"required": "再交付の理由を選んでください。"})
    document = DocumentField(required=True)
    pin = _pin("新しいカードの暗証番号（数字4桁）")
    pin_confirm = _pin("新しいカードの暗証番号（確認のためもう一度）")
    collected_on = WarekiDateField(label="元のカードの回収年月日", required=False,
                                   help_text="破損・汚損したカードを回収したとき。例: R8.11.26")
    field_order = ["reason", "document", "collected_on", "pin", "pin_confirm"]


class AbolishForm(CardForm):
    reason = forms.ChoiceField(label="廃止の理由", choices=[("", "（選んでください）"),
                                                       *[(c.value, c.label) for c in COUNTER_END_REASONS]],
                               error_messages={"required": "廃止の理由を選んでください。"})
    collected_on = WarekiDateField(label="カード回収年月日", required=False, help_text="カードを回収したとき。例: R8.11.26")
    note = _text("備考")

