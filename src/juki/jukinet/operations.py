"""What the 住基ネット連携's screens do, with no HTTP of the register's in it: the CS's and the peers'
state, the error queue and its working off (C14), 整合性確認 and 送付先情報. Every read that names
persons is a gate session with its log row; every action is logged with its outcome."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.core.errors import DomainError, ErrorCode, NotFoundError
from juki.network.wire import Client, Unreachable
from juki.protection import enforcement as protection
from juki.register import selectors

from juki.cs import file2

from . import services
from .models import NumberRequest, UpdateError


def _cs(cs: Client, method: str, path: str, body: dict | None = None) -> dict:
    try:
        status, answer = cs.call(method, path, body)
    except Unreachable:
        raise DomainError(ErrorCode.CS_UNREACHABLE, "市町村CSに接続できません。CSの起動と通信の状態を確認してください。") from None
    if status != 200:
        raise DomainError(ErrorCode.CS_UNREACHABLE, f"市町村CSが処理できませんでした（{answer.get('code', status)}）。")
    return answer


def overview(*, actor: Actor, cs: Client) -> dict:
    """The link at a glance: the CS's queue and dead letters, 個人番号 requests waiting, open errors."""
    with gate.open(actor, function="jukinet.overview", perm=Perm.JUKINET_OPERATE) as session:
        try:
            status, cs_error = _cs(cs, "GET", "/status"), None
        except DomainError as exc:
            status, cs_error = None, exc.message
        waiting = list(NumberRequest.objects.filter(state=NumberRequest.State.PENDING).order_by("id")[:200])
        failed = list(NumberRequest.objects.filter(state=NumberRequest.State.FAILED).order_by("-id")[:50])
        session.record(r.person_id for r in [*waiting, *failed])  # the screen links to each one's 住民票
        peer_states = mail = None
        if status is not None:
            try:
                peer_states = _cs(cs, "GET", "/peers")["peers"]
                mail = _cs(cs, "GET", "/mail/status")
            except DomainError:
                peer_states = None
        return {"cs": status, "cs_error": cs_error, "peers": peer_states, "mail": _mail_view(mail),
                "open_errors": UpdateError.objects.filter(
            state=UpdateError.State.OPEN).count(), "number_requests": waiting, "number_failures": failed}


def errors(*, actor: Actor, state: str = UpdateError.State.OPEN) -> list[UpdateError]:
    with gate.open(actor, function="jukinet.errors", perm=Perm.JUKINET_OPERATE, criteria={"state": state}) as session:
        rows = list(UpdateError.objects.filter(state=state).order_by("id")[:500])
        session.record(r.person_id for r in rows)
        return rows


def _error(error_id: int) -> UpdateError:
    error = UpdateError.objects.select_for_update().filter(pk=error_id).first()
    if error is None:
        raise NotFoundError("指定された更新エラーが見つかりません。")
    if error.state != UpdateError.State.OPEN:
        raise DomainError(ErrorCode.ALREADY_PROCESSED, "この更新エラーは処理済みです。")
    return error


def resend(*, actor: Actor, cs: Client, error_id: int, note: str) -> UpdateError:
    """直接修正 (C14): send the person's current 本人確認情報 to the CS, replacing its record, with the
    approval of the 本人確認情報管理責任者 (this actor), recorded with the reason."""
    if not note.strip():
        raise DomainError(ErrorCode.INVALID_INPUT, "再送の理由を入力してください。", field="note")
    with gate.open(actor, function="jukinet.correction", perm=Perm.IDENTITY_CORRECTION_APPROVE,
                   criteria={"error": error_id}) as session, transaction.atomic():
        error = _error(error_id)
        session.record([error.person_id])
        if error.kind == "notice":  # a notice to another city is not a 本人確認情報 to correct at the CS
            raise DomainError(ErrorCode.INVALID_INPUT, "この通知のエラーは再送できません。処理済みとしてください。")
        current = selectors.linked_identities(actor=Actor.system_actor(services.DESTINATION),
                                              versions=[(error.person_id, None)])
        if not current:
            raise NotFoundError("対象の住民が見つかりません。")
        (linked,) = current.values()
        event = {"change_id": f"correction{error.id}"}
        entry = {"person_id": error.person_id, "version_after": linked.identity.version, "reason_category": "修正",
                 "reason_label": "直接修正"}
        message = {**services.message_of(event, entry, linked), "kind": "correction",
                   "message_id": f"correction-{error.id}-{error.person_id}-{linked.identity.version}"}
        answer = _cs(cs, "POST", "/updates", message)
        if answer["outcome"] != "accepted":
            raise DomainError(ErrorCode.CS_REJECTED, "市町村CSが修正を受け付けませんでした: "
                              + "、".join(f"{e['label']}（{e['message']}）" for e in answer["errors"]))
        error.state, error.resolved_at, error.resolved_by = UpdateError.State.RESOLVED, timezone.now(), actor.user
        error.resolution, error.note = "resent", note.strip()[:200]
        error.save(update_fields=["state", "resolved_at", "resolved_by", "resolution", "note"])
        return error


