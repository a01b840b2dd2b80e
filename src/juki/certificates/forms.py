"""The counter's 交付申請 form: what the clerk ticks, turned into the service's Options and Request.

Shape only; who may get what is `entitlement.check`'s (the service's) decision, whose Japanese
messages the screen shows."""
from __future__ import annotations

from django import forms

from juki.ui.forms import Form, WarekiDateField

from .content import FOREIGN_ITEMS, FORMS, LAYOUTS, REMOVED_FORMS, Options
from .entitlement import REQUEST_KINDS, Request
from .models import RequesterKind

ALERT_ACKNOWLEDGEMENT = "アラートの内容を確認しました（交付の記録に残ります）"

# The identity documents a counter usually sees; anything else goes in 「その他」.
DOCUMENTS = ["運転免許証", "マイナンバーカード", "旅券", "在留カード・特別永住者証明書", "健康保険の資格確認書等（2点）",
             "社員証・学生証等", "職員証（官公署）"]


def _text(label: str, max_length: int, **attrs) -> forms.CharField:
    field = forms.CharField(label=label, required=False, max_length=max_length)
    field.widget.attrs.update({"autocomplete": "off", **attrs})
    return field


class IssueForm(Form):
    form = forms.ChoiceField(label="証明書の種類", widget=forms.RadioSelect)
    layout = forms.ChoiceField(label="様式", widget=forms.RadioSelect, choices=list(LAYOUTS.items()))
    persons = forms.MultipleChoiceField(label="記載する方", widget=forms.CheckboxSelectMultiple,
                                        error_messages={"required": "証明書に記載する方を選んでください。"})
    history = forms.BooleanField(label="履歴（異動の経過）", required=False)
    head_and_relationship = forms.BooleanField(label="世帯主・続柄", required=False)
    domicile = forms.BooleanField(label="本籍・筆頭者", required=False)
    resident_code = forms.BooleanField(label="住民票コード", required=False)
    my_number = forms.BooleanField(label="個人番号", required=False)
    foreign_items = forms.MultipleChoiceField(label="外国人住民の記載事項", required=False,
                                              widget=forms.CheckboxSelectMultiple, choices=list(FOREIGN_ITEMS.items()))
    official = forms.BooleanField(label="公用（手数料なし）", required=False)

    kind = forms.ChoiceField(label="請求者の種別", widget=forms.RadioSelect, choices=REQUEST_KINDS,
                             error_messages={"required": "請求者の種別を選んでください。"})
    requester_person = forms.ChoiceField(label="請求者（世帯員から選ぶ）", required=False)
    requester_name = _text("請求者の氏名（官公署は名称）", 120)
    requester_kana = _text("フリガナ", 240)
    requester_birth_date = WarekiDateField(label="請求者の生年月日", required=False)
    documents = forms.MultipleChoiceField(label="確認した本人確認書類", required=False,
                                          widget=forms.CheckboxSelectMultiple, choices=[(d, d) for d in DOCUMENTS])
    documents_other = _text("その他の書類", 60, placeholder="例: 年金手帳")
    power_of_attorney = forms.BooleanField(label="委任状を確認した", required=False)
    purpose = _text("利用目的（第三者は正当な理由）", 400, placeholder="例: 年金の手続きのため")
    legal_basis = _text("根拠法令（国・地方公共団体）", 200, placeholder="例: 国民健康保険法第113条の2")
    # Shown only under an アラート-level 抑止(証明書交付) [410]; the issue is refused until it is ticked.
    acknowledge_alert = forms.BooleanField(label=ALERT_ACKNOWLEDGEMENT, required=False)

    def __init__(self, *args, person: dict, members: list[dict], requesters: list[dict], can_my_number: bool,
                 **kwargs):
        self.person = person
        self.members = members
        self.removed = person.get("status") == "removed"
        super().__init__(*args, **kwargs)
        forms_offered = REMOVED_FORMS if self.removed else set(FORMS) - REMOVED_FORMS
        self.fields["form"].choices = [(k, v) for k, v in FORMS.items() if k in forms_offered]
        ids = [(str(m["person_id"]), _name(m)) for m in members]
        self.fields["persons"].choices = ids
        self.fields["requester_person"].choices = [(str(m["person_id"]), _name(m)) for m in requesters]
        self.can_my_number = can_my_number
        if not can_my_number:
            self.fields["my_number"].disabled = True
        self.has_foreign = any(m.get("foreign") for m in members)
        if not self.is_bound:
            self.initial.update({
                "form": "removed_copy" if self.removed else "copy",
                "layout": "individual" if self.removed else "household",
                "persons": [str(m["person_id"]) for m in members],  # 世帯全員
                "kind": RequesterKind.SELF, "requester_person": str(person["person_id"]),
            })

    @property
    def item_fields(self):
        """The items printed only when chosen [1000], in the order of the form."""
        return [self[name] for name in ("head_and_relationship", "domicile", "resident_code", "my_number", "history")]

    def error_message(self) -> str:
        """All the form's errors as one line for the counter's message area."""
        parts = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else ""
            parts += [f"{label}: {e}" if label else e for e in errors]
        return "入力内容を確認してください。" + " ".join(parts)

    def call(self, household_id: int | None) -> tuple[Options, int | None, list[int], Request]:
        """(options, household_id, person_ids, request) for `certificate_issue` / `certificate_preview`."""
        d = self.cleaned_data
        chosen = [int(p) for p in d["persons"]]
        everyone = [m["person_id"] for m in self.members]
        household = d["layout"] == "household"
        # 世帯連記式 with every member ticked: () means 世帯全員 (the title says so).
        person_ids = [] if household and set(chosen) == set(everyone) else chosen
        options = Options(form=d["form"], layout=d["layout"], person_ids=tuple(person_ids), history=d["history"],
                          head_and_relationship=d["head_and_relationship"], domicile=d["domicile"],
                          resident_code=d["resident_code"], my_number=bool(d.get("my_number")) and self.can_my_number,
                          foreign_items=frozenset(d["foreign_items"]) if self.has_foreign else frozenset(),
                          official=d["official"])
        resident_kind = d["kind"] in (RequesterKind.SELF, RequesterKind.HOUSEHOLD)
        documents = list(d["documents"])
        if d["documents_other"].strip():
            documents.append(d["documents_other"].strip())
        request = Request(
            kind=d["kind"],
            requester_person_id=int(d["requester_person"]) if resident_kind and d["requester_person"] else None,
            requester_name="" if resident_kind else d["requester_name"].strip(),
            requester_kana="" if resident_kind else d["requester_kana"].strip(),
            requester_birth_date=None if resident_kind else d["requester_birth_date"],
            documents=tuple(documents), power_of_attorney=d["power_of_attorney"], purpose=d["purpose"].strip(),
            legal_basis=d["legal_basis"].strip(), acknowledge_alert=d["acknowledge_alert"])
        return options, household_id if household else None, person_ids if household else chosen, request


