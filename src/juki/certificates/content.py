"""What a certificate says: the items of 住民票の写し等, chosen and formatted [1000]–[1060].

`build()` turns register dicts (from `juki.register.selectors`, read by an actor holding the item
rights) into plain data: title, issue number, the common items (世帯連記式), one section per person
with its items and, if asked, its history, and the 認証文. No ORM and no gate here: the issue
service reads, `build()` chooses and formats, `render.render_pdf()` draws.

Item rules:
- 世帯主・続柄, 本籍・筆頭者, 住民票コード, 個人番号 and each foreign resident's item are printed
  only when chosen [1000]; everything else a 住民票 records is always printed.
- Before the 転出予定日, what the 転出届 recorded (転出先, 予定日) is left out [1000].
- Members come in the order of the household dict, which `household_get` sorts by [1010].
- Names carry their フリガナ in brackets [1020]; 方書 is part of the address, always printed [1030].
- Dates in 和暦, a foreign resident's birth date and 満了日 in 西暦 [90] (the selectors format them).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from juki.core.errors import DomainError, ErrorCode
from juki.core.wareki import to_wareki
from juki.protection.enforcement import SUPPORT_MARKER

FORMS = {
    "copy": "住民票の写し",
    "removed_copy": "住民票の除票の写し",
    "entry_cert": "住民票記載事項証明書",
    "removed_entry_cert": "住民票の除票の記載事項証明書",
}
REMOVED_FORMS = frozenset({"removed_copy", "removed_entry_cert"})
LAYOUTS = {"household": "世帯連記式", "individual": "個人票"}

# Foreign residents' items that are printed only when chosen [1000]: key in the person dict's
# "foreign" part → label on the certificate. "alias_name" is 通称 (with its フリガナ).
FOREIGN_ITEMS = {
    "nationality": "国籍・地域",
    "article_30_45_category": "法第30条の45に規定する区分",
    "residence_status": "在留資格",
    "period_of_stay": "在留期間等",
    "stay_expires_on": "在留期間等の満了の日",
    "residence_card_number": "在留カード等の番号",
    "alias_name": "通称",
}

# 認証文 [1050]. Chapter 4 of the standard is not in our spec file; this is the customary wording.
_CERTIFICATION = {
    "copy": "この写しは、{whole}住民票の原本と相違ないことを証明する。",
    "removed_copy": "この写しは、住民票の除票の原本と相違ないことを証明する。",
    "entry_cert": "上記の事項は、住民票に記載されていることを証明する。",
    "removed_entry_cert": "上記の事項は、住民票の除票に記載されていることを証明する。",
}
OFFICIAL_MARK = "公用"

_MOVE_OUT_REASONS = ("domestic_move_out", "abroad_move_out")


@dataclass(frozen=True)
class Options:
    form: str = "copy"
    layout: str = "household"  # "household" 世帯連記式 | "individual" 個人票 (除票 forms: individual only)
    person_ids: tuple[int, ...] = ()  # chosen members; () = 世帯全員
    history: bool = False  # 履歴あり
    head_and_relationship: bool = False  # 世帯主・続柄 (omitted unless asked)
    domicile: bool = False  # 本籍・筆頭者
    resident_code: bool = False  # 住民票コード
    my_number: bool = False  # 個人番号
    foreign_items: frozenset[str] = frozenset()  # which of FOREIGN_ITEMS to print for foreign residents
    official: bool = False  # 公用 [1060]

    def validate(self) -> None:
        if self.form not in FORMS:
            raise DomainError(ErrorCode.INVALID_INPUT, "証明書の種類が正しくありません。", field="form")
        if self.layout not in LAYOUTS:
            raise DomainError(ErrorCode.INVALID_INPUT, "様式（世帯連記式・個人票）が正しくありません。", field="layout")
        if self.form in REMOVED_FORMS and self.layout != "individual":
            raise DomainError(ErrorCode.INVALID_INPUT, "除票の証明書は個人票で発行してください。", field="layout")
        unknown = set(self.foreign_items) - set(FOREIGN_ITEMS)
        if unknown:
            raise DomainError(ErrorCode.INVALID_INPUT, "外国人住民の記載項目の指定が正しくありません。",
                              field="foreign_items")


# --- small formatters ---------------------------------------------------------------------


def _disp(value: dict | None) -> str:
    return value["display"] if value else ""


def _iso(value: dict | None) -> dt.date | None:
    return dt.date.fromisoformat(value["date"]) if value else None


def _join(*parts: str, sep: str = "　") -> str:
    return sep.join(p for p in parts if p)


def with_kana(text: str, kana: str) -> str:
    # [1020]: 「住民　太郎　（ジュウミン　タロウ）」
    return f"{text}　（{kana}）" if text and kana else text


def issue_stamp(issue_number: str, issued_on: dt.date, municipality: str, mayor_title: str) -> dict:
    """The items every form carries about its issue: number, date (also in 和暦), issuer [1040][1050]."""
    return {"issue_number": issue_number, "issued_on": issued_on.isoformat(), "issued_on_display": to_wareki(issued_on),
            "municipality": municipality, "mayor_title": mayor_title}


def written_name(n: dict) -> str:
    # A name in Roman letters (a foreign resident's) is spaced the way it is written: 「NGUYEN VAN AN」.
    latin = (n["family_name"] + n["given_name"]).isascii()
    return _join(n["family_name"], n["given_name"], sep=" " if latin else "　")


def name_text(person: dict) -> str:
    n = person["name"]
    name = written_name(n)
    kanji = (person.get("foreign") or {}).get("kanji_name") or ""
    kana = _join(n.get("family_name_kana") or "", n.get("given_name_kana") or "")
    return with_kana(_join(name, kanji), kana)


def _plain_name(person: dict) -> str:
    n = person["name"]
    return _join(n["family_name"], n["given_name"])


def my_number_text(number: str) -> str:
    digits = "".join(ch for ch in number if ch.isdigit())
    return " ".join(digits[i:i + 4] for i in range(0, len(digits), 4))


def removed_by(person: dict, on: dt.date) -> bool:
    """The person's record was removed (消除) on or before `on` (a 転出予定日 still ahead is not)."""
    removed_on = _iso(person.get("removed_on"))
    return person.get("status") == "removed" and removed_on is not None and removed_on <= on