def close(*, actor: Actor, error_id: int, note: str) -> UpdateError:
    """Work an error off without sending (the register was wrong and is corrected by a change of its
    own, or the CS was right): the 本人確認情報管理責任者's decision, with its reason."""
    if not note.strip():
        raise DomainError(ErrorCode.INVALID_INPUT, "処理済みとする理由を入力してください。", field="note")
    with gate.open(actor, function="jukinet.error_close", perm=Perm.IDENTITY_CORRECTION_APPROVE,
                   criteria={"error": error_id}) as session, transaction.atomic():
        error = _error(error_id)
        session.record([error.person_id])
        error.state, error.resolved_at, error.resolved_by = UpdateError.State.RESOLVED, timezone.now(), actor.user
        error.resolution, error.note = "closed", note.strip()[:200]
        error.save(update_fields=["state", "resolved_at", "resolved_by", "resolution", "note"])
        return error


MAIL_KINDS = {"transfer_certificate_request": "転出証明書情報の請求", "transfer_certificate": "転出証明書情報",
              "move_in_notice": "転入通知", "family_register_notice": "戸籍の附票記載事項通知",
              "wide_area_request": "広域交付の照会", "wide_area_answer": "広域交付の回答",
              "immigration_notice": "法務省通知", "municipal_notice": "市町村通知（法務省へ）"}


def _mail_view(mail: dict | None) -> dict | None:
    """The CS's messages with other cities, counted by kind for the screen (sent, waiting, received)."""
    if mail is None:
        return None
    rows: dict[str, dict] = {}
    for key, count in mail["counts"].items():
        direction, kind, state = key.split(":")
        row = rows.setdefault(kind, {"label": MAIL_KINDS.get(kind, kind), "sent": 0, "pending": 0, "refused": 0,
                                     "received": 0})
        row[{"sent": "sent", "pending": "pending", "refused": "refused"}.get(state, "received")] += count
    return {"rows": list(rows.values()), "head": mail.get("head"), "held": mail.get("held_transfers", 0),
            "refused": [{**r, "label": MAIL_KINDS.get(r["kind"], r["kind"])} for r in mail.get("refused", [])]}


def resend_mail(*, actor: Actor, cs: Client, mail_id: int) -> dict:
    """再送信 of a message the exchange refused (or that waits), as the 住基ネット連携's operator."""
    with gate.open(actor, function="jukinet.mail_resend", perm=Perm.JUKINET_OPERATE, criteria={"mail": mail_id}):
        return _cs(cs, "POST", f"/mail/{mail_id}/retry")


def retry_dead_letter(*, actor: Actor, cs: Client, seq: int) -> dict:
    with gate.open(actor, function="jukinet.dead_letter_retry", perm=Perm.JUKINET_OPERATE, criteria={"seq": seq}):
        return _cs(cs, "POST", f"/dead-letters/{seq}/retry")


