"""A deterministic synthetic city for demos, tests and benchmarks (`juki seed`).

Same --seed, same --today and the same 町字 dictionary give the same city. Names come from
Faker's ja_JP provider tables — the data behind `last_name_pair()` /
`first_name_male_pair()` / `first_name_female_pair()` — drawn with our own seeded RNG, because
calling Faker per person would cost more than everything else together at 1 M persons.

Rows are written with explicit ids in bulk (COPY of pre-formatted text on PostgreSQL,
executemany on SQLite) in chunks, so memory stays flat. It is a migration-style batch, not a 異動:
it writes versions under a `seed` change ("移行データ") and no outbox events, and it runs inside one
access-gate session logged as `batch.seed`.

Two ways to write (issue 19: 1 M persons in ≤ 60 s on PostgreSQL):
- chunked (the default for a small run or a register that has persons): each chunk commits with
  its sequences, so a stopped seed leaves whole chunks the register can work with (issue 11);
- bulk (a large run into an empty register): one transaction that drops the secondary indexes,
  unique and foreign-key constraints of the tables it fills, loads them, and creates the same
  indexes and constraints again from their own definitions — built once by sort instead of
  maintained row by row. A bulk seed stopped part-way leaves the register empty, as it was.
With more than one chunk the city is drawn in a forked worker process while this one writes, on
the second core; the draw is the same single RNG stream either way, so the city is the same.
"""
from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import queue as queue_module
import random
from dataclasses import dataclass
from operator import itemgetter
from typing import Callable, Iterator

from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone
from faker.providers.person.ja_JP import Provider as JaNames

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.core import mynumber
from juki.core.checkdigits import mod11_check_digit, with_check_digit

from ..models import (
    Change, Household, NumberSequence, Person, PersonVersion, ResidentCodeStock, ResidentKind, SearchKey, Status,
    Town,
)
from ..reasons import Operation, Reason, label
from .. import textnorm
from . import numbers, search

LAST_NAMES = list(JaNames.last_name_pairs.keys()) if isinstance(JaNames.last_name_pairs, dict) else list(JaNames.last_name_pairs)
MALE_NAMES = list(JaNames.first_name_male_pairs)
FEMALE_NAMES = list(JaNames.first_name_female_pairs)

FOREIGN = [
    # nationality, family names, given names (alphabet), kana readings are built from them
    ("中国", ["WANG", "LI", "ZHANG", "LIU", "CHEN"], ["WEI", "FANG", "JING", "LEI", "MIN"]),
    ("韓国", ["KIM", "LEE", "PARK", "CHOI", "JUNG"], ["MINJUN", "SEOYEON", "JIHO", "HAEUN", "DOYUN"]),
    ("ベトナム", ["NGUYEN", "TRAN", "LE", "PHAM", "HOANG"], ["VAN AN", "THI LAN", "DUC MINH", "THI HOA", "QUANG HUY"]),
    ("フィリピン", ["SANTOS", "REYES", "CRUZ", "BAUTISTA", "GARCIA"], ["MARIA", "JOSE", "ANGELICA", "MARK", "JOY"]),
    ("ネパール", ["SHRESTHA", "GURUNG", "TAMANG", "RAI", "THAPA"], ["SUNITA", "RAM", "BIKASH", "ANITA", "SAROJ"]),
    ("米国", ["SMITH", "JOHNSON", "BROWN", "MILLER", "DAVIS"], ["JOHN", "EMILY", "MICHAEL", "SARAH", "DAVID"]),
]

STATUSES = [("技術・人文知識・国際業務", "5年"), ("留学", "4年3月"), ("技能実習第2号ロ", "1年"),
            ("永住者", "無期限"), ("家族滞在", "3年"), ("特定技能1号", "1年")]
ORIGINS = ["福岡県福岡市博多区博多駅前二丁目1番1号", "山口県下関市竹崎町4丁目1番", "東京都千代田区丸の内一丁目9番",
           "大阪府大阪市北区梅田三丁目1番", "福岡県行橋市中央一丁目1番1号", "熊本県熊本市中央区手取本町1番1号"]
DOMICILES = ["東京都千代田区千代田1番", "福岡県福岡市中央区天神一丁目8番", "大分県中津市豊田町14番地",
             "山口県下関市南部町1番1号", "佐賀県佐賀市栄町1番1号"]