def _move_out_pending(person: dict, on: dt.date) -> bool:
    """A 転出届 whose 転出予定日 is still ahead: its items are left out [1000]."""
    removed_on = _iso(person.get("removed_on"))
    planned = _iso((person.get("move_out") or {}).get("planned_on"))
    return bool((removed_on and removed_on > on) or (planned and planned > on and not removed_by(person, on)))


# --- items --------------------------------------------------------------------------------


def require_item(person: dict, item: str, label: str, *, form: str = "") -> None:
    """The item rights hide values by setting them to None: a certificate built from such a read
    would silently lack an item, so refuse instead of printing an incomplete copy. `form`: the
    form whose statutory item it is (the message then says it cannot be issued)."""
    if label in (person.get("hidden_items") or []):
        message = (f"{label}を記載する権限がないため、{form}を交付できません。" if form
                   else f"{label}を記載する権限がありません。")
        raise DomainError(ErrorCode.PERMISSION_DENIED, message, field=item)


def person_items(person: dict, options: Options, *, on: dt.date, head_name: str, with_address: bool) -> list[list[str]]:
    """One person's items as [label, value] rows, in the order of the standard form."""
    foreign = person.get("foreign")
    rows: list[list[str]] = [["氏名", name_text(person)]]
    n = person["name"]
    if n.get("former_surname"):
        rows.append(["旧氏", with_kana(n["former_surname"], n.get("former_surname_kana") or "")])
    if foreign and "alias_name" in options.foreign_items and foreign.get("alias_name"):
        rows.append(["通称", with_kana(foreign["alias_name"], foreign.get("alias_name_kana") or "")])
    rows.append(["生年月日", _disp(person.get("birth_date"))])
    rows.append(["性別", person.get("sex_label") or ""])
    if options.head_and_relationship:
        if with_address:
            rows.append(["世帯主", head_name])
        rows.append(["続柄", person.get("relationship") or ""])
    if with_address:
        rows.append(["住所", (person.get("address") or {}).get("display", "")])
    if not foreign:
        rows.append(["住民となった年月日", _disp(person.get("became_resident_on"))])
    else:
        rows.append(["外国人住民となった年月日", _disp(foreign.get("became_foreign_resident_on"))])
    rows.append(["住所を定めた年月日", _disp(person.get("address_set_on"))])
    if not (_move_out_pending(person, on) and person.get("reason") in _MOVE_OUT_REASONS):
        # The 転出届's own version carries the 転出届's 届出日: before the 転出予定日 that is left out too.
        rows.append(["届出日", _disp(person.get("notified_on"))])
    if person.get("previous_address"):
        rows.append(["転入前住所", person["previous_address"]])
    if options.domicile and not foreign:
        require_item(person, "domicile", "本籍・筆頭者")
        rows.append(["本籍", person.get("domicile") or ""])
        rows.append(["筆頭者", person.get("domicile_head") or ""])
    if options.resident_code:
        require_item(person, "resident_code", "住民票コード")
        rows.append(["住民票コード", person.get("resident_code") or ""])
    if options.my_number:
        if person.get("has_my_number") and not person.get("my_number"):
            # The caller must read with reveal_my_number (and the right to it); never print a blank.
            raise DomainError(ErrorCode.PERMISSION_DENIED, "個人番号を記載するには個人番号の表示権限が必要です。",
                              field="my_number")
        rows.append(["個人番号", my_number_text(person.get("my_number") or "")])
    if foreign:
        for key, label in FOREIGN_ITEMS.items():
            if key == "alias_name" or key not in options.foreign_items:
                continue
            if label != "国籍・地域":
                require_item(person, key, "在留資格等")
            value = foreign.get(key)
            rows.append([label, _disp(value) if isinstance(value, dict) else (value or "")])
    rows += _move_out_rows(person, on)
    return rows


