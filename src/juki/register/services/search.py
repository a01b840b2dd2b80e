"""Resident search [340] and the keys it runs on.

Two kinds of search:
- by an identifier (宛名番号, 世帯番号, 住民票コード, 個人番号, 在留カード番号): exact, one item is enough;
- by the 4 information (氏名/フリガナ, 住所, 生年月日, 性別) plus 方書: prefix matches on the
  normalised keys of `SearchKey`, present and past, which C15 allows only with at least two items
  other than 性別 — so nobody can page through the register by one common surname.

Every search passes the access gate, which logs the criteria and the ids returned.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import asdict, dataclass, field, replace

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.core import mynumber, sql
from juki.core.checkdigits import is_valid_resident_code
from juki.core.errors import AccessDenied, DomainError, ErrorCode
from juki.core.wareki import display_date
from juki.protection import enforcement as protection

from .. import textnorm
from ..models import Person, PersonVersion, ResidentKind, SearchKey, Sex, Status, Town, Ward
from ..versions import version_data
from .people import address_text

MAX_ROWS = 50  # shown; beyond that the clerk is asked to refine
_CANDIDATES = 2000  # key rows read before ranking


@dataclass
class Criteria:
    name: str = ""  # 氏名・旧氏・通称 in kanji, alphabet or kana
    kana: str = ""  # フリガナ
    birth_date: dt.date | None = None
    sex: int | None = None
    ward_code: str = ""
    town_code: str = ""
    banchi: str = ""
    katagaki: str = ""
    atena_number: str = ""
    household_number: str = ""
    resident_code: str = ""
    my_number: str = ""
    residence_card_number: str = ""
    include_removed: bool = False

    IDENTIFIERS = ("atena_number", "household_number", "resident_code", "my_number", "residence_card_number")

    def clean(self) -> "Criteria":
        for name, value in asdict(self).items():
            if isinstance(value, str):
                setattr(self, name, value.strip())
        # Numbers as typed (full width, spaces, without the leading zeros): one rule, the glossary's.
        self.atena_number = textnorm.register_number(self.atena_number)
        self.household_number = textnorm.register_number(self.household_number)
        self.resident_code = textnorm.digits(self.resident_code)
        self.my_number = textnorm.digits(self.my_number)
        self.residence_card_number = textnorm.digits(self.residence_card_number)
        return self

    def identifiers(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in self.IDENTIFIERS if getattr(self, k)}

    def has_address(self) -> bool:
        return bool(self.ward_code or self.town_code or self.banchi or self.katagaki)

    def four_info_items(self) -> list[str]:
        """C15 counts 氏名, 住所 and 生年月日 (性別 never counts)."""
        items = []
        if self.name or self.kana:
            items.append("氏名")
        if self.town_code or self.katagaki:
            items.append("住所")
        if self.birth_date:
            items.append("生年月日")
        return items

    def for_log(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in asdict(self).items()
                if v not in ("", None, False)}

    def name_keys(self) -> tuple[str, str]:
        """(name_key, kana_key) to match: 氏名 typed in kana is a kana search; フリガナ always is."""
        name_q = kana_q = ""
        if self.name:
            if textnorm.is_kana(self.name):
                kana_q = textnorm.kana_key(self.name)
            else:
                name_q = textnorm.name_key(self.name)
        if self.kana:
            kana_q = textnorm.kana_key(self.kana)
        return name_q, kana_q


@dataclass
class Result:
    rows: list[dict] = field(default_factory=list)
    too_many: bool = False
    message: str = ""


# --- keys -------------------------------------------------------------------------------------


def keys_for(data: dict) -> list[tuple[str, str, str]]:
    """(kind, name_key, kana_key) of a version's names: full name, 名 alone, 旧氏, 通称."""
    family, given = data.get("family_name") or "", data.get("given_name") or ""
    fkana, gkana = data.get("family_name_kana") or "", data.get("given_name_kana") or ""
    out = [(SearchKey.Kind.NAME, textnorm.name_key(family + given), textnorm.kana_key(fkana + gkana))]
    if given:
        out.append((SearchKey.Kind.GIVEN, textnorm.name_key(given), textnorm.kana_key(gkana)))
    if data.get("former_surname"):
        out.append((SearchKey.Kind.FORMER, textnorm.name_key(data["former_surname"] + given),
                    textnorm.kana_key((data.get("former_surname_kana") or "") + gkana)))
    if data.get("alias_name"):
        out.append((SearchKey.Kind.ALIAS, textnorm.name_key(data["alias_name"]),
                    textnorm.kana_key(data.get("alias_name_kana") or "")))
    if data.get("kanji_name"):
        out.append((SearchKey.Kind.ALIAS, textnorm.name_key(data["kanji_name"]), ""))
    return out


