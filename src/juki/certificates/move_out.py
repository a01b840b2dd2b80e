"""転出証明書 [660][670]: for the persons of one 転出届 (a domestic move_out change), once entered.

Items (住基法施行令23条; foreign residents 令30条の26, as far as the register holds them), always
printed — a 転出証明書 has no optional items:
- common: 住所 (方書 included), 世帯主の氏名, 転出先, 転出予定年月日, 転出の届出年月日;
- each person: 氏名 (フリガナ), 旧氏, 通称, 生年月日, 性別, 続柄, 住民となった年月日 (外国人住民となった
  年月日), 住所を定めた年月日, 従前の住所, 本籍・筆頭者 (Japanese residents), 住民票コード, 個人番号,
  and a foreign resident's 国籍・地域, 法第30条の45の区分, 在留資格, 在留期間等, その満了の日 and
  在留カード等の番号.
- 個人番号 is an item: 令23条 lists the items of 住基法7条1号から8号の2まで (8号の2 is the 個人番号)
  and 13号 (住民票コード) with the 転出先 and 転出の予定年月日; the 転入地 records the same 個人番号
  from it. Printing it is an output of a 個人番号 like any other in juki: the issuer needs the right
  to see 個人番号 (`mynumber.view`, with the second factor), or the issue is refused.
- Not printed: 国民健康保険・後期高齢者医療・介護保険・国民年金・児童手当 (住基法7条10号〜11号の2):
  the register does not hold them (they are other systems' data).

Variants: a 転出届 made more than 14 days after the move (the change is 届出期間経過, [640]) gets
the 転出証明書に準ずる証明書, which says it was issued as the document for the 転入届 [660]; a
特例転出 [670] may be printed on request with 「特例による転出処理済」 (the register does not mark
特例転出 itself, so the clerk chooses it). A reissue prints the first state (`snapshot`).

One issue per 転出届 and person: while a valid 転出証明書 for a person of this 転出届 exists, a new
one is refused and the counter is sent to 再交付.
"""
from __future__ import annotations

import datetime as dt


from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.core.errors import AccessDenied, ConflictError, DomainError, ErrorCode
from juki.protection import certificates as protection
from juki.protection import enforcement
from juki.register import selectors
from juki.register.reasons import Category, Operation, Reason, category, label
from juki.core import clock

from . import render as render_module
from . import snapshot
from .content import FOREIGN_ITEMS, issue_stamp, my_number_text, name_text, require_item, with_kana
from .entitlement import Kind, Request
from .models import CertificateIssue, Channel
from .preview import PLACEHOLDER_NUMBER, PreviewResult, sample_pdf
from .issuing import IssueResult, issuer, record_issue, verification_url

FORM = "move_out_cert"
TITLE = "転出証明書"
TITLE_LATE = "転出証明書に準ずる証明書"
SPECIAL_MARK = "特例による転出処理済"
CERTIFICATION = "上記の者について、転出の届出があったことを証明する。"
CERTIFICATION_LATE = "上記の者が転出したことを証明する。"
LATE_NOTE = ("この証明書は、転出をした日から14日を経過して転出の届出があったため、転出証明書に代えて、"
             "転入届に添付すべき書類として発行したものです。")


def has_move_out(person: dict) -> bool:
    """Does a person dict (`person_get`) show a domestic 転出 (planned or done)? For the screens' menus."""
    return (person.get("status") == "removed" and bool((person.get("move_out") or {}).get("planned_address"))
            and person.get("removal_reason") == label(Reason.DOMESTIC_MOVE_OUT))


def _my_number_refusal(actor: Actor) -> AccessDenied:
    if actor.holds(Perm.MY_NUMBER_VIEW):  # the right, but this session did not pass the second factor (C01)
        refused = AccessDenied("転出証明書には個人番号を記載します。ワンタイムパスワードでログインし直してから交付してください。")
        refused.code = ErrorCode.SECOND_FACTOR_REQUIRED
        return refused
    return AccessDenied("転出証明書には個人番号を記載します。個人番号の表示権限のある職員（係長等）が交付してください。")


