"""Screen forms: shape only; the rules (periods, contractors, who may decide) are the services'."""
from __future__ import annotations

from django import forms

from juki.accounts.models import Staff
from juki.accounts.permissions import PERM_LABELS, ROLES
from juki.ui.forms import Form, WarekiDateField

from .models import Section


def _staff_choices():
    return [("", "（選択してください）")] + [
        (u.pk, f"{u.username}　{u.full_name}".strip()) for u in Staff.objects.filter(is_active=True).order_by("username")]


def _section_choices():
    return [("", "（選択してください）")] + [(s.pk, f"{s.code}　{s.name}") for s in Section.objects.order_by("code")]


class ApplicationForm(Form):
    target_kind = forms.ChoiceField(label="付与先", choices=[("user", "職員"), ("section", "所属")], initial="user",
                                    widget=forms.RadioSelect)
    target_user = forms.TypedChoiceField(label="利用者（職員）", coerce=int, required=False, empty_value=None)
    target_section = forms.TypedChoiceField(label="利用する所属", coerce=int, required=False, empty_value=None)
    role = forms.ChoiceField(label="事務分担（権限の組合せ）", required=False)
    perms = forms.MultipleChoiceField(label="個別の権限", required=False, widget=forms.CheckboxSelectMultiple,
                                      choices=list(PERM_LABELS.items()))  # catalogue order
    valid_from = WarekiDateField(label="利用期間（開始日）")
    valid_until = WarekiDateField(label="利用期間（終了日）")
    business_name = forms.CharField(label="業務名", max_length=100)
    business_outline = forms.CharField(label="業務概要", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    purpose = forms.CharField(label="利用目的", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    legal_basis = forms.CharField(label="根拠法令", max_length=200)
    applying_section = forms.TypedChoiceField(label="申請課", coerce=int)
    using_section = forms.TypedChoiceField(label="利用課", coerce=int)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        sections = _section_choices()
        self.fields["target_user"].choices = _staff_choices()
        for name in ("target_section", "applying_section", "using_section"):
            self.fields[name].choices = sections
        self.fields["role"].choices = [("", "（なし）")] + [(k, v[0]) for k, v in ROLES.items()]


class StaffChangeForm(Form):
    user = forms.TypedChoiceField(label="職員", coerce=int)
    kind = forms.ChoiceField(label="内容", choices=[("transfer", "異動（所属の変更）"), ("retire", "退職")],
                             widget=forms.RadioSelect, initial="transfer")
    section = forms.TypedChoiceField(label="異動先の所属", coerce=int, required=False, empty_value=None)
    on = WarekiDateField(label="発令日（この日から）")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = _staff_choices()
        self.fields["section"].choices = _section_choices()


class DayForm(Form):
    on = WarekiDateField(label="基準日", required=False)


# --- 委託先職員 and 作業申請 (C04) ---------------------------------------------------------------------


class ContractorForm(Form):
    user = forms.TypedChoiceField(label="利用者ID（登録済みの職員アカウント）", coerce=int)
    company = forms.CharField(label="委託先名", max_length=100,
                              help_text="登録済みの委託先は候補から選べます。新しい名前を入力すると委託先も登録されます。")
    full_name = forms.CharField(label="氏名", max_length=60)
    valid_from = WarekiDateField(label="登録期間（開始日）")
    valid_until = WarekiDateField(label="登録期間（終了日）")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = _staff_choices()
        self.fields["company"].widget.attrs.update({"list": "companies", "autocomplete": "off"})


class WorkApplicationForm(Form):
    contractor = forms.TypedChoiceField(label="委託先職員", coerce=int)
    description = forms.CharField(label="作業内容", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    valid_from = WarekiDateField(label="作業期間（開始日）")
    valid_until = WarekiDateField(label="作業期間（終了日）")

    def __init__(self, *args, contractors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contractor"].choices = [("", "（選択してください）")] + [
            (c.pk, f"{c.company.name}　{c.full_name}（{c.user.username}、{c.valid_from:%Y-%m-%d}〜{c.valid_until:%Y-%m-%d}）")
            for c in contractors]