BUILDINGS = ["サンハイツ", "コーポ", "メゾン", "グランドパレス", "レジデンス", "ハイム"]
HOUSEHOLD_SIZES = [(1, 38), (2, 28), (3, 16), (4, 12), (5, 5), (6, 1)]


@dataclass
class SeedSummary:
    persons: int
    removed: int
    households: int
    versions: int
    foreign: int
    seconds: float


def _bijection(index: int, modulus: int, a: int, b: int) -> int:
    # a is coprime to the modulus (a power of ten): i ↦ (a·i + b) mod m never repeats.
    return (a * index + b) % modulus


def my_number_for(index: int, salt: int) -> str:
    body = str(_bijection(index, 10**11, 7_919_393_117, 13_579 + salt)).zfill(11)
    return body + str(mod11_check_digit(body))


def resident_code_for(index: int, salt: int) -> str:
    body = str(_bijection(index, 10**10, 2_718_281_829, 31_415 + salt)).zfill(10)
    return body + str(mod11_check_digit(body))


# Tables in the order a chunk writes them (foreign keys point backwards but for person ↔ version,
# which the deferred constraints allow within the transaction), and their columns.
_TABLES = {
    "register_household": (Household, ["id", "number", "lock_version", "head_absent_since", "created_at"]),
    "register_change": (Change, ["id", "operation", "event_date", "notified_on", "processed_at", "operator_id",
                                 "system", "terminal_id", "late_notification", "cancels_id", "note"]),
    "register_person": (Person, ["id", "atena_number", "latest_seq", "status", "removed_on", "household_id",
                                 "current_id", "created_at"]),
    "register_personversion": (PersonVersion, [f.column for f in PersonVersion._meta.concrete_fields]),
    "register_searchkey": (SearchKey, ["person_id", "seq", *search.KEY_COLUMNS]),
}
# The seed builds key rows as tuples in this order (CityGenerator._signatures).
assert search.KEY_COLUMNS == ("kind", "name_key", "kana_key", "birth_date", "sex", "town_id", "banchi_key",
                              "katagaki_key")
_UNSAFE = str.maketrans("", "", "\\\t\n\r")


def _formatter(model, columns: list[str], vendor: str) -> Callable[[tuple], object]:
    """row tuple → a COPY text line (PostgreSQL) or the tuple sqlite3 takes, compiled once per table.

    One f-string per row instead of a call per value: at 1 M persons the seed formats ~75 M values.
    Strings go in unescaped: every text the seed writes is drawn from tables checked by `_plain`.
    """
    fields = {f.column: f for f in model._meta.concrete_fields}
    parts = []
    for i, col in enumerate(columns):
        f, v = fields[col], f"r[{i}]"
        kind = f.get_internal_type()
        if vendor == "postgresql":
            expr = f"_BX + {v}.hex()" if kind == "BinaryField" else v
            parts.append("{" + (f"_NULL if {v} is None else {expr}" if f.null else expr) + "}")
        else:
            expr = {"DateField": f"{v}.isoformat()", "DateTimeField": f"_utc({v})"}.get(kind, v)
            parts.append(f"None if {v} is None else {expr}" if f.null and expr != v else expr)
    if vendor == "postgresql":
        source = "lambda r: f'" + "\\t".join(parts) + "\\n'"
    else:
        source = "lambda r: (" + ", ".join(parts) + ",)"
    return eval(source, {"_NULL": "\\N", "_BX": "\\\\x", "_utc": _sqlite_datetime})  # noqa: S307 - built above


def _sqlite_datetime(v: dt.datetime) -> str:
    return v.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(sep=" ")


def _plain(texts) -> None:
    """Refuse a text COPY would need to escape (backslash, tab, newline): the formatter does not."""
    for text in texts:
        if isinstance(text, str) and text != text.translate(_UNSAFE):
            raise ValueError(f"seed text needs escaping: {text!r}")