def consistency(*, actor: Actor, cs: Client, run: str | None = None) -> dict:
    """整合性確認 (P8): start one against the prefecture's copy (`run`), and the results so far."""
    with gate.open(actor, function="jukinet.consistency", perm=Perm.JUKINET_OPERATE, criteria={"run": run or ""}):
        if run:
            _cs(cs, "POST", "/consistency/run", {"peer": run})
        result = _cs(cs, "GET", "/consistency/runs")
    # The register's screen names the code and the item, not the values: they are personal data of
    # persons this read does not record; the clerk opens the 住民票 by its 住民票コード to compare.
    for r in result["runs"]:
        r["differences"] = [{"resident_code": d["resident_code"], "item": d["item"],
                             "label": "記録" if d["item"] == "(record)" else file2.LABELS.get(d["item"], d["item"]),
                             "missing": (None if d["item"] != "(record)" else
                                         "相手方" if d["remote"] == "なし" else "市町村CS")}
                            for d in r["differences"]]
    return result


def recipients(*, actor: Actor, cs: Client) -> dict:
    with gate.open(actor, function="jukinet.recipients", perm=Perm.JUKINET_OPERATE):
        return {**_cs(cs, "GET", "/recipients"), "retention": _cs(cs, "GET", "/retention")["purges"]}


# --- 本人確認 (P6) at the 統合端末: by 住民票コード, 個人番号 or 4情報 ---------------------------------

IDENTIFY_ITEMS = ("resident_code", "my_number", "name", "name_kana", "birth_date", "sex", "address")
_REFUSALS = {
    "two_items_required": "4情報で確認するときは、性別を除く2つ以上の情報（氏名またはふりがな、生年月日、住所）を入力してください。",
    "invalid_check_digit": "住民票コードまたは個人番号の検査数字が正しくありません。",
}


def identify(*, actor: Actor, cs: Client, query: dict) -> dict:
    """Ask the national server who this is, through the city's CS. What was asked is logged by item
    name (never the values, the 個人番号 least of all); the answer never carries a 個人番号."""
    asked = {k: str(v).strip() for k, v in query.items() if k in IDENTIFY_ITEMS and v not in (None, "")}
    with gate.open(actor, function="jukinet.identify", perm=Perm.JUKINET_IDENTIFY,
                   criteria={"items": sorted(asked), "destination": "national"}) as session:
        if asked.get("my_number"):
            session.my_number_accessed = True
        if not asked:
            raise DomainError(ErrorCode.SEARCH_CRITERIA, "住民票コード、個人番号、または4情報を入力してください。")
        try:
            status, answer = cs.call("POST", "/identify", asked)
        except Unreachable:
            raise DomainError(ErrorCode.CS_UNREACHABLE, "市町村CSに接続できません。") from None
        if status == 422:
            code = answer.get("code", "")
            raise DomainError(ErrorCode.SEARCH_CRITERIA if code == "two_items_required" else ErrorCode.INVALID_INPUT,
                              _REFUSALS.get(code, answer.get("message") or "入力内容を確認してください。"))
        if status != 200:
            raise DomainError(ErrorCode.CS_UNREACHABLE, f"全国サーバに照会できませんでした（{answer.get('code', status)}）。")
        session.tally(len(answer.get("matches", [])))
        return answer


# --- 個人番号の変更請求 (番号法第7条第2項): the new number comes from J-LIS, never typed (C12) -------------


def my_number_change_request(*, actor: Actor, person_id: int, note: str) -> NumberRequest:
    """Record a resident's request for a new 個人番号: S2 asks J-LIS through the CS and writes the answer
    into the 住民票 as a change. The clerk's right for 個人番号 changes; the request is logged."""
    if not note.strip():
        raise DomainError(ErrorCode.INVALID_INPUT, "変更請求の理由（番号が漏えいして不正に用いられるおそれ等）を入力してください。",
                          field="note")
    person = selectors.person_get(actor=actor, person_id=person_id)
    if person["status"] != "resident" or not person.get("resident_code"):
        raise DomainError(ErrorCode.NOT_RESIDENT, "住民票コードが記載された住民でなければ、変更請求はできません。")
    if not person["has_my_number"]:
        raise DomainError(ErrorCode.MY_NUMBER_NOT_RECORDED,
                          "個人番号が記載されていない方は変更請求できません。記載はJ-LISからの番号で行われます。")
    # The reason is the resident's circumstances: kept with the request, not in the log's criteria.
    with gate.open(actor, function="jukinet.my_number_change_request", perm="change.my_number",
                   criteria={"kind": "change_request"}) as session:
        session.record([person_id])
        return services.request_change(person_id=person_id, resident_code=person["resident_code"],
                                       source=f"change-{person_id}-{timezone.now():%Y%m%d%H%M%S%f}",
                                       note=note.strip()[:200])