def key_rows(data: dict) -> list[dict]:
    """The SearchKey rows (without person/seq) a version's data calls for."""
    common = {
        "birth_date": data["birth_date"],
        "sex": data["sex"],
        "town_id": data["town_id"],
        "banchi_key": textnorm.text_key(data.get("banchi") or ""),
        "katagaki_key": textnorm.text_key(data.get("katagaki") or ""),
    }
    return [dict(common, kind=kind, name_key=n, kana_key=k) for kind, n, k in keys_for(data)]


# The columns of a key row, in this order: what makes two rows "the same key" for a person.
KEY_COLUMNS = ("kind", "name_key", "kana_key", "birth_date", "sex", "town_id", "banchi_key", "katagaki_key")


def signature(row: dict) -> tuple:
    return tuple(row[k] for k in KEY_COLUMNS)


def index_version(person_id: int, seq: int, data: dict, before: dict | None) -> None:
    """Add the keys of a new version that the previous version did not already have.

    Past keys are kept (searches include past names and addresses), so only what is new is
    written: a change that touches neither names nor address writes nothing here.
    """
    if keys := new_keys(person_id, seq, data, before):
        SearchKey.objects.bulk_create(keys)


def new_keys(person_id: int, seq: int, data: dict, before: dict | None) -> list[SearchKey]:
    """The key rows `index_version` writes, unsaved (the writer puts them into its own statement)."""
    rows = key_rows(data)
    if before is not None:
        old = {signature(r) for r in key_rows(before)}
        rows = [r for r in rows if signature(r) not in old]
    return [SearchKey(person_id=person_id, seq=seq, **r) for r in rows]


# --- the search ---------------------------------------------------------------------------------


def _prefix(column: str, key: str) -> dict:
    return {f"{column}__gte": key, f"{column}__lt": textnorm.prefix_upper(key)}


def _refuse(message: str, field_name: str | None = None) -> DomainError:
    return DomainError(ErrorCode.SEARCH_CRITERIA, message, field=field_name)