class _Sink:
    """Buffers rows per table; `take` formats them for the engine's bulk path and empties it."""

    def __init__(self):
        self.rows: dict[str, tuple[list[str], list[tuple]]] = {t: (cols, []) for t, (_, cols) in _TABLES.items()}
        self._formatters: dict[tuple[str, str], Callable] = {}

    def take(self, vendor: str) -> list[tuple[str, list[str], object]]:
        """[(table, columns, data)]: data is UTF-8 COPY text on PostgreSQL, a list of tuples on SQLite."""
        out = []
        for table, (columns, rows) in self.rows.items():
            if not rows:
                continue
            fmt = self._formatters.get((table, vendor))
            if fmt is None:
                fmt = self._formatters[(table, vendor)] = _formatter(_TABLES[table][0], columns, vendor)
            if vendor == "postgresql":
                text = "".join(map(fmt, rows))
                # A value holding a tab or newline would shift columns: refuse rather than load it.
                if text.count("\n") != len(rows) or text.count("\t") != len(rows) * (len(columns) - 1):
                    raise ValueError(f"{table}: a value holds a tab or newline")
                data = text.encode()
            else:
                data = list(map(fmt, rows))
            out.append((table, columns, data))
            rows.clear()
        return out


def _write(payload) -> None:
    raw = connection.connection
    for table, columns, data in payload:
        cols = ", ".join(columns)
        if connection.vendor == "postgresql":
            with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                copy.write(data)
        else:
            marks = ", ".join("?" for _ in columns)
            raw.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", data)


