"""Master data: the 町字 dictionary [250], loaded from a city's CSV, all-or-nothing."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from django.db import transaction

from juki.core import sql
from juki.core.checkdigits import is_valid_local_government_code
from juki.core.errors import DomainError, ErrorCode

from .. import textnorm
from ..models import Municipality, Town, Ward

REQUIRED = ("ward_code", "ward_name", "town_name", "town_kana", "postal_code")
OPTIONAL = ("town_code", "elementary_school_district", "junior_high_school_district", "voting_district")
_KANA = re.compile(r"^[ァ-ヶー・　 ]*$")


@dataclass
class LoadSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    wards: list[str] = field(default_factory=list)


def _read(text: str) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    try:
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise DomainError(ErrorCode.TOWN_FILE_INVALID, f"町字ファイルに必要な列がありません: {', '.join(missing)}")
        return list(reader)
    except csv.Error:  # a bare CR inside a field, a field over csv's size limit (issue 18: fuzzing)
        raise DomainError(ErrorCode.TOWN_FILE_INVALID, f"町字ファイルの{reader.line_num}行目をCSVとして読めません"
                          "（項目の中の改行や、長すぎる項目がないか確認してください）。1件も登録していません。") from None


# A 指定都市's wards are numbered right after the city (北九州市 40100: 門司区 40101 … 八幡西区 40109;
# 大阪市 27100: 27102 … 27128), before the next city of the prefecture (福岡市 40130).
WARD_SPAN = 30


_WARDS = sql.Joined(Ward, where="1 = 1", order="t.code")


def wards() -> list[Ward]:
    """The city's 区 in code order (every search form lists them): the statement built once."""
    return _WARDS.fetch()


def ward_of(ward_code: str, municipality_code: str) -> bool:
    """Is `ward_code` the municipality itself (a city without wards) or one of its wards?"""
    ward, city = int(ward_code[:5]), int(municipality_code[:5])
    return ward == city or (city % 10 == 0 and 0 < ward - city < WARD_SPAN)


def _validate(rows: list[dict], municipality_code: str) -> list[str]:
    errors = []
    seen = set()
    codes = set()
    for n, row in enumerate(rows, start=2):
        ward = (row.get("ward_code") or "").strip()
        name = (row.get("town_name") or "").strip()
        if not is_valid_local_government_code(ward):
            errors.append(f"{n}行目: 区の地方公共団体コード {ward!r} の検査数字が一致しません。")
        elif ward[:2] != municipality_code[:2]:
            errors.append(f"{n}行目: 区コード {ward} が都道府県コード {municipality_code[:2]} と一致しません。")
        elif not ward_of(ward, municipality_code):
            errors.append(f"{n}行目: 区コード {ward} は市区町村コード {municipality_code} の区ではありません。")
        if not name:
            errors.append(f"{n}行目: 町字名が空です。")
        for label, key in (("区名", "ward_name"), ("町字名", "town_name")):
            if bad := textnorm.forbidden_characters(row.get(key) or ""):  # issue 11: the same rule as names
                errors.append(f"{n}行目: {label}に表示・印刷できない文字があります（{'、'.join(bad[:3])}）。")
        if not re.fullmatch(r"\d{7}", (row.get("postal_code") or "").strip()):
            errors.append(f"{n}行目: 郵便番号は7桁の数字です。")
        if not _KANA.match((row.get("town_kana") or "").strip()):
            errors.append(f"{n}行目: 町字カナは全角カタカナで入力してください。")
        if (ward, name) in seen:
            errors.append(f"{n}行目: 同じ区に同じ町字名 {name} が重複しています。")
        seen.add((ward, name))
        code = (row.get("town_code") or "").strip()
        if code:
            if not re.fullmatch(r"\d{11}", code) or code[:5] != ward[:5]:
                errors.append(f"{n}行目: 町字コードは区コード（5桁）で始まる11桁の数字です。")
            if code in codes:
                errors.append(f"{n}行目: 町字コード {code} が重複しています。")
            codes.add(code)
    return errors


@transaction.atomic
def towns_load(*, text: str, municipality_code: str, municipality_name: str, prefecture: str) -> LoadSummary:
    """Validate every row first; write nothing unless all are valid. Re-running updates in place."""
    if not is_valid_local_government_code(municipality_code):
        raise DomainError(ErrorCode.INVALID_LOCAL_GOVERNMENT_CODE, "市区町村の地方公共団体コードの検査数字が一致しません。")
    rows = _read(text)
    errors = _validate(rows, municipality_code)
    if errors:
        raise DomainError(ErrorCode.TOWN_FILE_INVALID, "町字ファイルに誤りがあります。1件も登録していません。",
                          details={"errors": errors[:200], "error_count": len(errors)})
    muni, _ = Municipality.objects.update_or_create(
        code=municipality_code, defaults={"name": municipality_name, "prefecture": prefecture,
                                          "mayor_title": f"{municipality_name}長"})
    summary = LoadSummary()
    wards: dict[str, Ward] = {}
    for row in rows:
        code = row["ward_code"].strip()
        if code not in wards:
            wards[code], _ = Ward.objects.update_or_create(code=code, defaults={"name": row["ward_name"].strip(),
                                                                                 "municipality": muni})
    summary.wards = sorted(wards)
    existing = {(t.ward.code, t.name): t for t in Town.objects.select_related("ward").filter(ward__in=wards.values())}
    used_codes = set(Town.objects.values_list("code", flat=True))
    next_serial: dict[str, int] = {}
    for row in rows:
        ward = wards[row["ward_code"].strip()]
        name = row["town_name"].strip()
        values = {
            "kana": row["town_kana"].strip(),
            "postal_code": row["postal_code"].strip(),
            **{k: (row.get(k) or "").strip() for k in OPTIONAL[1:]},
            "is_active": True,
        }
        town = existing.get((ward.code, name))
        wanted_code = (row.get("town_code") or "").strip()
        if town is None:
            if not wanted_code:
                # 住所コード: 市区町村(5) + 大字(3) + 小字(3); the city assigns 大字 serials per ward.
                serial = next_serial.get(ward.code, 1)
                while f"{ward.code[:5]}{serial:03d}000" in used_codes:
                    serial += 1
                next_serial[ward.code] = serial + 1
                wanted_code = f"{ward.code[:5]}{serial:03d}000"
            used_codes.add(wanted_code)
            Town.objects.create(code=wanted_code, ward=ward, name=name, **values)
            summary.created += 1
        else:
            if wanted_code and wanted_code != town.code:
                values["code"] = wanted_code
            if any(getattr(town, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(town, k, v)
                town.save()
                summary.updated += 1
            else:
                summary.unchanged += 1
    return summary
