"""The counter's forms. They check shape and turn what the clerk typed into the payload of a
change operation (the same JSON the API takes); every rule of the register is left to the
services, whose Japanese messages the confirmation step shows."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django import forms

from juki.register.models import Sex
from juki.register import textnorm
from juki.register.reasons import Operation
from juki.register.services.people import town_code_by_name
from juki.ui.forms import Form, WarekiDateField, text_field as _text

def town_code_of(text: str | None, code: str | None = "") -> str:
    """The 町字 picked from the datalist reads "小倉北区城内（40106001000）": take the code.

    Typed without picking, a name that names exactly one 町字 ("小倉北区城内", or "城内" where
    only one ward has it) is taken too, so what the clerk typed is never silently dropped."""
    text = (text or "").strip()
    if text.endswith("）") and "（" in text:
        return text.rpartition("（")[2].rstrip("）").strip()
    if (code or "").strip() or not text:
        return (code or "").strip()
    return town_code_by_name(text)


SEX_CHOICES = [("", "—")] + [(str(v), label) for v, label in Sex.choices]


# --- login / search -----------------------------------------------------------------------------


class LoginForm(Form):
    username = _text("職員ID", required=True, max_length=150, autofocus="autofocus")
    password = forms.CharField(label="パスワード", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    terminal = forms.ChoiceField(label="端末")

    def __init__(self, *args, terminals=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["terminal"].choices = [(t.code, f"{t.code} {t.name}（{t.location}）") for t in terminals]


class UnlockForm(Form):
    password = forms.CharField(label="パスワード", widget=forms.PasswordInput(attrs={"autocomplete": "current-password",
                                                                                  "autofocus": "autofocus"}))


class SearchForm(Form):
    name = _text("氏名（漢字・カナ・英字）", max_length=120, autofocus="autofocus", accesskey="n")
    kana = _text("フリガナ", max_length=120)
    birth_date = WarekiDateField(label="生年月日", required=False)
    sex = forms.ChoiceField(label="性別", choices=SEX_CHOICES, required=False)
    ward_code = forms.ChoiceField(label="区", required=False)
    town_code = forms.CharField(label="町字", required=False, max_length=11, widget=forms.HiddenInput)
    town_text = _text("町字（カナで候補）", max_length=80, list="town-options")
    banchi = _text("番地", max_length=40)
    katagaki = _text("方書", max_length=80)
    atena_number = _text("宛名番号", max_length=10, inputmode="numeric")
    household_number = _text("世帯番号", max_length=10, inputmode="numeric")
    resident_code = _text("住民票コード", max_length=11, inputmode="numeric")
    my_number = forms.CharField(label="個人番号", required=False, max_length=14,
                                widget=forms.PasswordInput(attrs={"autocomplete": "off", "inputmode": "numeric"}))
    residence_card_number = _text("在留カード等番号", max_length=12)
    include_removed = forms.BooleanField(label="消除者（除票）も含める", required=False)

    def __init__(self, *args, wards=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ward_code"].choices = [("", "全区")] + [(w.code, w.name) for w in wards]


# --- change entry ------------------------------------------------------------------------------


@dataclass
class Start:
    """What a change starts from: the household on screen and, optionally, one person."""

    household: dict | None = None
    person: dict | None = None
    members: list[dict] = field(default_factory=list)


class ChangeForm(Form):
    """Common to every 異動: dates. Subclasses add their items and build the payload."""

    layout = "plain"  # which partial renders the subject: "members", "person", "new_persons"
    notified = True
    event_date = WarekiDateField(label="異動日")
    notified_on = WarekiDateField(label="届出日", required=False)
    notifier_name = _text("届出人の氏名", max_length=60)
    notifier_relationship = _text("届出人と本人との関係", max_length=20, list="notifier-options")

    def __init__(self, *args, start: Start, **kwargs):
        super().__init__(*args, **kwargs)
        self.start = start
        for name in ("notifier_name", "notifier_relationship"):
            field = self.fields.pop(name)
            if self.notified:
                self.fields[name] = field  # last: dates, then the change's own items, then who notified it
        if not self.notified:
            self.fields.pop("notified_on", None)
        if self.layout != "members":  # the keyboard starts at the first item, the 異動日 (members: the first checkbox)
            first = next((f for f in self.fields.values() if not f.widget.is_hidden), None)
            if first is not None:
                first.widget.attrs["autofocus"] = "autofocus"

    def dates(self) -> dict:
        """The 届出's own items: its dates and who notified it (recorded with the change)."""
        d = {"event_date": self.cleaned_data["event_date"].isoformat()}
        if self.notified and self.cleaned_data.get("notified_on"):
            d["notified_on"] = self.cleaned_data["notified_on"].isoformat()
        if self.notified:
            for name in ("notifier_name", "notifier_relationship"):
                if self.cleaned_data.get(name):
                    d[name] = self.cleaned_data[name]
        return d

    def payload(self, data) -> dict:  # pragma: no cover - every subclass defines it
        raise NotImplementedError