class CityGenerator:
    def __init__(self, *, seed: int, today: dt.date, towns: list[Town], start_ids: dict[str, int]):
        self.rng = random.Random(seed)
        self.salt = seed % 1000
        self.today = today
        self.towns = towns
        city = towns[0].ward.municipality if towns else None
        self.city = f"{city.prefecture}{city.name}" if city else ""  # 本籍 in the city itself, as most have
        # Read here, in the parent: a worker process (forked) draws persons without touching the database.
        self.ward_names = {t.id: t.ward.name for t in towns}
        self.ids = dict(start_ids)
        self.person_index = start_ids["person_index"]
        self.sink = _Sink()
        rows = {table: rows.append for table, (_, rows) in self.sink.rows.items()}
        self._add_household, self._add_change = rows["register_household"], rows["register_change"]
        self._add_person, self._add_version = rows["register_person"], rows["register_personversion"]
        self._add_key = rows["register_searchkey"]
        self._version_row = itemgetter(*(f.attname for f in PersonVersion._meta.concrete_fields))
        self._keys_seen: dict[int, set] = {}
        # Names come from small tables and addresses from the 町字 dictionary: their keys repeat.
        self._name_keys: dict[tuple, list[tuple]] = {}
        self._text_keys: dict[str, str] = {}
        self._processed: dict[dt.date, dt.datetime] = {}
        self.now = timezone.now()  # created_at: one instant per chunk (seed_city sets it)
        self.counts = {"persons": 0, "removed": 0, "households": 0, "versions": 0, "foreign": 0}
        _plain([*(x for row in (*LAST_NAMES, *MALE_NAMES, *FEMALE_NAMES) for x in row),
                *(x for nat, fam, giv in FOREIGN for x in (nat, *fam, *giv)), *(x for pair in STATUSES for x in pair),
                *ORIGINS, *DOMICILES, *BUILDINGS, *(t.name for t in towns)])

    # --- ids and numbers -----------------------------------------------------------------------
    def _next(self, key: str) -> int:
        self.ids[key] += 1
        return self.ids[key]

    def _date_between(self, start: dt.date, end: dt.date) -> dt.date:
        if end <= start:
            return start
        return start + dt.timedelta(days=self.rng.randrange((end - start).days + 1))

    def _birth(self, age: int) -> dt.date:
        year_start = self.today - dt.timedelta(days=int((age + 1) * 365.25) - 1)
        return self._date_between(year_start, year_start + dt.timedelta(days=364))

    def _address(self) -> dict:
        town = self.rng.choice(self.towns)
        banchi = f"{self.rng.randint(1, 30)}番{self.rng.randint(1, 25)}号"
        katagaki = ""
        if self.rng.random() < 0.3:
            katagaki = f"{self.rng.choice(BUILDINGS)}{town.name[:2]}{self.rng.randint(1, 9)}{self.rng.randint(0, 1)}{self.rng.randint(1, 9)}号室"
        return {"town_id": town.id, "banchi": banchi, "katagaki": katagaki}

    # --- rows ----------------------------------------------------------------------------------
    def _change(self, event_date: dt.date) -> int:
        cid = self._next("change")
        processed = self._processed.get(event_date)
        if processed is None:
            processed = self._processed[event_date] = timezone.make_aware(dt.datetime.combine(event_date, dt.time(10, 0)))
        self._add_change((cid, Operation.SEED, event_date, event_date, processed, None, "seed", None, False, None, ""))
        return cid

    def _version(self, person_id: int, seq: int, change_id: int, reason: Reason, event_date: dt.date, data: dict) -> int:
        vid = self._next("version")
        row = dict(data, id=vid, person_id=person_id, seq=seq, change_id=change_id, reason=reason, event_date=event_date)
        self._add_version(self._version_row(row))
        seen = self._keys_seen.setdefault(person_id, set())
        for signature in self._signatures(data):
            if signature not in seen:  # as the writer does: only keys the person did not have
                seen.add(signature)
                self._add_key((person_id, seq, *signature))
        self.counts["versions"] += 1
        return vid

    def _signatures(self, data: dict) -> list[tuple]:
        """search.signature() of each of search.key_rows(data), with the key functions memoised."""
        names = (data["family_name"], data["given_name"], data["family_name_kana"], data["given_name_kana"],
                 data["former_surname"], data["former_surname_kana"], data["alias_name"], data["alias_name_kana"],
                 data["kanji_name"])  # everything search.keys_for reads
        keys = self._name_keys.get(names)
        if keys is None:
            keys = self._name_keys[names] = [(str(kind), n, k) for kind, n, k in search.keys_for(data)]
        common = (data["birth_date"], data["sex"], data["town_id"], self._text_key(data["banchi"] or ""),
                  self._text_key(data["katagaki"] or ""))
        return [(*key, *common) for key in keys]

    def _text_key(self, text: str) -> str:
        key = self._text_keys.get(text)
        if key is None:
            if len(self._text_keys) > 200_000:  # 方書 rarely repeat: keep the cache bounded
                self._text_keys.clear()
            key = self._text_keys[text] = textnorm.text_key(text)
        return key

    def _person_rows(self, pid: int, atena: str, seq: int, current: int, data: dict, household_id: int) -> None:
        self._add_person((pid, atena, seq, data["status"], data["removed_on"], household_id, current, self.now))

    # --- a household ---------------------------------------------------------------------------
    def _members(self, size: int, foreign: bool) -> list[dict]:
        rng = self.rng
        nat, families, givens = rng.choice(FOREIGN) if foreign else (None, None, None)
        if foreign:
            surname = (rng.choice(families), "")
        else:
            s = rng.choice(LAST_NAMES)
            surname = (s[0], s[1])

        def person(rel: str, sex: int, age: int) -> dict:
            if foreign:
                given = (rng.choice(givens), "")
            else:
                g = rng.choice(MALE_NAMES if sex == 1 else FEMALE_NAMES)
                given = (g[0], g[1])
            return {"relationship": rel, "sex": sex, "age": max(0, age), "family": surname, "given": given}

        head_age = rng.choices([rng.randint(20, 34), rng.randint(35, 54), rng.randint(55, 74), rng.randint(75, 95)],
                               weights=[22, 34, 29, 15])[0]
        if size == 1:
            return [person("世帯主", rng.choice((1, 2)), head_age)], nat
        head_sex = 1 if rng.random() < 0.75 else 2
        out = [person("世帯主", head_sex, max(head_age, 24))]
        kind = rng.random()
        if size == 2 and kind < 0.2:
            out.append(person("子", rng.choice((1, 2)), max(0, head_age - rng.randint(22, 38))))
            return out, nat
        if size == 2 and kind < 0.35:
            out.append(person("母" if rng.random() < 0.7 else "父", 2 if rng.random() < 0.7 else 1, head_age + rng.randint(22, 34)))
            return out, nat
        out.append(person("妻" if head_sex == 1 else "夫", 2 if head_sex == 1 else 1, head_age + rng.randint(-5, 5)))
        remaining = size - 2
        if remaining and size >= 5 and rng.random() < 0.4:
            out.append(person("母", 2, head_age + rng.randint(24, 34)))
            remaining -= 1
        for _ in range(remaining):
            out.append(person("子", rng.choice((1, 2)), max(0, head_age - rng.randint(22, 40))))
        return out, nat

    def _base(self, m: dict, birth: dt.date, household_id: int, addr: dict, nat: str | None, since: dt.date,
              prev: str, domicile: str, domicile_head: str, index: int) -> dict:
        number = my_number_for(index, self.salt)
        sealed = mynumber.seal(number)
        data = {
            "status": Status.RESIDENT, "resident_kind": ResidentKind.FOREIGN if nat else ResidentKind.JAPANESE,
            "removal_reason": "", "removed_on": None,
            "family_name": m["family"][0], "given_name": m["given"][0],
            "family_name_kana": m["family"][1], "given_name_kana": m["given"][1], "kana_confirmed": not nat,
            "former_surname": "", "former_surname_kana": "",
            "birth_date": birth, "sex": m["sex"], "household_id": household_id, "relationship": m["relationship"],
            "domicile": "" if nat else domicile, "domicile_head": "" if nat else domicile_head,
            **addr,
            "became_resident_on": since, "address_set_on": since, "notified_on": since,
            "previous_address": prev, "previous_postal_code": "",
            "move_out_address": "", "move_out_planned_on": None, "move_out_confirmed_address": "",
            "move_out_confirmed_on": None, "move_in_notice_on": None, "previous_municipality_code": "",
            "special_move_out": False,
            "resident_code": resident_code_for(index, self.salt),
            "my_number_key_id": sealed.key_id, "my_number_cipher": sealed.ciphertext, "my_number_digest": sealed.digest,
            "nationality": nat or "", "kanji_name": "", "alias_name": "", "alias_name_kana": "",
            "article_30_45_category": "", "residence_status": "", "period_of_stay": "", "stay_expires_on": None,
            "residence_card_number": "", "became_foreign_resident_on": None,
        }
        if nat:
            status, period = self.rng.choice(STATUSES)
            data.update({
                "article_30_45_category": "中長期在留者", "residence_status": status, "period_of_stay": period,
                "stay_expires_on": None if period == "無期限" else self.today + dt.timedelta(days=self.rng.randint(30, 1500)),
                "residence_card_number": f"{chr(65 + index % 26)}{chr(65 + index // 26 % 26)}{index % 10**8:08d}"
                                         f"{chr(65 + index // 676 % 26)}{chr(65 + index // 17576 % 26)}",
                "became_foreign_resident_on": since,
            })
        return data

    def household(self) -> int:
        rng = self.rng
        self._keys_seen.clear()  # a person's versions are all written within one household()
        size = rng.choices([s for s, _ in HOUSEHOLD_SIZES], weights=[w for _, w in HOUSEHOLD_SIZES])[0]
        foreign = rng.random() < 0.02
        members, nat = self._members(size, foreign)
        hid = self._next("household")
        hnum = with_check_digit(self._next("household_serial"))
        self._add_household((hid, hnum, 1, None, self.now))
        self.counts["households"] += 1
        addr = self._address()
        oldest = max(m["age"] for m in members)
        moved_in = self._date_between(self.today - dt.timedelta(days=365 * min(30, max(1, oldest - 18))),
                                      self.today - dt.timedelta(days=30))
        head = members[0]
        # The condition draws first, as before the city's name was written out: the same city from the same seed.
        domicile = (f"{self.city}{self.ward_names[(home := rng.choice(self.towns)).id]}{home.name}"
                    f"{rng.randint(1, 40)}番地" if rng.random() < 0.6 else rng.choice(DOMICILES))
        domicile_head = f"{head['family'][0]}　{head['given'][0]}"
        entry_change = self._change(moved_in)
        moved = rng.random() < 0.3
        move_date = self._date_between(moved_in + dt.timedelta(days=60), self.today - dt.timedelta(days=7)) if moved else None
        move_change = self._change(move_date) if moved else None
        new_addr = self._address() if moved else None
        prev = rng.choice(ORIGINS)
        written = 0
        for m in members:
            birth = self._birth(m["age"])
            born_here = birth > moved_in
            pid = self._next("person")
            self.person_index += 1
            atena = with_check_digit(self._next("atena_serial"))
            since = birth if born_here else moved_in
            data = self._base(m, birth, hid, addr, nat, since, "" if born_here else prev, domicile, domicile_head,
                              self.person_index)
            if born_here:
                cid, reason, ev = self._change(birth), Reason.BIRTH, birth
            else:
                cid, reason = entry_change, (Reason.ABROAD_MOVE_IN if nat else Reason.DOMESTIC_MOVE_IN)
                ev = moved_in
            seq = 1
            vid = self._version(pid, seq, cid, reason, ev, data)
            if moved and (not born_here or birth < move_date):
                seq += 1
                data = dict(data, **new_addr, address_set_on=move_date, notified_on=move_date)
                vid = self._version(pid, seq, move_change, Reason.MOVE_WITHIN_CITY, move_date, data)
            self._person_rows(pid, atena, seq, vid, data, hid)
            self.counts["persons"] += 1
            self.counts["foreign"] += bool(nat)
            written += 1
        # About one household in twelve keeps a 除票: a member who died or moved away.
        if rng.random() < 0.08:
            written += self._removed_member(hid, members, addr if not moved else new_addr, nat, moved_in,
                                            domicile, domicile_head, prev)
        return written

    def _removed_member(self, hid, members, addr, nat, moved_in, domicile, domicile_head, prev) -> int:
        rng = self.rng
        head = members[0]
        died = rng.random() < 0.5
        m = {"relationship": "母" if died else "子", "sex": 2 if died else rng.choice((1, 2)),
             "age": head["age"] + 28 if died else max(18, head["age"] - 25), "family": head["family"],
             "given": (rng.choice(FEMALE_NAMES)[:2] if not nat else (head["given"][0], ""))}
        pid = self._next("person")
        self.person_index += 1
        atena = with_check_digit(self._next("atena_serial"))
        birth = self._birth(m["age"])
        data = self._base(m, birth, hid, addr, nat, moved_in, prev, domicile, domicile_head, self.person_index)
        self._version(pid, 1, self._change(moved_in), Reason.ABROAD_MOVE_IN if nat else Reason.DOMESTIC_MOVE_IN,
                           moved_in, data)
        when = self._date_between(moved_in + dt.timedelta(days=30), self.today - dt.timedelta(days=1))
        reason = Reason.DEATH if died else Reason.DOMESTIC_MOVE_OUT
        removed = dict(data, status=Status.REMOVED, removal_reason=label(reason), removed_on=when)
        if not died:
            removed.update(move_out_address=rng.choice(ORIGINS), move_out_planned_on=when)
        v2 = self._version(pid, 2, self._change(when), reason, when, removed)
        self._person_rows(pid, atena, 2, v2, removed, hid)
        self.counts["persons"] += 1
        self.counts["removed"] += 1
        return 1