def _move_out_rows(person: dict, on: dt.date) -> list[list[str]]:
    if _move_out_pending(person, on):
        return []  # [1000]: nothing from the 転出届 before the 転出予定日
    mo = person.get("move_out") or {}
    rows = []
    if removed_by(person, on):
        rows.append(["消除", _join(_disp(person.get("removed_on")), _removal_label(person))])
    if mo.get("confirmed_address"):
        rows.append(["転出先", mo["confirmed_address"]])
        if mo.get("confirmed_on"):
            rows.append(["転出年月日", _disp(mo["confirmed_on"])])
    elif mo.get("planned_address"):
        rows.append(["転出予定先", mo["planned_address"]])
        if mo.get("planned_on"):
            rows.append(["転出予定年月日", _disp(mo["planned_on"])])
    return rows


def _removal_label(person: dict) -> str:
    reason = person.get("removal_reason") or ""
    if person.get("reason") in _MOVE_OUT_REASONS or reason in _MOVE_OUT_REASONS:
        return "転出"
    return person.get("reason_label") or reason


# --- history ------------------------------------------------------------------------------


def _tracked(person: dict, options: Options) -> dict[str, str]:
    """The printed items whose changes a history shows (nothing the options omit)."""
    out = {
        "氏名": name_text(person),
        "住所": (person.get("address") or {}).get("display", ""),
        "世帯": person.get("household_number") or "",
    }
    if options.head_and_relationship:
        out["続柄"] = person.get("relationship") or ""
    if options.domicile and not person.get("foreign"):
        out["本籍"] = _join(person.get("domicile") or "", person.get("domicile_head") or "")
    foreign = person.get("foreign") or {}
    for key in options.foreign_items:
        value = foreign.get(key)
        if key in FOREIGN_ITEMS and value is not None:
            out[FOREIGN_ITEMS[key]] = _disp(value) if isinstance(value, dict) else value
    return out


def history_rows(versions: list[dict], options: Options, *, on: dt.date) -> list[list[str]]:
    """[異動日, 異動事由, 内容] for each recorded change up to the issue date, oldest first."""
    rows: list[list[str]] = []
    before: dict[str, str] | None = None
    for v in versions:
        if (_iso(v.get("event_date")) or on) > on:
            continue  # a change dated after the issue date (a future 転出予定) is not printed
        now = _tracked(v, options)
        if before is None:
            detail = "記載"
        else:
            changed = [f"{k}：{before[k]} → {now[k]}" for k in now if k in before and before[k] != now[k] and k != "世帯"]
            if now.get("世帯") != before.get("世帯"):
                changed.append("世帯の変更")
            detail = "\n".join(changed) or "記載事項の変更"
        notified = _disp((v.get("change") or {}).get("notified_on"))
        reason = v.get("reason_label") or ""
        rows.append([_disp(v.get("event_date")), _join(reason, f"（{notified} 届出）" if notified else "", sep=""), detail])
        before = now
    return rows


# --- the certificate -----------------------------------------------------------------------


