"""The kiosk's rules (S6): card + PIN, what a resident may choose, the kiosk's own pre-check,
payment, the issue, and what the kiosk says when it refuses. Plain Python: the views keep the
state between screens and call these.

What the kiosk offers, and why (the counter does everything else):
- 住民票の写し of the card holder's current household, requested by the holder as 本人
  (`Request(kind="self")`), one copy per issue: 本人のみ, 世帯全員, or 世帯の一部 (the holder and
  the members chosen; the holder is always on it, since a request as 本人 must include 本人);
  世帯主・続柄 and 本籍・筆頭者 yes/no. Never 個人番号, 住民票コード, 在留資格等, history, or 除票.
- 印鑑登録証明書 when the card is the 印鑑登録証 of a registered seal.
- 抑止 (証明書交付, error *or* alert level) or a 支援措置 on anyone of the holder's household (for a
  住民票) or on the holder (for a 印鑑登録証明書), a holder who is no longer a resident, and every
  refusal the counter could resolve: refused with one message that gives no reason, so that a
  相手方 holding someone's card learns nothing. The access log keeps the real reason.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.cards.models import Card, CardState
from juki.cards.numbers import normalize_number
from juki.cards.services import CardHolder, card_authenticate, max_attempts
from juki.certificates.content import Options, written_name
from juki.certificates.entitlement import Request
from juki.certificates.models import Channel
from juki.certificates.issuing import IssueResult, fee_for
from juki.certificates.services import certificate_issue
from juki.core.errors import DomainError, ErrorCode
from juki.protection import enforcement
from juki.protection.models import Process
from juki.register import selectors
from juki.register.models import Person, Status
from juki.seals.services import seal_certificate_issue

from .models import KioskDevice, KioskPayment

COPY, SEAL = "copy", "seal_cert"
FORMS = {COPY: "住民票の写し", SEAL: "印鑑登録証明書"}
SELF_ONLY, HOUSEHOLD, MEMBERS = "self", "household", "members"
SCOPES = {SELF_ONLY: "本人のみ", HOUSEHOLD: "世帯全員", MEMBERS: "世帯の一部（選んだ方）"}
# 10・50・100・500円玉と千円札 (no 1円・5円 coins, no larger notes: the change box holds coins only).
DENOMINATIONS = (10, 50, 100, 500, 1000)
CARD_DOCUMENT = "市民カード（暗証番号で確認）"
# 通数: up to this many copies of one choice in one payment (each its own 発行番号 and record);
# more than that is the counter's (a bulk request is checked by a clerk).
MAX_COPIES = 5

REFUSED = "この証明書は自動交付機では交付できません。お手数ですが、窓口へお越しください。"
CARD_UNUSABLE = "このカードは自動交付機では利用できません。お手数ですが、窓口へお越しください。"
TIMED_OUT = "一定時間操作がなかったため、手続きを終了しました。"
CANCELLED = "手続きを中止しました。"
ISSUING = "発行しています。しばらくお待ちください。"
# The first request of a double tap did not finish in time (or failed): nothing to hand over here.
NOT_ISSUED = "証明書を発行できませんでした。お手数ですが、窓口へお越しください。"
# Its issue is on record, but this session never received the certificate.
ISSUE_UNCONFIRMED = "証明書をお渡しできませんでした。お手数ですが、窓口へお越しください。"
# The certificate's PDF was taken away (downloaded) and is no longer kept.
TAKEN = "証明書はお渡し済みです。"


def card_locked_message() -> str:
    return f"暗証番号を{max_attempts()}回誤ったため、このカードは利用できません。窓口へお越しください。"


def idle_seconds() -> int:
    return settings.JUKI_KIOSK_IDLE_SECONDS


def idle_expired(last_seen: float | None, now: float) -> bool:
    """The resident's session ends after `JUKI_KIOSK_IDLE_SECONDS` without a request."""
    return last_seen is None or now - last_seen > idle_seconds()


class Refused(DomainError):
    """The kiosk refuses and ends the resident's session (the card and any money come back).

    `code` keeps the cause for the tests and the log; `message` is what the resident reads."""

    status = 403

    def __init__(self, code: ErrorCode | str, message: str = REFUSED):
        super().__init__(code, message)


def refusal(exc: DomainError) -> Refused:
    """What the kiosk says for a refusal of the card or of the issue."""
    if isinstance(exc, Refused):
        return exc
    if exc.code == ErrorCode.CARD_LOCKED:
        return Refused(exc.code, card_locked_message())
    if exc.code == ErrorCode.CARD_STATE:
        return Refused(exc.code, CARD_UNUSABLE)
    return Refused(exc.code, REFUSED)