def _move_out_version(versions: list[dict], change_id: int | None = None) -> dict:
    """The version the 転出 wrote, if the person is still out by it: only corrections since (not a
    取消し, not a return and another removal), and of the 転出届 ``change_id`` when given."""
    outs = [i for i, v in enumerate(versions) if v["reason"] == Reason.DOMESTIC_MOVE_OUT]
    current = versions[-1]
    if (current["status"] != "removed" or not outs
            or (change_id is not None and versions[outs[-1]]["change"]["id"] != change_id)
            or any(category(v["reason"]) != Category.CORRECTION for v in versions[outs[-1] + 1:])):
        raise DomainError(ErrorCode.NOT_REMOVED, "この転出届による転出の記録がない方が含まれています"
                          "（転出が取り消された方、再び転入した方など）。", field="person_ids")
    # A 転入通知 is filed as a 修正 (`Reason.MOVE_OUT_CONFIRMED`), so it passes the test above: its own wording.
    if (current.get("move_out") or {}).get("confirmed_on"):
        raise DomainError(ErrorCode.INVALID_INPUT, "転入通知を受理した方（転出が確定した方）には、転出証明書を交付できません。",
                          field="person_ids")
    return versions[outs[-1]]


def _issued(change_id: int, person_ids: list[int]) -> list[str]:
    """Valid 転出証明書 already issued for any of these persons of this 転出届 (reissues included)."""
    rows = (CertificateIssue.objects.filter(form=FORM, options__change_id=change_id, subjects__person_id__in=person_ids)
            .exclude(void__isnull=False).order_by("id").values_list("number", flat=True))
    return list(dict.fromkeys(rows))


def _refuse_if_issued(change_id: int, person_ids: list[int]) -> None:
    """One valid 転出証明書 per 転出届 and person. Run under `record_issue`'s lock (``under_lock``):
    checked before it, two clicks at once would both find none and both issue."""
    issued = _issued(change_id, person_ids)
    if issued:
        raise ConflictError(f"この転出届の転出証明書は交付済みです（発行番号 {'、'.join(issued)}）。"
                            "紛失・書き損じのときは、交付履歴から「再交付」を行ってください。")


def move_out_of(*, actor: Actor, person_id: int) -> dict:
    """The 転出届 a person left by, for the counter's 転出証明書 screen: its date, destination,
    whether it was 届出期間経過, the persons who moved with it, and the 転出証明書 already issued.
    Refuses (`not_removed`) a person without a domestic 転出."""
    with gate.open(actor, function="certificate.move_out", perm=Perm.CERTIFICATE_ISSUE,
                   criteria={"person_id": person_id}) as session:
        session.record([person_id])
        versions = selectors.person_history(actor=actor, person_id=person_id)
        if not any(v["reason"] == Reason.DOMESTIC_MOVE_OUT for v in versions):
            raise DomainError(ErrorCode.NOT_REMOVED, "この方には転出（国外転出を除く）の記録がないため、転出証明書は交付できません。",
                              field="person_id")
        out = _move_out_version(versions)
        change = selectors.change_get(actor=actor, change_id=out["change"]["id"])
        movers = [p for p in change["persons"] if p["reason"] == Reason.DOMESTIC_MOVE_OUT]
        session.record(p["person_id"] for p in movers)
        return {
            "change_id": change["change_id"],
            "event_date": change["event_date"],
            "notified_on": change["notified_on"],
            "destination": (out.get("move_out") or {}).get("planned_address", ""),
            "late": out["change"]["late_notification"],
            "movers": [{"person_id": p["person_id"], "name": p["name"], "relationship": p["relationship"],
                        "has_my_number": p["has_my_number"]} for p in movers],
            "issued": _issued(change["change_id"], [p["person_id"] for p in movers]),
        }


# --- reading and building ------------------------------------------------------------------------