def _max_serial(values) -> int:
    top = values.aggregate(m=Max("n"))["m"]
    return int(top[:-1]) if top else 0  # the numbers are fixed-width: serial + check digit


def _start_ids() -> dict[str, int]:
    seqs = {s.name: s.next_value - 1 for s in NumberSequence.objects.all()}
    # The larger of the sequence and the numbers in use: a register left by a seed stopped before
    # its sequences were saved (as seeds before issue 11 could be) continues without duplicates.
    return {
        "person": Person.objects.aggregate(m=Max("id"))["m"] or 0,
        "version": PersonVersion.objects.aggregate(m=Max("id"))["m"] or 0,
        "household": Household.objects.aggregate(m=Max("id"))["m"] or 0,
        "change": Change.objects.aggregate(m=Max("id"))["m"] or 0,
        "atena_serial": max(seqs.get(numbers.ATENA, 0), _max_serial(Person.objects.values(n=F("atena_number")))),
        "household_serial": max(seqs.get(numbers.HOUSEHOLD, 0), _max_serial(Household.objects.values(n=F("number")))),
        "person_index": Person.objects.count(),
    }


def _reset_sequences() -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        for model in (Household, Change, Person, PersonVersion, ResidentCodeStock):
            table = model._meta.db_table
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 1)) FROM {table}")