# --- card + PIN ------------------------------------------------------------------------------------


def normalize_card_number(number: str) -> str:
    """The number as the counter reads it too (`cards.numbers.normalize_number`): one rule."""
    return normalize_number(number)


# One answer for an unknown card and a wrong PIN (and a card that cannot be used: suspended,
# abolished, its holder no longer resident): the kiosk must not tell which card numbers exist, or
# someone could look for numbers and then lock those cards with wrong PINs. Without a count of the
# tries left, since an unknown card has none.
PIN_OR_CARD_WRONG = ("暗証番号が違うか、このカードは自動交付機では利用できません。もう一度入力してください"
                     "（続けてまちがえると、このカードは使えなくなります）。")


def authenticate(*, actor: Actor, number: str, pin: str) -> CardHolder:
    """The card holder for a card number and its PIN.

    A wrong PIN and a card that is unknown or cannot be used raise the same
    `DomainError(CARD_PIN_WRONG, PIN_OR_CARD_WRONG)` (the screen asks again; the card service spends
    the time of a PIN check on a dummy hash for an unknown card, and logs the real reason). A locked
    card is a `Refused`. A PIN that is not 4 digits is a slip of the finger, not a guess: the card
    service sends it back before looking at the card (and so without counting), and the screen
    asks again."""
    number = normalize_card_number(number)
    if not number:
        raise Refused(ErrorCode.CARD_STATE, CARD_UNUSABLE)
    try:
        return card_authenticate(actor=actor, number=number, pin=pin)
    except DomainError as exc:
        if exc.code in (ErrorCode.CARD_PIN_WRONG, ErrorCode.CARD_STATE):
            raise DomainError(ErrorCode.CARD_PIN_WRONG, PIN_OR_CARD_WRONG, field="pin") from None
        if exc.code == ErrorCode.INVALID_INPUT and exc.field == "pin":
            raise
        raise refusal(exc) from None


# --- what to issue ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """What the resident chose. `person_ids`: for 世帯の一部, the members besides the holder."""

    form: str
    scope: str = SELF_ONLY
    person_ids: tuple[int, ...] = ()
    head_and_relationship: bool = False
    domicile: bool = False
    copies: int = 1

    def validate(self) -> None:
        if self.form not in FORMS:
            raise DomainError(ErrorCode.INVALID_INPUT, "証明書の種類を選んでください。", field="form")
        require_copies(self.copies)
        if self.form == COPY:
            if self.scope not in SCOPES:
                raise DomainError(ErrorCode.INVALID_INPUT, "記載する方を選んでください。", field="scope")
            if self.scope == MEMBERS and not self.person_ids:
                raise DomainError(ErrorCode.INVALID_INPUT, "ご本人のほかに記載する方を、1人以上選んでください。",
                                  field="person_ids")

    def lines(self) -> list[tuple[str, str]]:
        """The choice as the confirmation screen lists it (no names)."""
        rows = [("証明書", FORMS[self.form])]
        if self.form == COPY:
            who = SCOPES[self.scope]
            if self.scope == MEMBERS:
                who = f"ご本人と選んだ方（{len(self.person_ids) + 1}人）"
            rows += [("記載する方", who),
                     ("世帯主の氏名と続柄", "記載する" if self.head_and_relationship else "記載しない"),
                     ("本籍・筆頭者", "記載する" if self.domicile else "記載しない")]
        rows.append(("通数", f"{self.copies}通"))
        return rows

    def as_dict(self) -> dict:
        return {"form": self.form, "scope": self.scope, "person_ids": list(self.person_ids),
                "head_and_relationship": self.head_and_relationship, "domicile": self.domicile,
                "copies": self.copies}

    @classmethod
    def from_dict(cls, data: dict) -> Choice:
        return cls(form=data["form"], scope=data.get("scope", SELF_ONLY),
                   person_ids=tuple(int(p) for p in data.get("person_ids") or ()),
                   head_and_relationship=bool(data.get("head_and_relationship")), domicile=bool(data.get("domicile")),
                   copies=int(data.get("copies") or 1))


def require_copies(copies) -> int:
    """通数 from 1 to `MAX_COPIES`."""
    if not isinstance(copies, int) or isinstance(copies, bool) or not 1 <= copies <= MAX_COPIES:
        raise DomainError(ErrorCode.INVALID_INPUT,
                          f"通数は1通から{MAX_COPIES}通までです。{MAX_COPIES}通をこえるときは窓口へお越しください。",
                          field="copies")
    return copies


