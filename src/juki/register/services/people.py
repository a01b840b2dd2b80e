"""Building and checking the data of a person's version (shared by the operations)."""
from __future__ import annotations

from dataclasses import dataclass

import jaconv
from django.db import connection

from juki.audit import gate
from juki.core import mynumber, sql
from juki.core.checkdigits import is_valid_resident_code
from juki.core.errors import DomainError, ErrorCode
from juki.core import clock

from .. import relationships, textnorm
from ..models import DATA_FIELDS, Person, PersonVersion, ResidentKind, Sex, Status, Town, Ward
from ..reasons import ARTICLE_30_45


@dataclass(frozen=True)
class Address:
    town_code: str
    banchi: str
    katagaki: str = ""


# Every address typed resolves its 町字 here: the statement is built once (core.sql.Joined).
_TOWN_BY_CODE = sql.Joined(Town, "ward__municipality", where="t.code = %s AND t.is_active = %s")


def resolve_town(town_code: str) -> Town:
    town = _TOWN_BY_CODE.first([town_code, True])
    if town is None:
        raise DomainError(ErrorCode.UNKNOWN_TOWN, "住所の町字が住所辞書にありません。町字を辞書から選んでください。", field="town_code")
    return town


def town_code_by_name(text: str) -> str:
    """The code of the 町字 a typed name names — 「城内」 where one ward has it, 「小倉北区城内」,
    「北九州市小倉北区城内」 — or "" when it names none or several (the clerk then picks from the list)."""
    text = jaconv.z2h((text or "").strip(), kana=False, ascii=True, digit=True).replace(" ", "")
    for muni in Ward.objects.values_list("municipality__name", flat=True).distinct():
        text = text.removeprefix(muni)
    towns = Town.objects.filter(is_active=True)
    found = list(towns.filter(name=text).values_list("code", flat=True))
    if not found:  # 区名＋町字名
        for ward in Ward.objects.all():
            if text.startswith(ward.name) and len(text) > len(ward.name):
                found += towns.filter(ward=ward, name=text[len(ward.name):]).values_list("code", flat=True)
    return found[0] if len(found) == 1 else ""


def address_text(town: Town, banchi: str, katagaki: str = "", *, prefecture: bool = True) -> str:
    """住所 as written: with the prefecture when it leaves the city (転出先・転入前), without on screen."""
    muni = town.ward.municipality
    text = f"{muni.prefecture if prefecture else ''}{muni.name}{town.ward.name}{town.name}{banchi}"
    return f"{text}　{katagaki}" if katagaki else text


def postal_text(code: str | None) -> str:
    """〒803-0813 from a 7-digit 郵便番号; nothing for a missing or odd one."""
    return f"〒{code[:3]}-{code[3:]}" if code and len(code) == 7 else ""


def address_fields(address: Address, town: Town | None = None) -> dict:
    town = town or resolve_town(address.town_code)
    banchi = banchi_text(address.banchi)
    if not banchi:
        raise DomainError(ErrorCode.INVALID_INPUT, "番地を入力してください。", field="banchi")
    return {"town_id": town.id, "banchi": banchi, "katagaki": (address.katagaki or "").strip()}


def banchi_text(text: str | None) -> str:
    """番地 with half-width digits and hyphens, whatever width was typed (「２番3号」 → 「2番3号」),
    so one address is never stored in two forms (glossary: 番地)."""
    value = jaconv.z2h((text or "").strip(), kana=False, digit=True, ascii=False)
    return value.replace("－", "-").replace("‐", "-").replace("ｰ", "-")


def kana(text: str | None) -> str:
    """フリガナ is kept in full-width katakana [180], whatever the clerk typed."""
    if not text:
        return ""
    return jaconv.hira2kata(jaconv.h2z(text.strip(), kana=True, ascii=False, digit=False))