def _save_sequences(gen: CityGenerator) -> None:
    for name, key in ((numbers.ATENA, "atena_serial"), (numbers.HOUSEHOLD, "household_serial")):
        NumberSequence.objects.update_or_create(name=name, defaults={"next_value": gen.ids[key] + 1})
    _reset_sequences()


# A run this large into an empty register is loaded in bulk (module docstring).
BULK_MIN_PERSONS = 100_000


def _chunks(gen: CityGenerator, persons: int, chunk: int, vendor: str) -> Iterator[tuple]:
    """(payload, ids, counts, done) per chunk of about `chunk` persons (whole households)."""
    done = 0
    while done < persons:
        target = min(persons, done + chunk)
        gen.now = timezone.now()
        while done < target:
            done += gen.household()
        yield gen.sink.take(vendor), dict(gen.ids), dict(gen.counts), done


def _produce(gen, persons, chunk, vendor, out) -> None:
    # In the forked worker: draw and format, never touch the parent's database connection.
    try:
        for item in _chunks(gen, persons, chunk, vendor):
            out.put(item)
        out.put(None)
    except BaseException as exc:  # the parent raises it
        out.put(RuntimeError(f"seed worker: {exc!r}"))


def _produced(gen: CityGenerator, persons: int, chunk: int, vendor: str, parallel: bool) -> Iterator[tuple]:
    if not parallel:
        yield from _chunks(gen, persons, chunk, vendor)
        return
    # fork: the worker inherits settings, keys and the town list; two chunks in flight bound memory.
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue(maxsize=2)
    worker = ctx.Process(target=_produce, args=(gen, persons, chunk, vendor, out), daemon=True)
    worker.start()
    try:
        while True:
            try:
                item = out.get(timeout=5)
            except queue_module.Empty:
                if not worker.is_alive():
                    raise RuntimeError(f"seed worker ended (exit code {worker.exitcode})") from None
                continue
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        if worker.is_alive():
            worker.terminate()
        worker.join()