def person_ref(member: dict) -> dict:
    return {"id": member["person_id"], "version": member["latest_version"] if "latest_version" in member else member["version"]}


def household_ref(household: dict) -> dict:
    return {"id": household["household_id"], "version": household["version"]}


class MembersForm(ChangeForm):
    """Changes of some members of the household on screen (checked in the members table);
    the 続柄 column means the 続柄 after the change."""

    layout = "members"
    relationships_key = ""  # payload key of the 続柄 map for the persons who move
    stay_relationships = True  # the remaining members may get a new 世帯主 in the same change
    movers_required = True  # some members are ticked as the ones the change is about

    def clean(self):
        # Checked with the fields, so an empty form lists every missing item at once.
        if self.movers_required and not self.data.getlist("persons"):
            self.add_error(None, "異動する方を選んでください（世帯員の表の「異動する」欄）。")
        return super().clean()

    def selected(self, data) -> list[dict]:
        chosen = set(data.getlist("persons"))
        return [m for m in self.start.members if str(m["person_id"]) in chosen]

    def relationships(self, data, members) -> dict:
        out = {}
        for m in members:
            value = (data.get(f"rel_{m['person_id']}") or "").strip()
            if value:
                out[str(m["person_id"])] = value
        return out

    def common(self, data) -> dict:
        movers = self.selected(data)
        if not movers:
            raise forms.ValidationError("異動する方を選んでください。")
        out = self.dates() | {"persons": [person_ref(m) for m in movers]}
        if self.relationships_key:
            out[self.relationships_key] = self.relationships(data, movers)
        if self.stay_relationships:
            staying = [m for m in self.start.members if m not in movers]
            new_head = (data.get("new_head") or "").strip()
            if new_head and any(str(m["person_id"]) == new_head for m in staying):
                out["new_head"] = int(new_head)
                out["new_head_relationships"] = self.relationships(data, staying)
        return out

    def payload(self, data) -> dict:
        return self.common(data)


class AddressFields(Form):
    town_code = forms.CharField(label="町字コード", max_length=11, widget=forms.HiddenInput, required=False)
    town_text = _text("町字（カナ・漢字で候補）", max_length=80, list="town-options", required=False)
    banchi = _text("番地", max_length=40, list="banchi-options")
    katagaki = _text("方書", max_length=80, list="katagaki-options")

    def check_town(self) -> None:
        """The 町字 must name one entry of the address dictionary: said at the field, with the rest."""
        text = (self.data.get(self.add_prefix("town_text")) or "").strip()
        code = (self.data.get(self.add_prefix("town_code")) or "").strip()
        if not town_code_of(text, code):
            self.add_error("town_text", "町字を入力し、候補から選んでください。" if not text else
                           f"「{text[:20]}」に当たる町字が住所辞書にありません。カナか漢字の先頭を入力し、候補から選んでください。")
        if not (self.data.get(self.add_prefix("banchi")) or "").strip():
            self.add_error("banchi", "番地を入力してください。")

    def address(self) -> dict:
        code = town_code_of(self.cleaned_data.get("town_text"), self.cleaned_data.get("town_code"))
        if not code:
            raise forms.ValidationError("町字を候補から選んでください。")
        return {"town_code": code, "banchi": self.cleaned_data.get("banchi", ""), "katagaki": self.cleaned_data.get("katagaki", "")}