def fee(form: str) -> int:
    """The fee of one copy the kiosk asks: the same table as the counter's (`fee_for`)."""
    return fee_for(form, official=False, reissue=False)


def due(choice: Choice) -> int:
    """What the resident pays for the choice: the fee of one copy times the 通数."""
    return fee(choice.form) * choice.copies


def fees() -> dict[str, int]:
    """Both forms' fees, as the start and menu screens show them."""
    return {form: fee(form) for form in FORMS}


@dataclass(frozen=True)
class Household:
    """The holder's current household as the pre-check found it: ids only."""

    household_id: int
    member_ids: tuple[int, ...] = ()


def precheck(*, actor: Actor, holder: CardHolder, form: str) -> Household:
    """May the kiosk issue this form for this card holder at all? Refuses (`Refused`) before the
    resident chooses or pays; `issue` runs it again. Logged as `kiosk.check` with the real reason."""
    if form not in FORMS:
        raise DomainError(ErrorCode.INVALID_INPUT, "証明書の種類を選んでください。", field="form")
    criteria = {"form": form, "card_id": holder.card_id, "person_id": holder.person_id}
    with gate.open(actor, function="kiosk.check", perm=Perm.CERTIFICATE_ISSUE, criteria=criteria) as session:
        session.record([holder.person_id])
        _card_still_usable(holder)
        person = Person.objects.filter(pk=holder.person_id).values("status", "household_id").first()
        if person is None or person["status"] != Status.RESIDENT or person["household_id"] is None:
            raise Refused(ErrorCode.NOT_RESIDENT)
        members = tuple(Person.objects.filter(household_id=person["household_id"], status=Status.RESIDENT)
                        .order_by("id").values_list("id", flat=True))
        subjects = list(members) if form == COPY else [holder.person_id]
        session.record(subjects)
        if enforcement.protected_ids(subjects):
            session.flag(enforcement.FLAG)
            raise Refused(ErrorCode.SUPPORT_MEASURE_BLOCK)
        if enforcement.restrictions_for(subjects, Process.CERTIFICATE, unattended=True):  # 一時解除 is the counter's
            session.flag(enforcement.RESTRICTION_FLAG)
            raise Refused(ErrorCode.RESTRICTED)
        if form == SEAL and not holder.seal_registration_id:
            raise Refused(ErrorCode.SEAL_STATE)
        return Household(household_id=person["household_id"], member_ids=members)


def _card_still_usable(holder: CardHolder) -> None:
    """The card as it is now, not as it was when the PIN was accepted: suspended (reported lost),
    abolished, locked or handed to someone else since then, it prints nothing. Inside the issue's
    transaction the row is locked, so a suspension at the counter waits for the issue or stops it."""
    rows = Card.objects.select_for_update() if transaction.get_connection().in_atomic_block else Card.objects
    card = rows.filter(pk=holder.card_id).values("state", "person_id").first()
    if card is None or card["state"] != CardState.ACTIVE or card["person_id"] != holder.person_id:
        raise Refused(ErrorCode.CARD_STATE, CARD_UNUSABLE)


def members(*, actor: Actor, holder: CardHolder) -> list[dict]:
    """The holder's household for 世帯の一部: ids and names only, the holder first.

    The only screen of the kiosk that shows names, and only the household's own (what a
    世帯全員 copy would print)."""
    home = precheck(actor=actor, holder=holder, form=COPY)
    household = selectors.household_get(actor=actor, household_id=home.household_id)
    out = []
    for m in household["members"]:
        if m.get("masked"):
            continue  # protected since the pre-check (a race): never listed
        out.append({"person_id": m["person_id"], "name": written_name(m["name"]),
                    "holder": m["person_id"] == holder.person_id})
    out.sort(key=lambda m: not m["holder"])
    return out


# --- payment ---------------------------------------------------------------------------------------


def insert(*, paid: int, coin: int, due: int) -> int:
    """One coin or note into the machine: the new amount paid. Refused (and given back) when it is
    not one the machine takes or the fee is already paid."""
    if coin not in DENOMINATIONS:
        raise DomainError(ErrorCode.INVALID_INPUT, "このお金は使えません。10円・50円・100円・500円硬貨と千円札をお使いください。",
                          field="coin")
    if paid >= due:
        raise DomainError(ErrorCode.INVALID_INPUT, "料金はお支払い済みです。「発行する」を押してください。", field="coin")
    return paid + coin