def _bulk_tables() -> list[str]:
    return list(_TABLES)


def _drop_for_bulk() -> list[str]:
    """Drop the secondary indexes and the unique and foreign-key constraints of the seeded tables;
    return the statements that create them again, exactly as they were (their own definitions).

    Kept: primary keys (ids are written in order, so they cost little) and any unique constraint
    another table's foreign key depends on.
    """
    tables = _bulk_tables()
    restore: list[str] = []
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            # UNIQUE columns are part of the table (autoindexes, sql NULL) and stay.
            marks = ", ".join("%s" for _ in tables)
            cur.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                        f" AND tbl_name IN ({marks}) ORDER BY name", tables)
            for name, sql in cur.fetchall():
                cur.execute(f'DROP INDEX "{name}"')
                restore.append(sql)
            return restore
        cur.execute("""
            SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
            WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY conrelid::regclass::text, conname
        """, [tables])
        foreign = cur.fetchall()
        for table, name, _ in foreign:
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        cur.execute("""
            SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint c
            WHERE contype = 'u' AND conrelid = ANY(%s::regclass[])
              AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)
            ORDER BY conrelid::regclass::text, conname
        """, [tables])
        unique = cur.fetchall()
        for table, name, _ in unique:
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        cur.execute("""
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
            WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            ORDER BY 1
        """, [tables])
        indexes = cur.fetchall()
        for name, _ in indexes:
            cur.execute(f"DROP INDEX {name}")
    restore += [definition for _, definition in indexes]
    restore += [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for t, n, d in unique]
    restore += [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for t, n, d in foreign]  # validated here
    return restore


def _restore_after_bulk(statements: list[str]) -> None:
    with connection.cursor() as cur:
        for sql in statements:
            cur.execute(sql)
        if connection.vendor == "sqlite":
            # Foreign keys were not enforced during the load: check them now, inside the transaction.
            for table in _bulk_tables():
                cur.execute(f"PRAGMA foreign_key_check({table})")
                if bad := cur.fetchall():
                    raise RuntimeError(f"seed: {table} breaks a foreign key: {bad[:3]}")


def _is_empty() -> bool:
    return not (Person.objects.exists() or Household.objects.exists() or Change.objects.exists()
                or PersonVersion.objects.exists() or SearchKey.objects.exists())