def person_search(*, actor: Actor, criteria: Criteria) -> Result:
    criteria.clean()
    ids = criteria.identifiers()
    with gate.open(actor, function="person.search", perm=Perm.PERSON_SEARCH, criteria=criteria.for_log()) as session:
        if "my_number" in ids:
            session.my_number_accessed = True  # a look-up by 個人番号 is a use of it (C07)
        # A number the user may not see is no way in either ([1390]).
        for name, right in (("resident_code", Perm.FIELD_RESIDENT_CODE), ("residence_card_number", Perm.FIELD_FOREIGN)):
            if name in ids and not actor.can(right):
                raise AccessDenied("この番号で検索する権限がありません。")
        # 個人番号: only for a user of the 個人番号利用事務 (issue 11). The search shows no number, so the
        # right held is enough; showing one (`reveal_my_number`) also needs the second factor (C01).
        if "my_number" in ids and not actor.holds(Perm.MY_NUMBER_VIEW):
            raise AccessDenied("個人番号で検索する権限がありません。")
        if criteria.ward_code and not Ward.objects.filter(code=criteria.ward_code).exists():
            raise _refuse("指定された区はありません。区を選び直してください。", "ward_code")  # not 「該当なし」
        if ids:
            person_ids = _by_identifier(ids)
            ranked = {pid: 0 for pid in person_ids}
        else:
            items = criteria.four_info_items()
            if not items and criteria.sex is None:
                raise _refuse("検索条件を入力してください。")
            if len(items) < 2:
                raise _refuse(
                    "氏名・住所・生年月日のうち2項目以上を入力してください（性別は項目数に含みません）。"
                    "宛名番号などの番号で検索する場合は1項目で検索できます。"
                )
            ranked = _by_keys(criteria)
        people = _load(ranked, include_removed=criteria.include_removed)
        # 支援措置・照会抑止 [440][410]: who this user may not see is left out, for one marker per
        # reason; with address terms the marker follows the other criteria only (ADR 0009).
        beyond_address = None
        if not ids and criteria.has_address():
            beyond_address = functools.partial(_among_without_address, criteria)
        mask = protection.search_mask(session, [p.id for p in people], beyond_address=beyond_address)
        people = [p for p in people if p.id not in mask.hidden]
        past_only = set()
        for p in people:
            # Exact before prefix; a match on the name/address a person has now before a match
            # on a past one only; residents before removed persons.
            now = bool(ids) or _matches_now(criteria, p.current)
            if not now:
                past_only.add(p.id)
            ranked[p.id] = ranked[p.id] * 4 + (2 if now else 0) + (1 if p.status == Status.RESIDENT else 0)
        order = sorted(people, key=lambda p: (-ranked[p.id], p.current.family_name_kana, p.current.given_name_kana,
                                              p.current.birth_date, p.atena_number))
        too_many = len(order) > MAX_ROWS
        shown = order[:MAX_ROWS]
        session.record(p.id for p in shown)
        message = ""
        if too_many:
            message = f"該当者が{MAX_ROWS}件を超えました。上位{MAX_ROWS}件を表示しています。条件を追加して絞り込んでください。"
        elif not shown and not mask.markers:
            message = "該当する方はいません。"
        rows = [mask.tag(_row(session, p, past_only=p.id in past_only)) for p in shown] + mask.markers
        return Result(rows=rows, too_many=too_many, message=message)


def _among_without_address(c: Criteria, among: set[int]) -> set[int]:
    """Those of `among` who meet every criterion but the address (町字・区・番地・方書)."""
    if not among:
        return set()
    rest = replace(c, ward_code="", town_code="", banchi="", katagaki="")
    found = set(_by_keys(rest, among=among))
    if not c.include_removed:
        found = set(Person.objects.filter(pk__in=found, status=Status.RESIDENT).values_list("id", flat=True))
    return found


def _by_identifier(ids: dict[str, str]) -> set[int]:
    found: set[int] | None = None

    def meet(new: set[int]) -> None:
        nonlocal found
        found = new if found is None else found & new

    if v := ids.get("atena_number"):
        meet(set(Person.objects.filter(atena_number=v).values_list("id", flat=True)))
    if v := ids.get("household_number"):
        # The household's members now (a removed member stays listed with the household it left).
        meet(set(Person.objects.filter(household__number=v).values_list("id", flat=True)))
    if v := ids.get("resident_code"):
        if not is_valid_resident_code(v):  # a mistyped code finds no one silently otherwise
            raise DomainError(ErrorCode.INVALID_RESIDENT_CODE,
                              "住民票コードが正しくありません。11桁の数字で、検査用数字が一致するコードを入力してください。",
                              field="resident_code")
        meet(set(PersonVersion.objects.filter(resident_code=v).values_list("person_id", flat=True)))
    if v := ids.get("my_number"):
        number = v.replace(" ", "").replace("-", "")
        mynumber.validate(number)
        meet(set(PersonVersion.objects.filter(my_number_digest=mynumber.digest(number)).values_list("person_id", flat=True)))
    if v := ids.get("residence_card_number"):
        meet(set(PersonVersion.objects.filter(residence_card_number=v.upper()).values_list("person_id", flat=True)))
    return found or set()