# --- 個人番号カード (P10): the card management system's state, and what the counter records -------------

CARD_ACTIONS = {"issue": "交付", "suspend": "一時停止", "resume": "一時停止の解除", "revoke": "廃止", "collect": "回収"}
CARD_STATES = {"none": "なし", "active": "有効", "suspended": "一時停止中", "revoked": "廃止", "collected": "回収済み"}


def _card_person(actor: Actor, person_id: int) -> dict:
    person = selectors.person_get(actor=actor, person_id=person_id)
    if not person.get("resident_code"):
        raise DomainError(ErrorCode.INVALID_RESIDENT_CODE, "住民票コードが記載されていないため、カードを照会できません。")
    return person


def card(*, actor: Actor, cs: Client, person_id: int) -> dict:
    person = _card_person(actor, person_id)
    with gate.open(actor, function="jukinet.card", perm=Perm.CARD_MANAGE) as session:
        session.record([person_id])
        return {"person": person, "card": _cs(cs, "GET", f"/cards/{person['resident_code']}")}


def card_action(*, actor: Actor, cs: Client, person_id: int, action: str, pin: str = "") -> dict:
    """交付・一時停止・解除・廃止・回収 at the counter, to J-LIS's card management system; a move the
    card's state does not allow is refused by it, with the state it is in. A 交付 takes the 暗証番号
    the holder sets (4 digits; the card's PIN for 特例転入 and 広域交付), which is kept nowhere here."""
    if action not in CARD_ACTIONS:
        raise DomainError(ErrorCode.INVALID_INPUT, "カードの処理を選んでください。", field="action")
    if pin and not (action == "issue" and len(pin) == 4 and pin.isdigit()):
        raise DomainError(ErrorCode.INVALID_INPUT, "暗証番号は数字4桁で入力してください。", field="pin")
    person = _card_person(actor, person_id)
    with gate.open(actor, function="jukinet.card_action", perm=Perm.CARD_MANAGE,
                   criteria={"action": action}) as session:
        session.record([person_id])
        try:
            status, answer = cs.call("POST", f"/cards/{person['resident_code']}/{action}", {"pin": pin} if pin else {})
        except Unreachable:
            raise DomainError(ErrorCode.CS_UNREACHABLE, "市町村CSに接続できません。") from None
        if status == 409:
            state = CARD_STATES.get(answer.get("state", ""), answer.get("state", ""))
            raise DomainError(ErrorCode.CARD_STATE, f"カードが「{state}」のため、{CARD_ACTIONS[action]}はできません。")
        if status != 200:
            raise DomainError(ErrorCode.CS_UNREACHABLE, f"カード管理システムが処理できませんでした（{answer.get('code', status)}）。")
        return answer


# --- 住基ネット II (issue 15): 特例転入, what other cities sent, 転入通知未着 ------------------------------


def transfer_status(*, actor: Actor, cs: Client, group: str) -> dict:
    """A 特例転入's request and, once answered, the 転出証明書情報 for the clerk to check. The CS's inbox
    is read here too, so the counter does not wait on the link's next turn."""
    from . import connection, messages
    from .models import TransferRequest

    request = TransferRequest.objects.filter(group=group).first()
    if request is None:
        raise NotFoundError("指定された照会が見つかりません。")
    if request.state == TransferRequest.State.REQUESTED:
        try:
            messages.pull(cs, connection.koseki_client())
        except Unreachable:
            pass  # the CS away: the screen says the answer has not come, and asks again
        request.refresh_from_db()
    certificates = []
    if request.state == TransferRequest.State.ANSWERED:
        certificates = selectors.transfer_certificates(actor=actor, group=group)
    return {"asked": request, "certificates": certificates}