def _name(m: dict) -> str:
    n = m["name"]
    return f"{n['family_name']}　{n['given_name']}（{m.get('relationship') or ''}）"


class ListForm(Form):
    """交付履歴: by date (和暦 typed), by number; the person comes from the person screen's link."""

    date_from = WarekiDateField(label="交付日（から）", required=False)
    date_to = WarekiDateField(label="交付日（まで）", required=False)
    number = _text("発行番号", 16, placeholder="例: 2026-000123")


class VoidForm(Form):
    reason = forms.CharField(label="無効にする理由", max_length=200,
                             error_messages={"required": "無効にする理由を入力してください。"})


class MoveOutForm(Form):
    """転出証明書: which of the 転出届's persons, 特例転出 [670], and who collects it (optional)."""

    persons = forms.MultipleChoiceField(label="記載する方（この転出届で転出した方）", widget=forms.CheckboxSelectMultiple,
                                        error_messages={"required": "転出証明書に記載する方を選んでください。"})
    special = forms.BooleanField(label="特例転出（「特例による転出処理済」と印字する）", required=False)
    requester_name = _text("受け取る方の氏名（届出人と違うときなど）", 120)
    documents = forms.MultipleChoiceField(label="確認した本人確認書類（受け取りのとき）", required=False,
                                          widget=forms.CheckboxSelectMultiple, choices=[(d, d) for d in DOCUMENTS])

    def __init__(self, *args, movers: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["persons"].choices = [(str(m["person_id"]), _name(m)) for m in movers]
        if not self.is_bound:
            self.initial["persons"] = [str(m["person_id"]) for m in movers]  # everyone the 転出届 moved

    error_message = IssueForm.error_message

    def call(self) -> dict:
        d = self.cleaned_data
        return {"person_ids": [int(p) for p in d["persons"]], "special": d["special"],
                "requester_name": d["requester_name"].strip(), "documents": tuple(d["documents"])}