def lock_identifier(kind: str, value: str) -> None:
    """Serialise concurrent changes that check-then-write the same identifier (PostgreSQL).

    No unique constraint can hold "one current holder" across append-only versions, so the
    check and the write of a given 個人番号 / 住民票コード / 在留カード番号 run one at a time.
    SQLite needs nothing: its writers are serialised by BEGIN IMMEDIATE.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"juki:{kind}:{value}"])


def check_resident_code(code: str, *, exclude_person: int | None = None) -> str:
    if not is_valid_resident_code(code):
        raise DomainError(
            ErrorCode.INVALID_RESIDENT_CODE,
            "住民票コードが正しくありません。11桁の数字で、検査用数字が一致するコードを入力してください。",
            field="resident_code",
        )
    lock_identifier("resident_code", code)
    clash = Person.objects.filter(current__resident_code=code)
    if exclude_person:
        clash = clash.exclude(pk=exclude_person)
    if clash.exists():
        raise DomainError(ErrorCode.DUPLICATE_RESIDENT_CODE, "この住民票コードは他の方に記載されています。", field="resident_code")
    return code


def seal_my_number(number: str, *, exclude_person: int | None = None) -> dict:
    sealed = mynumber.seal(number)
    lock_identifier("my_number", sealed.digest)
    clash = Person.objects.filter(current__my_number_digest=sealed.digest)
    if exclude_person:
        clash = clash.exclude(pk=exclude_person)
    if clash.exists():
        raise DomainError(ErrorCode.DUPLICATE_MY_NUMBER, "この個人番号は他の方に記載されています。", field="my_number")
    return {"my_number_key_id": sealed.key_id, "my_number_cipher": sealed.ciphertext, "my_number_digest": sealed.digest}


FOREIGN_FIELDS = (
    "nationality", "kanji_name", "alias_name", "alias_name_kana", "article_30_45_category", "residence_status",
    "period_of_stay", "stay_expires_on", "residence_card_number", "became_foreign_resident_on",
)

# Fields a clerk may type for a new person (the rest are derived or set by the operation).
PERSON_INPUT_FIELDS = (
    "family_name", "given_name", "family_name_kana", "given_name_kana", "kana_confirmed", "former_surname",
    "former_surname_kana", "birth_date", "sex", "relationship", "domicile", "domicile_head", "resident_kind",
    "resident_code", "my_number", *FOREIGN_FIELDS,
)


def check_foreign(data: dict) -> None:
    if data["resident_kind"] != ResidentKind.FOREIGN:
        return
    missing = [f for f in ("nationality", "article_30_45_category") if not data.get(f)]
    category = data.get("article_30_45_category") or ""
    if category and category not in ARTICLE_30_45:
        raise DomainError(
            ErrorCode.FOREIGN_DATA_REQUIRED,
            "第30条の45区分は、中長期在留者・特別永住者・一時庇護許可者・仮滞在許可者・出生による経過滞在者・国籍喪失による経過滞在者のいずれかです。",
            field="article_30_45_category",
        )
    required = ARTICLE_30_45.get(category, ())
    if data.get("period_of_stay") == "無期限":  # 永住者: the card shows no 満了日
        required = tuple(f for f in required if f != "stay_expires_on")
    missing += [f for f in required if not data.get(f)]
    if missing:
        raise DomainError(
            ErrorCode.FOREIGN_DATA_REQUIRED,
            "外国人住民の記載に必要な項目（国籍・地域、第30条の45区分、在留資格・在留期間・満了日・在留カード等番号など）が不足しています。",
            details={"fields": missing},
        )


# Typed texts of a version → their label; each is stored as textnorm.clean_text makes it (issue 11).
TEXT_LABELS = {
    "family_name": "氏", "given_name": "名", "family_name_kana": "氏のフリガナ", "given_name_kana": "名のフリガナ",
    "former_surname": "旧氏", "former_surname_kana": "旧氏のフリガナ", "domicile": "本籍", "domicile_head": "筆頭者",
    "kanji_name": "漢字氏名", "alias_name": "通称", "alias_name_kana": "通称のフリガナ", "nationality": "国籍・地域",
    "banchi": "番地", "katagaki": "方書", "previous_address": "転入前住所",
}
# A Japanese resident's 氏・名 hold no space: one typed inside is a 氏名 put in one box, and defeats
# the 3情報 duplicate check (a foreign resident's name may have spaces).
_NAME_PARTS = ("family_name", "given_name", "former_surname")


def clean_texts(data: dict, changed=lambda *names: True) -> None:
    """Normalise (NFC) the typed texts that changed, in place; refuse a character nobody can see
    or print (`invalid_characters`, at the field). 外字 stay as they are."""
    japanese = data.get("resident_kind", ResidentKind.JAPANESE) == ResidentKind.JAPANESE
    for name, label in TEXT_LABELS.items():
        value = data.get(name)
        if not isinstance(value, str) or not value or not changed(name):
            continue
        try:
            data[name] = textnorm.clean_text(value, label=label, inner_space=not (japanese and name in _NAME_PARTS))
        except textnorm.InvalidText as exc:
            raise DomainError(ErrorCode.INVALID_CHARACTERS, exc.message, field=name) from None


def check_items(data: dict, *, before: dict | None = None, checked_towns: set[int] | None = None) -> None:
    """Items that may never be blank or out of range [60], checked on every new version.

    With `before` (the version it follows) only the items that changed are checked again:
    the earlier version passed the same checks when it was written.
    """

    def changed(*names: str) -> bool:
        return before is None or any(before.get(n) != data.get(n) for n in names)

    clean_texts(data, changed)
    if changed("family_name") and not data.get("family_name"):
        raise DomainError(ErrorCode.INVALID_INPUT, "氏名（氏）を入力してください。", field="family_name")
    if changed("birth_date"):
        if not data.get("birth_date"):
            raise DomainError(ErrorCode.INVALID_INPUT, "生年月日を入力してください。", field="birth_date")
        if data["birth_date"] > clock.today():
            raise DomainError(ErrorCode.INVALID_DATE, "生年月日に未来の日付は入力できません。", field="birth_date")
    if changed("sex") and data.get("sex") not in (Sex.MALE, Sex.FEMALE):
        raise DomainError(ErrorCode.INVALID_INPUT, "性別を選んでください。", field="sex")
    if changed("relationship"):
        if not data.get("relationship"):
            raise DomainError(ErrorCode.RELATIONSHIP_REQUIRED, "世帯主との続柄を入力してください。", field="relationship")
        relationships.validate(data["relationship"])
    if changed("resident_kind", "domicile") and data.get("resident_kind") == ResidentKind.JAPANESE and not data.get("domicile"):
        raise DomainError(
            ErrorCode.INVALID_INPUT, "本籍を入力してください（不明の場合は「不明」、ない場合は「なし」）。", field="domicile"
        )
    town_id = data.get("town_id")
    if changed("town_id") and town_id is not None and town_id not in (checked_towns or ()):
        if not Town.objects.filter(pk=town_id, is_active=True).exists():
            raise DomainError(ErrorCode.UNKNOWN_TOWN, "住所の町字が住所辞書にありません。", field="town_code")
        if checked_towns is not None:
            checked_towns.add(town_id)
    if changed("resident_kind", *FOREIGN_FIELDS):
        check_foreign(data)


def build_new(inp: dict, *, base: dict | None = None) -> dict:
    """Data of a version for a person entering the register, from typed input (+ a prior version)."""
    data = dict(base) if base else {name: None for name in DATA_FIELDS}
    fields = {f.attname: f for f in PersonVersion._meta.concrete_fields}
    for name in DATA_FIELDS:
        if data.get(name) is None:
            field = fields[name]
            data[name] = field.get_default() if not field.null else None
    for name in PERSON_INPUT_FIELDS:
        if name in inp and name not in ("my_number", "resident_code", "relationship"):
            data[name] = inp[name]
    data["resident_kind"] = data.get("resident_kind") or ResidentKind.JAPANESE
    for name in ("family_name_kana", "given_name_kana", "former_surname_kana", "alias_name_kana"):
        data[name] = kana(data.get(name))
    if "relationship" in inp:
        data["relationship"] = relationships.validate(inp["relationship"])
    if data["resident_kind"] == ResidentKind.JAPANESE:
        for name in FOREIGN_FIELDS:
            data[name] = None if name in ("stay_expires_on", "became_foreign_resident_on") else ""
    data["status"] = Status.RESIDENT
    data["removal_reason"] = ""
    data["removed_on"] = None
    for name in ("move_out_address", "move_out_confirmed_address"):
        data[name] = ""
    for name in ("move_out_planned_on", "move_out_confirmed_on", "move_in_notice_on"):
        data[name] = None
    data["special_move_out"] = False
    data["previous_municipality_code"] = ""
    return data


def identify_existing(inp: dict) -> tuple[Person | None, str]:
    """Look for this person among current and removed records by their identifiers [600]."""
    candidates = []
    if inp.get("my_number"):
        mynumber.validate(inp["my_number"])
        session = gate.current()
        if session is not None:
            session.my_number_accessed = True  # a look-up by 個人番号 is an access to it
        candidates.append(("my_number_digest", mynumber.digest(inp["my_number"]), "個人番号"))
    if inp.get("resident_code"):
        candidates.append(("resident_code", inp["resident_code"], "住民票コード"))
    if inp.get("residence_card_number"):
        candidates.append(("residence_card_number", inp["residence_card_number"], "在留カード等番号"))
    for field, value, label in candidates:
        lock_identifier(field, value)
        person = Person.objects.filter(**{f"current__{field}": value}).first()
        if person is not None:
            return person, label
    return None, ""


def three_info_matches(inp: dict) -> list[Person]:
    """Persons with the same 氏名・性別・生年月日 (the 3 情報 of [600]), the names compared as
    they would be stored (NFC, no surrounding spaces; a name with an invisible character is refused)."""
    inp = {**inp, "resident_kind": inp.get("resident_kind") or ResidentKind.JAPANESE}
    clean_texts(inp)
    return list(
        Person.objects.filter(
            current__birth_date=inp.get("birth_date"),
            current__family_name=inp.get("family_name"),
            current__given_name=inp.get("given_name") or "",
            current__sex=inp.get("sex"),
        )[:5]
    )