@enforcement.document_reads()  # a document for the persons it names, checked as 本人 (ADR 0013)
def _read(session, change_id: int, person_ids: list[int] | None) -> dict:
    """The 転出届's persons as the register reads now, checked, in the household's order [1010]."""
    actor = session.actor
    change = selectors.change_get(actor=actor, change_id=change_id)
    if change["operation"] != Operation.MOVE_OUT:
        raise DomainError(ErrorCode.NOT_REMOVED, "指定された異動は転出ではないため、転出証明書は交付できません。", field="change_id")
    # The change also wrote the 世帯主変更 of those who stayed, when one was entered with it.
    if any(p["reason"] == Reason.ABROAD_MOVE_OUT for p in change["persons"]):
        raise DomainError(ErrorCode.NOT_REMOVED, "国外転出には転出証明書を交付しません（転入届に転出証明書は要りません）。",
                          field="change_id")
    movers = [p["person_id"] for p in change["persons"] if p["reason"] == Reason.DOMESTIC_MOVE_OUT]
    chosen = list(dict.fromkeys(int(p) for p in person_ids or ())) or movers
    if set(chosen) - set(movers):
        raise DomainError(ErrorCode.HOUSEHOLD_MISMATCH, "この転出届で転出した方のほかは、転出証明書に記載できません。",
                          field="person_ids")
    session.record(chosen)
    outs = [_move_out_version(selectors.person_history(actor=actor, person_id=pid), change_id) for pid in chosen]
    late = outs[0]["change"]["late_notification"]  # one 転出届, one 届出日
    reveal = actor.can(Perm.MY_NUMBER_VIEW)
    persons = [selectors.person_get(actor=actor, person_id=pid, reveal_my_number=reveal) for pid in chosen]
    if any(p["has_my_number"] and not p.get("my_number") for p in persons):
        raise _my_number_refusal(actor)
    if any(p.get("my_number") for p in persons):
        session.reveal_my_number()  # this issue's own log row says a 個人番号 was output
    if enforcement.protected_ids(chosen):
        session.flag(enforcement.FLAG)
    # 世帯主 and the member order [1010].
    household = _household_before(actor, change, persons[0]["household_id"])
    order = [m["person_id"] for m in household["members"]]
    persons.sort(key=lambda p: order.index(p["person_id"]) if p["person_id"] in order else len(order))
    return {"change": change, "persons": persons, "late": late, "head_name": _head_name(household)}


def _household_before(actor: Actor, change: dict, household_id: int) -> dict:
    """The movers' household as it was the day before the move (its 世帯主 and member order)."""
    moved_on = dt.date.fromisoformat(change["event_date"]["date"])
    return selectors.household_get(actor=actor, household_id=household_id, as_of=moved_on - dt.timedelta(days=1))


def _head_name(household: dict) -> str:
    head = household.get("head") or {}
    if head.get("name") == enforcement.SUPPORT_MARKER:
        raise DomainError(ErrorCode.SUPPORT_MEASURE_BLOCK,
                          "世帯主が支援措置の対象者のため、この転出証明書はここでは交付できません。支援措置の担当課に確認してください。")
    return head.get("name") or ""


def _check_requests(actor: Actor, person_ids: list[int]) -> tuple[str, ...]:
    """抑止 (証明書交付) and the 支援措置's 相手方 check [410][440]. The 転出証明書 goes to the persons
    who moved (the 届出 checked who made it), so each is checked as 本人 of their own certificate."""
    warnings: list[str] = []
    for pid in person_ids:
        check = protection.certificate_request_check(
            actor=actor, subject_person_ids=[pid], requester=protection.Requester(kind=protection.RequesterKind.SELF,
                                                                                  person_id=pid))
        warnings += [w for w in check.get("warnings") or () if w not in warnings]
    return tuple(warnings)


def _value(value) -> str:
    return value["display"] if isinstance(value, dict) else (value or "")