def _check_people(persons: list[dict], options: Options, on: dt.date) -> None:
    if not persons:
        raise DomainError(ErrorCode.INVALID_INPUT, "証明書に記載する方を選んでください。", field="person_ids")
    for p in persons:
        if p.get("masked"):
            raise DomainError(ErrorCode.SUPPORT_MEASURE_BLOCK, "支援措置の対象者が含まれるため、この証明書は発行できません。")
        removed = removed_by(p, on)
        if options.form in REMOVED_FORMS and not removed:
            raise DomainError(ErrorCode.NOT_REMOVED, "消除されていない方の除票は発行できません。住民票の写しを選んでください。",
                              field="form")
        if options.form not in REMOVED_FORMS and removed:
            raise DomainError(ErrorCode.NOT_RESIDENT, "消除された方の住民票の写しは発行できません。除票の写しを選んでください。",
                              field="form")


def build(*, household: dict | None, persons: list[dict], histories: dict[int, list[dict]] | None,
          options: Options, issue_number: str, issued_on: dt.date, municipality: str,
          mayor_title: str) -> dict:
    """The certificate as plain data (see the module docstring).

    ``household``: the `household_get` dict (世帯連記式; its members give the [1010] order);
    ``persons``: person dicts (`person_get`, with ``my_number`` when it is to be printed);
    ``histories``: person id → `person_history` list, when ``options.history``;
    ``mayor_title``: as printed above the seal, with the prefecture [1050] (「福岡県北九州市長」).
    """
    options.validate()
    by_id = {p["person_id"]: p for p in persons}
    if household is not None:
        # [1010]: the household dict is already in member order; keep the chosen ones in it.
        wanted = set(options.person_ids) or {m["person_id"] for m in household["members"]}
        order = [m["person_id"] for m in household["members"] if m["person_id"] in wanted]
        order += [pid for pid in by_id if pid not in order and pid in wanted]
        people = [by_id.get(pid) or next(m for m in household["members"] if m["person_id"] == pid) for pid in order]
    else:
        people = [by_id[pid] for pid in options.person_ids if pid in by_id] or list(persons)
    _check_people(people, options, issued_on)

    layout = options.layout
    head_name = ((household or {}).get("head") or {}).get("name", "")
    if options.head_and_relationship and head_name == SUPPORT_MARKER:
        raise DomainError(ErrorCode.SUPPORT_MEASURE_BLOCK,
                          "世帯主が支援措置の対象者のため、世帯主・続柄を記載した証明書は発行できません。")
    if options.head_and_relationship and household is None:
        heads = [p for p in people if p.get("relationship") == "世帯主"]
        if len(people) != len(heads):
            # A member's 世帯主 is named in the household dict only: the caller must pass it.
            raise ValueError("世帯主・続柄 for a member needs the household dict")
    common: list[list[str]] = []
    if layout == "household":
        address = (household or {}).get("address") or people[0].get("address") or {}
        common.append(["住所", address.get("display", "")])
        if options.head_and_relationship:
            common.append(["世帯主", head_name or ""])
    all_ids = {m["person_id"] for m in household["members"]} if household else set()
    whole = layout == "household" and bool(all_ids) and all_ids <= {p["person_id"] for p in people}

    sections = []
    for index, person in enumerate(people, start=1):
        section = {
            "person_id": person["person_id"],
            "heading": f"{index}" if layout == "household" else "",
            "items": person_items(person, options, on=issued_on, head_name=_plain_name(person) if household is None else head_name,
                                  with_address=layout == "individual"),
            "history": [],
        }
        if options.history:
            versions = (histories or {}).get(person["person_id"])
            if versions is None:
                raise ValueError(f"history asked for but not given for person {person['person_id']}")
            section["history"] = history_rows(versions, options, on=issued_on)
        sections.append(section)

    title = FORMS[options.form]
    if options.form == "copy" and layout == "household":
        title = f"{title}（世帯全員）" if whole else f"{title}（世帯一部）"
    return {
        "form": options.form,
        "title": title,
        "layout": layout,
        "official": options.official,
        "official_mark": OFFICIAL_MARK if options.official else "",
        **issue_stamp(issue_number, issued_on, municipality, mayor_title),
        "common": common,
        "sections": sections,
        "certification": _CERTIFICATION[options.form].format(whole="世帯全員の" if whole else ""),
        "person_ids": [s["person_id"] for s in sections],
    }