class MoveWithinCityForm(MembersForm, AddressFields):
    relationships_key = "relationships_in_destination"
    field_order = ["event_date", "notified_on", "town_text", "banchi", "katagaki", "destination", "destination_number"]
    destination = forms.ChoiceField(label="異動先の世帯", choices=[
        ("same", "今の世帯のまま（全員が転居）"), ("new", "新しい世帯をつくる"), ("existing", "既存の世帯に入る")])
    destination_number = _text("異動先の世帯番号（既存の世帯に入る場合）", max_length=10, inputmode="numeric")

    def clean(self):
        self.check_town()
        if self.data.get("destination") == "existing" and not (self.data.get("destination_number") or "").strip():
            self.add_error("destination_number", "既存の世帯に入る場合は、異動先の世帯番号を入力してください。")
        return super().clean()

    def payload(self, data):
        out = self.common(data) | {"address": self.address()}
        choice = self.cleaned_data["destination"]
        if choice == "new":
            out["destination"] = "new"
        elif choice == "existing":
            out["destination"] = {"number": self.cleaned_data.get("destination_number", "")}
        return out


class MoveOutForm(MembersForm):
    destination_address = _text("転出先住所", required=True, max_length=160)
    abroad = forms.BooleanField(label="国外への転出", required=False)
    special = forms.BooleanField(label="特例転出（個人番号カードによる転出。転出証明書を交付せず、転出証明書情報をCSへ送る）",
                                 required=False)

    def payload(self, data):
        return self.common(data) | {"destination_address": self.cleaned_data["destination_address"],
                                    "abroad": self.cleaned_data["abroad"], "special": self.cleaned_data["special"]}


