"""The seal counter's forms: shape only. The rules (who may register, which documents, the 印影,
who may have a certificate) are the services', whose Japanese messages the screens show."""
from __future__ import annotations

from django import forms

from juki.certificates.entitlement import Request
from juki.certificates.models import RequesterKind
from juki.core.errors import DomainError, ErrorCode
from juki.ui.forms import Form, WarekiDateField

from . import images
from .models import RegistrationMethod
from .services import LOST_WHAT, PHOTO_DOCUMENTS

# The photo IDs issued by a public office first (the service's list: they register a seal the same day).
OTHER_DOCUMENTS = ["健康保険の資格確認書等", "年金手帳・年金証書", "社員証・学生証等"]
DOCUMENTS = [*PHOTO_DOCUMENTS, *OTHER_DOCUMENTS]
IMAGE_TYPES = "image/png,image/jpeg,image/tiff,image/bmp"


def _text(label: str, max_length: int, **attrs) -> forms.CharField:
    field = forms.CharField(label=label, required=False, max_length=max_length)
    field.widget.attrs.update({"autocomplete": "off", **attrs})
    return field


def _error_message(form: forms.Form) -> str:
    """All the form's errors as one line for the counter's message area."""
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        parts += [f"{label}: {e}" if label else e for e in errors]
    return "入力内容を確認してください。" + " ".join(parts)


def _valid(form: forms.Form) -> dict:
    if not form.is_valid():
        raise DomainError(ErrorCode.INVALID_INPUT, _error_message(form))
    return form.cleaned_data


class _Documents(Form):
    documents = forms.MultipleChoiceField(label="確認した本人確認書類", required=False,
                                          widget=forms.CheckboxSelectMultiple, choices=[(d, d) for d in DOCUMENTS])
    documents_other = _text("その他の書類", 60, placeholder="例: 介護保険被保険者証")
    power_of_attorney = forms.BooleanField(label="委任状を確認した", required=False)

    def checked_documents(self) -> list[str]:
        d = self.cleaned_data
        return list(d["documents"]) + ([d["documents_other"].strip()] if d["documents_other"].strip() else [])


class RegisterForm(_Documents):
    method = forms.ChoiceField(label="本人確認の方法", widget=forms.RadioSelect, choices=RegistrationMethod.choices,
                               error_messages={"required": "本人確認の方法を選んでください。"})
    image = forms.FileField(label="印影の画像（読み取ったもの）", error_messages={"required": "印影を読み取った画像を選んでください。"},
                            widget=forms.ClearableFileInput(attrs={"accept": IMAGE_TYPES}))
    seal_text = _text("印影の文字（刻印文字）", 20, placeholder="例: 青木")
    guarantor_number = _text("保証人の印鑑番号", 12, inputmode="numeric", placeholder="例: 0000000011")
    agent_name = _text("代理人の氏名", 120)
    seal_checked = forms.BooleanField(label="登録できる印鑑であることを確認した（ゴム印など変形しやすいものでない・外枠が欠けていない・文字が判読できる）",
                                      required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["method"] = RegistrationMethod.IDENTITY_DOCUMENT

    def call(self) -> dict:
        """Keyword arguments of `services.seal_register` (the person aside)."""
        d = _valid(self)
        return {"method": d["method"], "image": images.read_upload(d["image"]), "seal_text": d["seal_text"],
                "documents": self.checked_documents(), "agent_name": d["agent_name"],
                "power_of_attorney": d["power_of_attorney"], "guarantor_number": d["guarantor_number"],
                "seal_checked": d["seal_checked"]}


class ImageCheckForm(Form):
    image = forms.FileField(error_messages={"required": "印影を読み取った画像を選んでください。"})

    def image_bytes(self) -> bytes:
        return images.read_upload(_valid(self)["image"])


class AnswerForm(_Documents):
    answer_agent_name = _text("回答書を持参した代理人の氏名（本人が持参したときは空欄）", 120)

    def call(self) -> dict:
        d = _valid(self)
        return {"documents": self.checked_documents(), "answer_agent_name": d["answer_agent_name"],
                "power_of_attorney": d["power_of_attorney"]}


class EndForm(_Documents):
    """廃止申請 and 亡失届 (which also says what was lost)."""

    agent_name = _text("代理人の氏名（本人が届け出たときは空欄）", 120)
    what = forms.ChoiceField(label="亡失したもの", required=False, widget=forms.RadioSelect, choices=list(LOST_WHAT.items()))

    def call(self, *, lost: bool) -> dict:
        d = _valid(self)
        out = {"documents": self.checked_documents(), "agent_name": d["agent_name"],
               "power_of_attorney": d["power_of_attorney"]}
        if lost:
            out["what"] = d["what"]
        return out


class CertificateForm(Form):
    card_number = _text("印鑑登録証（市民カード）のカード番号", 20, inputmode="numeric", placeholder="例: 1234 5678 90")
    stated_birth_date = WarekiDateField(label="交付申請書に書かれた登録者の生年月日", required=False)
    kind = forms.ChoiceField(label="請求者", widget=forms.RadioSelect,
                             choices=[(RequesterKind.SELF, "本人"), (RequesterKind.AGENT, "代理人（印鑑登録証を持参した方）")],
                             error_messages={"required": "請求者（本人・代理人）を選んでください。"})
    requester_name = _text("代理人の氏名", 120)
    requester_kana = _text("代理人のフリガナ", 240)
    requester_birth_date = WarekiDateField(label="代理人の生年月日", required=False)
    documents = forms.MultipleChoiceField(label="確認した本人確認書類（任意）", required=False,
                                          widget=forms.CheckboxSelectMultiple, choices=[(d, d) for d in DOCUMENTS])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["kind"] = RequesterKind.SELF

    def call(self, person_id: int) -> dict:
        """Keyword arguments of `services.seal_certificate_issue` / `_preview` for the person on screen."""
        d = _valid(self)
        agent = d["kind"] == RequesterKind.AGENT
        request = Request(kind=d["kind"], requester_person_id=None if agent else person_id,
                          requester_name=d["requester_name"].strip() if agent else "",
                          requester_kana=d["requester_kana"].strip() if agent else "",
                          requester_birth_date=d["requester_birth_date"] if agent else None,
                          documents=tuple(d["documents"]))
        return {"card_number": d["card_number"], "request": request, "person_id": person_id,
                "stated_birth_date": d["stated_birth_date"]}