RECEIVED_KINDS = {"move_in_notice": "転入通知", "family_register_notice": "戸籍の附票記載事項通知",
                  "transfer_certificate": "転出証明書情報", "immigration_notice": "法務省通知"}


def received(*, actor: Actor, kind: str, open_only: bool = True) -> list[dict]:
    """What other cities (and the 法務省) sent, of one kind, opened for the clerk: the 転入通知 that could
    not be taken (転入通知取込エラー一覧 [690]) or all of them, the 附票 notices received (listed)."""
    from . import messages
    from .models import Received

    if kind not in RECEIVED_KINDS:
        raise NotFoundError("指定された種別の通知はありません。")
    with gate.open(actor, function="jukinet.received", perm=Perm.JUKINET_OPERATE,
                   criteria={"kind": kind, "open_only": open_only}) as session:
        rows = Received.objects.filter(kind=kind).order_by("-id")
        if open_only:
            rows = rows.exclude(state__in=(Received.State.APPLIED, Received.State.FORWARDED, Received.State.CLOSED))
        rows = list(rows[:500])
        matched = [r.person_id for r in rows if r.person_id]
        session.record(matched)
        protected = protection.protected_ids(matched)
        out = []
        for r in rows:
            body = messages.opened(r)
            if r.person_id in protected:  # [160]: a 支援措置 person's new place is shown to no one here
                body = {**body, "address": "（支援措置のため表示しません）"}
            out.append({"row": r, "body": body})
        return out


def close_received(*, actor: Actor, received_id: int, note: str) -> None:
    """A clerk has dealt with a listed message (a 転入通知 recorded by hand [680], a 附票 notice passed on)."""
    from .models import Received

    if not note.strip():
        raise DomainError(ErrorCode.INVALID_INPUT, "処理の内容を入力してください。", field="note")
    with gate.open(actor, function="jukinet.received.close", perm=Perm.JUKINET_OPERATE,
                   criteria={"received": received_id}), transaction.atomic():
        row = Received.objects.select_for_update().filter(pk=received_id).first()
        if row is None:
            raise NotFoundError("指定された通知が見つかりません。")
        if row.state in (Received.State.APPLIED, Received.State.FORWARDED, Received.State.CLOSED):
            raise DomainError(ErrorCode.ALREADY_PROCESSED, "この通知は処理済みです。")
        row.state, row.handled_by, row.handled_at, row.note = (Received.State.CLOSED, actor.user, timezone.now(),
                                                               note.strip()[:200])
        row.save(update_fields=["state", "handled_by", "handled_at", "note"])


def immigration_check(*, actor: Actor, received_id: int) -> dict:
    """A 法務省通知 and the person it was matched to, side by side, for the clerk's check [960]."""
    from juki.register.services import inbound

    from . import messages
    from .models import Received

    with gate.open(actor, function="jukinet.immigration_check", perm=Perm.JUKINET_OPERATE,
                   criteria={"received": received_id}) as session:
        row = Received.objects.filter(pk=received_id, kind="immigration_notice").first()
        if row is None:
            raise NotFoundError("指定された法務省通知が見つかりません。")
        session.record([row.person_id] if row.person_id else [])
        body = messages.opened(row)
    person = selectors.person_read(actor=actor, person_id=row.person_id) if row.person_id else None
    current = read_models_items(person)
    return {"row": row, "body": body, "person": person.as_dict() if person else None, "current": current,
            "changes": inbound.immigration_changes(body, current) if person else {}}


def read_models_items(person) -> dict:
    from juki.register import read_models

    return {k: (v.isoformat() if hasattr(v, "isoformat") else v)
            for k, v in read_models.entry_items(person.record).items()} if person else {}