def person_rows(person: dict) -> list[list[str]]:
    foreign = person.get("foreign")
    n = person["name"]
    rows = [["氏名", name_text(person)]]
    if n.get("former_surname"):
        rows.append(["旧氏", with_kana(n["former_surname"], n.get("former_surname_kana") or "")])
    if foreign and foreign.get("alias_name"):
        rows.append(["通称", with_kana(foreign["alias_name"], foreign.get("alias_name_kana") or "")])
    rows += [["生年月日", _value(person.get("birth_date"))], ["性別", person.get("sex_label") or ""],
             ["続柄", person.get("relationship") or ""]]
    if foreign:
        rows.append(["外国人住民となった年月日", _value(foreign.get("became_foreign_resident_on"))])
    else:
        rows.append(["住民となった年月日", _value(person.get("became_resident_on"))])
    rows.append(["住所を定めた年月日", _value(person.get("address_set_on"))])
    rows.append([snapshot.MY_NUMBER_LABEL, my_number_text(person.get("my_number") or "")])
    if person.get("previous_address"):
        rows.append(["従前の住所", person["previous_address"]])
    if not foreign:
        require_item(person, "domicile", "本籍・筆頭者", form=TITLE)
        rows += [["本籍", person.get("domicile") or ""], ["筆頭者", person.get("domicile_head") or ""]]
    require_item(person, "resident_code", "住民票コード", form=TITLE)
    rows.append(["住民票コード", person.get("resident_code") or ""])
    if foreign:
        require_item(person, "foreign", "在留資格等", form=TITLE)
        rows += [[label, _value(foreign.get(key))] for key, label in FOREIGN_ITEMS.items() if key != "alias_name"]
    return rows


def build(*, read: dict, special: bool, issue_number: str, issued_on: dt.date, municipality: str,
          mayor_title: str) -> dict:
    """The 転出証明書 as plain data for `render.render_pdf` (世帯連記式: common items, one block each)."""
    persons, change = read["persons"], read["change"]
    first = persons[0]
    move_out = first.get("move_out") or {}
    late = read["late"]
    common = [
        ["住所", (first.get("address") or {}).get("display", "")],
        ["世帯主", read["head_name"]],
        ["転出先", move_out.get("planned_address") or ""],
        # A late 転出 was recorded ex officio after the move: its date is no longer a plan.
        ["転出年月日" if late else "転出予定年月日", _value(move_out.get("planned_on"))],
        ["届出年月日", _value(change.get("notified_on"))],
    ]
    sections = [{"person_id": p["person_id"], "heading": str(i), "items": person_rows(p), "history": []}
                for i, p in enumerate(persons, start=1)]
    return {
        "form": FORM,
        "title": TITLE_LATE if late else TITLE,
        "layout": "household",
        "official": False,
        "official_mark": "",
        "marks": [SPECIAL_MARK] if special else [],
        **issue_stamp(issue_number, issued_on, municipality, mayor_title),
        "common": common,
        "sections": sections,
        # Two to a row where short, as on the 住民票の写し; 筆頭者 too, so a household of three fits a sheet.
        "short_items": ["筆頭者", "届出年月日"],
        "note": LATE_NOTE if late else "",
        "certification": CERTIFICATION_LATE if late else CERTIFICATION,
        "person_ids": [p["person_id"] for p in persons],
    }


def render(content: dict, *, verification_url: str) -> bytes:
    return render_module.render_pdf(content, verification_url=verification_url)


# --- issue and preview ----------------------------------------------------------------------------