class RemovalForm(MembersForm):
    note = forms.CharField(label="留意事項・職権記録", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def payload(self, data):
        return self.common(data) | {"note": self.cleaned_data.get("note", "")}


class SplitForm(MembersForm):
    relationships_key = "relationships_in_new"


class JoinForm(MembersForm):
    relationships_key = "relationships_in_target"
    target_number = _text("異動先の世帯番号", required=True, max_length=10, inputmode="numeric")

    def payload(self, data):
        return self.common(data) | {"target": {"number": self.cleaned_data["target_number"]}}


class HeadChangeForm(MembersForm):
    stay_relationships = False
    movers_required = False  # the whole household; the new 世帯主 is what is chosen

    def clean(self):
        if not (self.data.get("new_head") or "").strip():
            self.add_error(None, "新しい世帯主を選んでください（世帯員の表の「新世帯主」欄）。")
        return super().clean()

    def payload(self, data):
        new_head = (data.get("new_head") or "").strip()
        if not new_head:
            raise forms.ValidationError("新しい世帯主を選んでください。")
        return self.dates() | {"household": household_ref(self.start.household), "new_head": int(new_head),
                               "relationships_after": self.relationships(data, self.start.members)}


class CancelForm(MembersForm):
    stay_relationships = False
    change_id = forms.IntegerField(label="取り消す異動の番号（異動履歴の「異動番号」）", min_value=1)
    note = forms.CharField(label="取消しの理由", required=False, max_length=500)

    def payload(self, data):
        return self.common(data) | {"change_id": self.cleaned_data["change_id"], "note": self.cleaned_data.get("note", "")}


# --- one person -------------------------------------------------------------------------------


class PersonForm(ChangeForm):
    layout = "person"

    def ref(self) -> dict:
        return person_ref(self.start.person)

    def payload(self, data):
        return self.dates() | {"person": self.ref()}


class ResidentCodeForm(PersonForm):
    notified = False


class MyNumberForm(PersonForm):
    notified = False
    my_number = forms.CharField(label="個人番号（12桁）", max_length=14,
                                widget=forms.PasswordInput(attrs={"autocomplete": "off", "inputmode": "numeric"}))
    kind = forms.ChoiceField(label="区分", choices=[("entry", "職権記載"), ("change_request", "変更請求"),
                                                   ("correction", "職権修正")])

    def payload(self, data):
        return super().payload(data) | {"my_number": self.cleaned_data["my_number"].replace(" ", "").replace("-", ""),
                                        "kind": self.cleaned_data["kind"]}


class MoveOutConfirmForm(PersonForm):
    notified = False
    event_date = None
    notice_on = WarekiDateField(label="転入通知を受けた日")
    moved_on = WarekiDateField(label="転出年月日（確定）")
    confirmed_address = _text("転出先住所（確定）", required=True, max_length=160)

    def dates(self):
        return {}

    def payload(self, data):
        return {"person": self.ref(), "notice_on": self.cleaned_data["notice_on"].isoformat(),
                "moved_on": self.cleaned_data["moved_on"].isoformat(),
                "confirmed_address": self.cleaned_data["confirmed_address"]}


# Items a correction may change from the counter, with their labels.
CORRECTION_ITEMS = [
    ("family_name", "氏"), ("given_name", "名"), ("family_name_kana", "氏フリガナ"), ("given_name_kana", "名フリガナ"),
    ("birth_date", "生年月日"), ("sex", "性別"), ("domicile", "本籍"), ("domicile_head", "筆頭者"),
    ("former_surname", "旧氏"), ("former_surname_kana", "旧氏フリガナ"), ("alias_name", "通称"),
    ("alias_name_kana", "通称フリガナ"), ("nationality", "国籍・地域"), ("residence_status", "在留資格"),
    ("period_of_stay", "在留期間"), ("stay_expires_on", "在留期間の満了の日"), ("residence_card_number", "在留カード等番号"),
]
_DATE_ITEMS = {"birth_date", "stay_expires_on"}


class CorrectionForm(PersonForm):
    note = forms.CharField(label="修正の理由・根拠", required=False, max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.start.person or {}
        for name, label in CORRECTION_ITEMS:
            initial = current.get("items", {}).get(name, "")
            if name in _DATE_ITEMS:
                self.fields[name] = WarekiDateField(label=label, required=False, initial=initial)
            elif name == "sex":
                self.fields[name] = forms.ChoiceField(label=label, choices=SEX_CHOICES[1:], initial=initial)
            else:
                self.fields[name] = _text(label, max_length=120)
                self.fields[name].initial = initial

    def payload(self, data):
        current = self.start.person.get("items", {})
        changes = {}
        for name, _ in CORRECTION_ITEMS:
            value = self.cleaned_data.get(name)
            if name in _DATE_ITEMS:
                value = value.isoformat() if value else ""
            value = "" if value is None else str(value)
            if value != str(current.get(name, "") or ""):
                changes[name] = value
        if not changes:
            raise forms.ValidationError("修正する項目がありません。")
        return super().payload(data) | {"changes": changes, "note": self.cleaned_data.get("note", "")}


NEW_PERSON_ITEMS = ("family_name", "given_name", "family_name_kana", "given_name_kana", "former_surname",
                    "former_surname_kana", "birth_date", "sex", "relationship", "domicile", "domicile_head",
                    "resident_code", "nationality", "kanji_name", "alias_name", "alias_name_kana", "residence_status",
                    "period_of_stay", "stay_expires_on", "residence_card_number", "article_30_45_category", "my_number")


class NameFields(Form):
    """氏名 and フリガナ, as the new person and the new record after 帰化 etc. both ask them."""

    family_name = _text("氏", max_length=60)
    given_name = _text("名", max_length=60)
    family_name_kana = _text("氏フリガナ", max_length=120)
    given_name_kana = _text("名フリガナ", max_length=120)


def entered_items(cleaned: dict, names) -> dict:
    """The items the clerk filled in, as the payload wants them (dates ISO, 性別 a number)."""
    out = {}
    for name in names:
        value = cleaned.get(name)
        if value in (None, ""):
            continue
        if isinstance(value, dt.date):
            value = value.isoformat()
        elif name == "sex":
            value = int(value)
        out[name] = value
    return out


class NewPersonForm(NameFields):
    """One person entering the register (転入・出生・職権記載 …), with every item a 転出証明書
    carries (旧氏, 住民票コード, 個人番号, and a foreign resident's 漢字氏名 and 通称フリガナ), as the
    API takes them. `omit`: fields a kind of entry has no use for (a newborn's 旧氏, 住民票コード)."""

    former_surname = _text("旧氏", max_length=60)
    former_surname_kana = _text("旧氏フリガナ", max_length=120)
    birth_date = WarekiDateField(label="生年月日", required=False, help_text="")
    sex = forms.ChoiceField(label="性別", choices=SEX_CHOICES, required=False)
    relationship = _text("続柄", max_length=40, list="relationship-options")
    domicile = _text("本籍", max_length=120, list="domicile-options")
    domicile_head = _text("筆頭者", max_length=60)
    resident_kind = forms.ChoiceField(label="住民種別", choices=[("J", "日本人住民"), ("F", "外国人住民")], initial="J")
    # Typed as printed (spaces, full-width): 11 digits once normalised; the check digit is the service's.
    resident_code = _text("住民票コード", max_length=20, inputmode="numeric")
    nationality = _text("国籍・地域（外国人住民）", max_length=60)
    kanji_name = _text("漢字氏名（併記する場合）", max_length=60)
    alias_name = _text("通称", max_length=60)
    alias_name_kana = _text("通称フリガナ", max_length=120)
    residence_status = _text("在留資格", max_length=40)
    period_of_stay = _text("在留期間", max_length=20)
    stay_expires_on = WarekiDateField(label="在留期間の満了の日", required=False, help_text="")
    residence_card_number = _text("在留カード等番号", max_length=12)
    article_30_45_category = _text("第30条の45区分", max_length=20)
    my_number = forms.CharField(label="個人番号", required=False, max_length=14,
                                widget=forms.PasswordInput(attrs={"autocomplete": "off", "inputmode": "numeric"}))
    # 特例転入 [610]: the 転出証明書情報 this person's items came from (its 住民票コード and 個人番号 go with it).
    transfer_certificate = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    foreign_fields = ("nationality", "kanji_name", "alias_name", "alias_name_kana", "residence_status", "period_of_stay",
                      "stay_expires_on", "residence_card_number", "article_30_45_category")

    def __init__(self, *args, omit: tuple[str, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        for name in omit:
            self.fields.pop(name, None)
        if self.from_certificate:  # the 住民票コード and 個人番号 are the certificate's: not typed (C12)
            self.fields["resident_code"].widget.attrs["readonly"] = "readonly"
            self.fields["my_number"].widget.attrs.update({"disabled": "disabled", "placeholder": "転出証明書情報のとおり"})

    @property
    def from_certificate(self) -> bool:
        return bool(self.initial.get("transfer_certificate") or self.data.get(self.add_prefix("transfer_certificate")))

    def clean_resident_code(self):
        code = textnorm.digits(self.cleaned_data.get("resident_code"))
        if code and not (code.isdigit() and len(code) == 11):
            raise forms.ValidationError("住民票コードは11桁の数字で入力してください（転出証明書に記載の番号）。")
        return code

    def clean_my_number(self):
        return textnorm.digits(self.cleaned_data.get("my_number"))

    @property
    def main_fields(self):
        return [n for n in self.fields if n not in self.foreign_fields]

    @property
    def foreign_open(self) -> bool:
        return any((self.data.get(self.add_prefix(n)) or "").strip() for n in self.foreign_fields) or any(
            self.errors.get(n) for n in self.foreign_fields) if self.is_bound else False

    def is_blank(self) -> bool:
        return not any((self.data.get(self.add_prefix(n)) or "").strip() for n in ("family_name", "given_name", "birth_date"))

    def item(self) -> dict:
        d = self.cleaned_data
        out = {"relationship": d.get("relationship", ""), **entered_items(d, NEW_PERSON_ITEMS),
               "resident_kind": d.get("resident_kind") or "J"}
        if d.get("transfer_certificate"):
            out["transfer_certificate"] = d["transfer_certificate"]
            out.pop("resident_code", None)  # the certificate's, not a typed one
        return out


def _certificate_initial(c: dict) -> dict:
    """A person's 転出証明書情報 as the 転入 form's initial values (the 個人番号 stays with the certificate)."""
    return {"transfer_certificate": c["id"], "family_name": c.get("family_name", ""), "given_name": c.get("given_name", ""),
            "family_name_kana": c.get("family_name_kana", ""), "given_name_kana": c.get("given_name_kana", ""),
            "birth_date": dt.date.fromisoformat(c["birth_date"]) if c.get("birth_date") else None,
            "sex": str(c.get("sex") or ""), "relationship": c.get("relationship", ""), "domicile": c.get("domicile", ""),
            "domicile_head": c.get("domicile_head", ""), "resident_code": c["resident_code"],
            "resident_kind": c.get("resident_kind") or "J", "nationality": c.get("nationality", "")}


class NewPersonsForm(ChangeForm, AddressFields):
    """転入・職権記載・法30条の46/47: one to several persons, into a new or the shown household."""

    layout = "new_persons"
    max_persons = 6
    person_omit: tuple[str, ...] = ()
    field_order = ["event_date", "notified_on", "origin", "town_text", "banchi", "katagaki", "previous_address",
                   "previous_postal_code", "previous_municipality_code", "confirmed_new_person"]
    origin = forms.ChoiceField(label="転入の区分", choices=[("domestic", "国内からの転入"), ("abroad", "国外からの転入")],
                               required=False)
    previous_address = _text("転入前住所", max_length=160)
    previous_postal_code = _text("転入前住所の郵便番号", max_length=8, inputmode="numeric")
    previous_municipality_code = _text("転出地の市区町村コード（6桁。空欄なら転入前住所から）", max_length=6,
                                       inputmode="numeric")
    confirmed_new_person = forms.BooleanField(label="3情報が一致する方と別人であることを確認した", required=False)

    def __init__(self, *args, operation: str = "", transfer: list[dict] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.operation = operation
        self.transfer = transfer or []
        if operation != Operation.MOVE_IN:
            self.fields.pop("origin")
            self.fields.pop("previous_municipality_code")
        count = self.max_persons if self.max_persons > 1 else 1
        self.persons = [NewPersonForm(self.data or None, prefix=f"p{i}", omit=self.person_omit,
                                      initial=_certificate_initial(self.transfer[i]) if i < len(self.transfer) else None)
                        for i in range(count)]
        if self.transfer:  # 特例転入 [610]: what the 転出地 sent, for the clerk to check and complete
            first = self.transfer[0]
            self.initial.update({"origin": "domestic", "previous_address": first.get("address", ""),
                                 "previous_municipality_code": first["from_municipality"]})

    @property
    def more_open(self) -> bool:
        return any(not p.is_blank() for p in self.persons[2:])

    def clean(self):
        if not self.start.household:
            self.check_town()
        if all(p.is_blank() for p in self.persons):
            self.add_error(None, "異動する方の氏名・生年月日を入力してください。")
        return super().clean()

    def is_valid(self):
        ok = super().is_valid()
        return all([ok] + [p.is_valid() for p in self.persons if not p.is_blank()])

    def entered(self) -> list[dict]:
        people = [p.item() for p in self.persons if not p.is_blank()]
        if not people:
            raise forms.ValidationError("異動する方の氏名・生年月日を入力してください。")
        return people

    def destination(self) -> tuple[object, dict | None]:
        if self.start.household:
            return household_ref(self.start.household), None
        return "new", self.address()

    def payload(self, data):
        destination, address = self.destination()
        out = self.dates() | {"persons": self.entered(), "destination": destination, "address": address,
                              "previous_address": self.cleaned_data.get("previous_address", ""),
                              "previous_postal_code": (self.cleaned_data.get("previous_postal_code") or "").replace("-", ""),
                              "confirmed_new_person": self.cleaned_data.get("confirmed_new_person", False)}
        if "origin" in self.fields:
            out["origin"] = self.cleaned_data.get("origin") or "domestic"
            code = textnorm.digits(self.cleaned_data.get("previous_municipality_code"))
            if code:  # left blank, the service reads it from the 転入前住所
                out["previous_municipality_code"] = code
        return out


class BirthForm(NewPersonsForm):
    max_persons = 1
    # A newborn has no 旧氏, and gets its 住民票コード from the CS, not from the clerk.
    person_omit = ("former_surname", "former_surname_kana", "resident_code")

    def payload(self, data):
        destination, address = self.destination()
        child = self.entered()[0]
        child.setdefault("relationship", "子")
        return self.dates() | {"child": child, "destination": destination, "address": address}


class NationalityForm(PersonForm, NameFields):
    """帰化・国籍取得・国籍喪失: the items of the new record; the rest carries over."""

    field_order = ["event_date", "notified_on"]
    domicile = _text("本籍", max_length=120)
    domicile_head = _text("筆頭者", max_length=60)
    nationality = _text("国籍・地域（国籍喪失の場合）", max_length=60)
    residence_status = _text("在留資格（国籍喪失の場合）", max_length=40)
    period_of_stay = _text("在留期間", max_length=20)
    stay_expires_on = WarekiDateField(label="在留期間の満了の日", required=False, help_text="")
    article_30_45_category = _text("第30条の45区分", max_length=20)

    def payload(self, data):
        new = entered_items(self.cleaned_data, ("family_name", "given_name", "family_name_kana", "given_name_kana",
                                                "domicile", "domicile_head", "nationality", "residence_status",
                                                "period_of_stay", "stay_expires_on", "article_30_45_category"))
        return super().payload(data) | {"new_data": new}


# operation → (form, what it starts from: "household" | "person" | "none")
FORMS: dict[Operation, tuple[type[ChangeForm], str]] = {
    Operation.MOVE_IN: (NewPersonsForm, "none"),
    Operation.EX_OFFICIO_ENTRY: (NewPersonsForm, "none"),
    Operation.FOREIGN_MOVE_IN: (NewPersonsForm, "none"),
    Operation.FOREIGN_REGISTRATION: (NewPersonsForm, "none"),
    Operation.BIRTH: (BirthForm, "household"),
    Operation.MOVE_WITHIN_CITY: (MoveWithinCityForm, "household"),
    Operation.MOVE_OUT: (MoveOutForm, "household"),
    Operation.MOVE_OUT_CONFIRM: (MoveOutConfirmForm, "person"),
    Operation.DEATH: (RemovalForm, "household"),
    Operation.DISAPPEARANCE: (RemovalForm, "household"),
    Operation.EX_OFFICIO_REMOVAL: (RemovalForm, "household"),
    Operation.HOUSEHOLD_SPLIT: (SplitForm, "household"),
    Operation.HOUSEHOLD_MERGE: (JoinForm, "household"),
    Operation.HOUSEHOLD_CHANGE: (JoinForm, "household"),
    Operation.HEAD_CHANGE: (HeadChangeForm, "household"),
    Operation.EX_OFFICIO_CORRECTION: (CorrectionForm, "person"),
    Operation.MINOR_CORRECTION: (CorrectionForm, "person"),
    Operation.ERRATUM_CORRECTION: (CorrectionForm, "person"),
    Operation.RESIDENT_CODE_ASSIGN: (ResidentCodeForm, "person"),
    Operation.RESIDENT_CODE_CHANGE: (ResidentCodeForm, "person"),
    Operation.MY_NUMBER: (MyNumberForm, "person"),
    Operation.NATURALIZATION: (NationalityForm, "person"),
    Operation.NATIONALITY_ACQUISITION: (NationalityForm, "person"),
    Operation.NATIONALITY_LOSS: (NationalityForm, "person"),
    Operation.CANCEL: (CancelForm, "household"),
}