def immigration_apply(*, actor: Actor, received_id: int) -> int:
    """The clerk applies a checked 法務省通知 (their own change, under their rights); returns the change."""
    import datetime as dt

    from juki.register.services import inbound

    from . import messages
    from .models import Received

    with transaction.atomic():
        with gate.open(actor, function="jukinet.immigration_check", perm=Perm.JUKINET_OPERATE,
                       criteria={"received": received_id, "apply": True}) as session:
            row = Received.objects.select_for_update().filter(pk=received_id, kind="immigration_notice").first()
            if row is None:
                raise NotFoundError("指定された法務省通知が見つかりません。")
            if row.state != Received.State.PENDING or not row.person_id:
                raise DomainError(ErrorCode.ALREADY_PROCESSED, "この通知は処理済みか、該当する住民がありません。")
            session.record([row.person_id])
            body = messages.opened(row)
        person = selectors.person_read(actor=actor, person_id=row.person_id)
        try:
            event_date = dt.date.fromisoformat(str(body.get("event_date") or ""))
        except ValueError:
            event_date = timezone.localdate()
        result = inbound.immigration_notice_apply(
            actor=actor, person_id=row.person_id, version=person.latest_version, items=body,
            current=read_models_items(person), event_date=min(event_date, timezone.localdate()))
        row.state, row.change_id, row.handled_by, row.handled_at = (Received.State.APPLIED, result.change_id,
                                                                    actor.user, timezone.now())
        row.note = "確認のうえ反映"
        row.save(update_fields=["state", "change_id", "handled_by", "handled_at", "note"])
    return result.change_id


WIDE_AREA_REFUSALS = {
    "item_not_permitted": "広域交付の住民票の写しには記載できない項目が請求されたため、住所地が交付を認めませんでした。",
    "not_found": "住所地にこの方の住民票がありません（転出・消除等）。",
    "support_measure_block": "住所地で支援措置の対象となっているため、広域交付はできません。住所地の市区町村で請求してください。",
    "restricted": "住所地で証明書の交付が抑止されているため、広域交付はできません。",
}


def wide_area_status(*, actor: Actor, cs: Client, group: str) -> dict:
    """A 広域交付 request and, once answered, what the 住所地 sent (its persons' names and the items)."""
    from . import connection, messages
    from .models import WideAreaRequest

    request = WideAreaRequest.objects.filter(group=group).select_related("received").first()
    if request is None:
        raise NotFoundError("指定された照会が見つかりません。")
    if request.state == WideAreaRequest.State.REQUESTED:
        try:
            messages.pull(cs, connection.koseki_client())
        except Unreachable:
            pass
        request.refresh_from_db()
    persons = []
    if request.state == WideAreaRequest.State.ANSWERED:
        with gate.open(actor, function="jukinet.wide_area_answer", perm=Perm.CERTIFICATE_ISSUE,
                       criteria={"group": group}):
            persons = messages.opened(request.received)["persons"]
    return {"asked": request, "persons": persons, "refusal": WIDE_AREA_REFUSALS.get(request.reason, request.reason)}


def wide_area_print(*, actor: Actor, group: str, requester_name: str) -> tuple[str, bytes]:
    """Issue the 広域交付 住民票の写し of an answered request (this city's issue; the certificates app
    numbers, signs and records it). Returns the issue number and the PDF."""
    from juki.certificates.services import wide_area_issue
    from juki.core.municipalities import name_of

    from . import messages
    from .models import WideAreaRequest

    request = WideAreaRequest.objects.filter(group=group, state=WideAreaRequest.State.ANSWERED).first()
    if request is None:
        raise NotFoundError("交付できる広域交付の回答がありません。")
    if request.issue_number:  # one answer, one copy: another copy is another request (its own log on both sides)
        raise DomainError(ErrorCode.ALREADY_PROCESSED, f"この回答による住民票の写しは交付済みです（発行番号 {request.issue_number}）。"
                          "再度交付するときは、交付履歴から再交付するか、改めて照会してください。")
    with gate.open(actor, function="jukinet.wide_area_answer", perm=Perm.CERTIFICATE_ISSUE,
                   criteria={"group": group, "print": True}) as session:
        answer = messages.opened(request.received)
        session.my_number_accessed = "my_number" in (answer.get("items") or [])
    result = wide_area_issue(actor=actor, answer=answer, address_city=name_of(request.to_municipality) or "",
                             requester_name=requester_name)
    WideAreaRequest.objects.filter(pk=request.pk).update(issue_number=result.issue.number)
    return result.issue.number, result.pdf