def change_due(*, paid: int, due: int) -> int:
    """おつり: what comes back after the issue (never negative; nothing is issued short)."""
    return max(0, paid - due)


def require_paid(choice: Choice, paid: int) -> int:
    """The fee of the choice, when `paid` covers it; otherwise the message the payment screen shows."""
    total = due(choice)
    if paid < total:
        raise DomainError(ErrorCode.INVALID_INPUT, f"料金が{total - paid}円不足しています。お金を入れてください。", field="paid")
    return total


# --- issue -----------------------------------------------------------------------------------------


def issue(*, actor: Actor, holder: CardHolder, choice: Choice, paid: int) -> list[IssueResult]:
    """Issue what the resident chose, paid for, through the certificate services (channel kiosk,
    the device's terminal): one issue per copy, each with its own 発行番号, all or none (the
    caller's transaction). Any refusal comes back as a `Refused` with the kiosk's message."""
    choice.validate()
    require_paid(choice, paid)
    request = Request(kind="self", requester_person_id=holder.person_id, documents=(CARD_DOCUMENT,))
    try:
        home = precheck(actor=actor, holder=holder, form=choice.form)
        if choice.form == SEAL:
            return [seal_certificate_issue(actor=actor, card_number=holder.number, request=request,
                                           channel=Channel.KIOSK) for _ in range(choice.copies)]
        if choice.scope == SELF_ONLY:
            person_ids = [holder.person_id]
        elif choice.scope == HOUSEHOLD:
            person_ids = list(home.member_ids)
        else:
            if set(choice.person_ids) - set(home.member_ids):
                raise Refused(ErrorCode.HOUSEHOLD_MISMATCH)  # the household changed since the choice
            person_ids = [holder.person_id, *(p for p in choice.person_ids if p != holder.person_id)]
        options = Options(form=COPY, layout="household", person_ids=tuple(person_ids),
                          head_and_relationship=choice.head_and_relationship, domicile=choice.domicile)
        return [certificate_issue(actor=actor, options=options, household_id=home.household_id, person_ids=person_ids,
                                  request=request, channel=Channel.KIOSK) for _ in range(choice.copies)]
    except DomainError as exc:
        raise refusal(exc) from None


class AlreadyClaimed(Exception):
    """The payment was claimed by an earlier request (the first tap of a double tap), which issues
    or has issued; this one issues nothing. `number`: that issue's number, "" while it runs."""

    def __init__(self, number: str):
        super().__init__(number)
        self.number = number


def issue_paid(*, actor: Actor, device: KioskDevice, token: str, holder: CardHolder, choice: Choice,
               paid: int) -> list[IssueResult]:
    """Claim the payment `token` (once: `AlreadyClaimed` for any later request), then `issue`.

    The claim commits on its own first, so that a second request finds it at once. The issue and
    the claim's issue number (the first copy's) commit together: a claim without a number means nothing was issued
    (the money went back). A refusal's log rows, written by the gates inside this transaction,
    are committed with it before the refusal is raised."""
    choice.validate()
    due = require_paid(choice, paid)
    try:
        with transaction.atomic():
            claim = KioskPayment.objects.create(token=token, device=device, amount=paid, fee=due,
                                                copies=choice.copies)
    except IntegrityError:
        raise AlreadyClaimed(claim_number(token) or "") from None
    failure = None
    with transaction.atomic():
        try:
            results = issue(actor=actor, holder=holder, choice=choice, paid=paid)
        except Exception as exc:  # noqa: BLE001 - re-raised below, once the gate's refusal row is committed
            failure = exc
        else:
            KioskPayment.objects.filter(pk=claim.pk).update(issue_number=results[0].number)
    if failure is not None:
        raise failure
    return results


def claim_number(token: str) -> str | None:
    """The issue number of the payment `token`'s claim: None when unclaimed, "" while (or if) nothing
    is issued for it."""
    return KioskPayment.objects.filter(token=token).values_list("issue_number", flat=True).first()


def issue_pending(token: str) -> bool:
    """Is the payment `token` claimed by an issue that may still be running? Waited for at most
    `JUKI_KIOSK_IDLE_SECONDS` from the claim: an issue takes seconds, longer means it failed."""
    since = timezone.now() - dt.timedelta(seconds=idle_seconds())
    return KioskPayment.objects.filter(token=token, claimed_at__gt=since).exists()
