"""Forms of the login screens: password + terminal, one-time password, password change."""
from __future__ import annotations

from django import forms

from .forms import Form, LoginForm as _BaseLoginForm, _text


class LoginForm(_BaseLoginForm):
    # A contractor's staff name the approved work application they work under (C04).
    work_application = _text("作業申請番号（委託事業者の方のみ）", max_length=40)


class OtpForm(Form):
    otp = forms.CharField(
        label="ワンタイムパスワード", min_length=6, max_length=6,
        help_text="認証アプリに表示される6桁の数字を入力してください。",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]{6}",
                                      "autofocus": "autofocus", "maxlength": "6"}))

    def clean_otp(self):
        value = self.cleaned_data["otp"].strip()
        if not value.isdigit():
            raise forms.ValidationError("6桁の数字で入力してください。")
        return value


def _password(label, autocomplete, **attrs):
    return forms.CharField(label=label, max_length=200, strip=False,
                           widget=forms.PasswordInput(attrs={"autocomplete": autocomplete, **attrs}))


class PasswordChangeForm(Form):
    current = _password("現在のパスワード", "current-password", autofocus="autofocus")
    new = _password("新しいパスワード", "new-password")
    new_again = _password("新しいパスワード（確認）", "new-password")

    def clean(self):
        data = super().clean()
        if data.get("new") and data.get("new_again") and data["new"] != data["new_again"]:
            self.add_error("new_again", "確認のため入力したパスワードが一致しません。")
        return data