def move_out_certificate_issue(*, actor: Actor, change_id: int, person_ids: list[int] | None = None,
                               special: bool = False, requester_name: str = "", documents: tuple[str, ...] = (),
                               channel: str = Channel.COUNTER):
    """Issue the 転出証明書 of the 転出届 ``change_id`` for ``person_ids`` (default: everyone it moved).

    The requester is the 届出人 (`notifier`): the 転出届 was checked when it was entered; the name
    of whoever collects it and the documents seen may be noted. Free by default (fee table)."""
    criteria = {"form": FORM, "change_id": change_id, "person_ids": list(person_ids or ()), "special": special,
                "channel": channel}
    with gate.open(actor, function="certificate.issue", perm=Perm.CERTIFICATE_ISSUE, criteria=criteria) as session:
        read = _read(session, change_id, person_ids)
        chosen = [p["person_id"] for p in read["persons"]]
        warnings = _check_requests(actor, chosen)
        municipality, mayor_title = issuer(actor=session.actor)
        built: dict = {}

        def make_pdf(number: str, issued_on: dt.date) -> tuple[bytes, list[int]]:
            built["content"] = build(read=read, special=special, issue_number=number, issued_on=issued_on,
                                     municipality=municipality, mayor_title=mayor_title)
            return render(built["content"], verification_url=verification_url(number)), built["content"]["person_ids"]

        request = Request(kind=Kind.NOTIFIER, requester_name=requester_name.strip()[:120],
                          documents=tuple(d for d in documents if d.strip()))
        options = {"form": FORM, "change_id": change_id, "person_ids": chosen, "special": special, "late": read["late"],
                   "variant_label": TITLE_LATE if read["late"] else ""}
        my_numbers = {p["person_id"]: p.get("my_number") or "" for p in read["persons"]}
        issue, pdf = record_issue(session, form=FORM, options=options, make_pdf=make_pdf, request=request, channel=channel,
                                  log_criteria={"with_my_number": any(my_numbers.values()), "change_id": change_id},
                                  snapshot=lambda: snapshot.keep(built["content"], my_numbers),
                                  under_lock=lambda: _refuse_if_issued(change_id, chosen))
        return IssueResult(issue=issue, pdf=pdf, warnings=warnings)


# --- reissue (`snapshot.reissue` prints the first state; these are the first issue's checks again) ----------


@enforcement.document_reads()  # a document for the persons it names, checked as 本人 (ADR 0013)
def reissue_check(session, original: CertificateIssue, content: dict) -> tuple[str, ...]:
    """Refuse a 再交付 of ``content`` (what the first issue printed) as a first issue would be refused
    now: a person no longer out by this 転出届 (its 取消し, a 転入通知 since: the 転出証明書 would let
    them be entered elsewhere while entered here, or twice), a 世帯主 under a 支援措置, a 抑止 of
    証明書交付. Returns the warnings."""
    actor = session.actor
    change_id = original.options["change_id"]
    persons = list(content["person_ids"])
    for pid in persons:
        _move_out_version(selectors.person_history(actor=actor, person_id=pid), change_id)
    change = selectors.change_get(actor=actor, change_id=change_id)
    household_id = selectors.person_get(actor=actor, person_id=persons[0])["household_id"]
    _head_name(_household_before(actor, change, household_id))
    return _check_requests(actor, persons)


def reissue_under_lock(original: CertificateIssue, replaced: list[str]) -> None:
    """One valid 転出証明書 per 転出届 and person, for a reissue too: besides the copies it replaces
    (``replaced``: the numbers of its first issue and that issue's reissues), none may be valid."""
    others = [n for n in _issued(original.options["change_id"], list(original.person_ids)) if n not in replaced]
    if others:
        raise ConflictError(f"この転出届には、有効な転出証明書がほかにあります（発行番号 {'、'.join(others)}）。"
                            "その証明書を無効にするか、その発行番号から再交付してください。")


def move_out_certificate_preview(*, actor: Actor, change_id: int, person_ids: list[int] | None = None,
                                 special: bool = False):
    """印刷プレビュー of the 転出証明書: the same checks and reads as the issue, nothing recorded but the log."""
    criteria = {"form": FORM, "change_id": change_id, "person_ids": list(person_ids or ()), "special": special}
    with gate.open(actor, function="certificate.preview", perm=Perm.CERTIFICATE_ISSUE, criteria=criteria) as session:
        read = _read(session, change_id, person_ids)
        chosen = [p["person_id"] for p in read["persons"]]
        warnings = _check_requests(actor, chosen)
        municipality, mayor_title = issuer(actor=session.actor)
        content = build(read=read, special=special, issue_number=PLACEHOLDER_NUMBER, issued_on=clock.today(),
                        municipality=municipality, mayor_title=mayor_title)
        return PreviewResult(pdf=sample_pdf(content, render), person_ids=tuple(chosen), warnings=warnings)