def seed_city(*, persons: int, seed: int, today: dt.date, chunk: int = 20000,
              progress: Callable[[int], None] | None = None, stock: int | None = None,
              resume: bool = False, bulk: bool | None = None, parallel: bool | None = None) -> SeedSummary:
    """Make `persons` more persons (with `resume`: as many as the register lacks to hold `persons`).

    Restartable: the 住民票コード stock is written first, and each chunk commits its rows together
    with the 宛名番号/世帯番号 sequences (and PostgreSQL's id sequences) that cover them. A seed
    killed part-way leaves whole chunks that the register can work with — a later 異動 takes the
    next free numbers — and `resume` makes the rest (a different draw than an uninterrupted run).

    `bulk` (default: at least BULK_MIN_PERSONS into an empty register) loads everything in one
    transaction with the indexes and constraints built afterwards; a bulk seed killed part-way
    leaves nothing. Dropping a foreign key locks the table it points to as well (町字, staff,
    terminals) until the commit: bulk is for setting up a register, not for one in use. `parallel` (default: more than one chunk, and more than one CPU) draws the city
    in a worker process; the rows are the same either way.
    """
    import time

    started = time.perf_counter()
    towns = list(Town.objects.select_related("ward__municipality").filter(is_active=True).order_by("code"))
    if not towns:
        raise RuntimeError("町字がありません。先に juki load-towns で住所辞書を読み込んでください。")
    vendor = connection.vendor
    with gate.open(Actor.system_actor("seed"), function="batch.seed", perm=Perm.BATCH_RUN,
                   criteria={"persons": persons, "seed": seed, "today": today.isoformat(), "resume": resume}):
        if resume:
            persons = max(0, persons - Person.objects.count())
        if bulk is None:
            bulk = persons >= BULK_MIN_PERSONS and _is_empty()
        if parallel is None:
            parallel = persons > chunk and (os.cpu_count() or 1) > 1
        gen = CityGenerator(seed=seed, today=today, towns=towns, start_ids=_start_ids())
        with transaction.atomic():
            stock = stock if stock is not None else max(2000, persons // 50)
            have = ResidentCodeStock.objects.count()
            codes = [ResidentCodeStock(code=resident_code_for(10**9 + have + i, gen.salt)) for i in range(stock)]
            ResidentCodeStock.objects.bulk_create(codes, batch_size=5000, ignore_conflicts=True)
        if bulk:
            _seed_bulk(gen, persons, chunk, vendor, parallel, progress)
        else:
            for payload, ids, counts, done in _produced(gen, persons, chunk, vendor, parallel):
                with transaction.atomic():
                    _write(payload)
                    gen.ids, gen.counts = ids, counts
                    _save_sequences(gen)
                if progress:
                    progress(done)
        c = gen.counts
        return SeedSummary(persons=c["persons"], removed=c["removed"], households=c["households"],
                           versions=c["versions"], foreign=c["foreign"], seconds=time.perf_counter() - started)


def _seed_bulk(gen: CityGenerator, persons: int, chunk: int, vendor: str, parallel: bool,
               progress: Callable[[int], None] | None) -> None:
    pragmas = {}
    if vendor == "sqlite" and not connection.in_atomic_block:
        # Off for this load only, restored after its commit (neither may change inside a
        # transaction; within a caller's, the load runs with both as they are). Foreign keys are
        # checked at the end of the load instead (_restore_after_bulk).
        with connection.cursor() as cur:
            for pragma in ("synchronous", "foreign_keys"):
                cur.execute(f"PRAGMA {pragma}")
                pragmas[pragma] = int(cur.fetchone()[0])
            cur.execute("PRAGMA foreign_keys = OFF")
            cur.execute("PRAGMA synchronous = OFF")
    try:
        with transaction.atomic():
            if vendor == "postgresql":
                # A caller's transaction may hold deferred checks on tables altered below, and
                # ALTER TABLE refuses while they are pending: run them now (as Django's
                # check_constraints does). Within our own transaction there are none.
                connection.check_constraints()
                with connection.cursor() as cur:
                    cur.execute("SET LOCAL maintenance_work_mem = '512MB'")  # for the index sorts at the end
            restore = _drop_for_bulk()
            for payload, ids, counts, done in _produced(gen, persons, chunk, vendor, parallel):
                _write(payload)
                gen.ids, gen.counts = ids, counts
                if progress:
                    progress(done)
            _restore_after_bulk(restore)
            _save_sequences(gen)
    finally:
        if pragmas:
            with connection.cursor() as cur:
                cur.execute(f"PRAGMA synchronous = {pragmas['synchronous']}")
                cur.execute(f"PRAGMA foreign_keys = {pragmas['foreign_keys']}")