def _by_keys(c: Criteria, *, among: set[int] | None = None) -> dict[int, int]:
    """person id → rank score, from the key rows that match every item given."""
    qs = SearchKey.objects.all() if among is None else SearchKey.objects.filter(person_id__in=among)
    name_q, kana_q = c.name_keys()
    if c.kana and not kana_q:
        raise _refuse("フリガナはカタカナまたはひらがなで入力してください。", "kana")
    if c.name and not (name_q or kana_q):
        raise _refuse("氏名を入力してください。", "name")
    if name_q:
        qs = qs.filter(**_prefix("name_key", name_q))
    if kana_q:
        qs = qs.filter(**_prefix("kana_key", kana_q))
    if c.birth_date:
        qs = qs.filter(birth_date=c.birth_date)
    if c.sex is not None:
        qs = qs.filter(sex=c.sex)
    if c.town_code:
        town = Town.objects.filter(code=c.town_code).first()
        if town is None:
            raise _refuse("町字が住所辞書にありません。候補から選んでください。", "town_code")
        qs = qs.filter(town_id=town.id)
        if c.banchi:
            qs = qs.filter(**_prefix("banchi_key", textnorm.text_key(c.banchi)))
    elif c.ward_code:
        qs = qs.filter(town_id__in=Town.objects.filter(ward__code=c.ward_code).values("id"))
    if c.katagaki:
        qs = qs.filter(**_prefix("katagaki_key", textnorm.text_key(c.katagaki)))
    scores: dict[int, int] = {}
    for pid, nk, kk in qs.values_list("person_id", "name_key", "kana_key")[:_CANDIDATES]:
        exact = bool((name_q and nk == name_q) or (kana_q and kk == kana_q))
        scores[pid] = max(scores.get(pid, 0), 2 if exact else 1)
    return scores


def _matches_now(c: Criteria, version: PersonVersion) -> bool:
    """Does the person's current version itself meet the criteria (not only a past one)?"""
    name_q, kana_q = c.name_keys()
    for row in key_rows(version_data(version)):
        if name_q and not row["name_key"].startswith(name_q):
            continue
        if kana_q and not row["kana_key"].startswith(kana_q):
            continue
        if c.banchi and not row["banchi_key"].startswith(textnorm.text_key(c.banchi)):
            continue
        if c.katagaki and not row["katagaki_key"].startswith(textnorm.text_key(c.katagaki)):
            continue
        if c.town_code and version.town.code != c.town_code:
            continue
        return True
    return False


_LOAD_RELATED = ("current", "current__town__ward__municipality", "household")  # address_text() reads all three


# The hits of every search, with what a result row shows: built once (core.sql.Joined).
_HITS = sql.Joined(Person, *_LOAD_RELATED, where="t.id IN ({ids})")
_RESIDENT_HITS = sql.Joined(Person, *_LOAD_RELATED, where="t.id IN ({ids}) AND t.status = %s")


def _load(ranked: dict[int, int], *, include_removed: bool) -> list[Person]:
    if include_removed:
        return _HITS.fetch(ids=ranked)
    return _RESIDENT_HITS.fetch([Status.RESIDENT.value], ids=ranked)


def _row(session, p: Person, *, past_only: bool) -> dict:
    v: PersonVersion = p.current
    row = {
        "person_id": p.id,
        "version": p.latest_seq,
        "atena_number": p.atena_number,
        "name": f"{v.family_name}　{v.given_name}".strip(),
        "kana": f"{v.family_name_kana}　{v.given_name_kana}".strip(),
        "alias_name": v.alias_name,
        "birth_date": display_date(v.birth_date, western=v.resident_kind == ResidentKind.FOREIGN),
        "sex": Sex(v.sex).label,
        "address": address_text(v.town, v.banchi, v.katagaki, prefecture=False),
        "household_id": v.household_id,
        "household_number": p.household.number if p.household else "",
        "relationship": v.relationship,
        "status": p.status,
        "status_label": Status(p.status).label,
        "resident_kind": v.resident_kind,
        "matched_past": past_only,  # found by a former name or address only
    }
    # A hit living where a protected person lives: no address or 世帯番号 (ADR 0013).
    return protection.conceal_place(session, row, household_id=p.household_id, town_id=v.town_id, banchi=v.banchi,
                                    katagaki=v.katagaki)
