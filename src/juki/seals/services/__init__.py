"""印鑑登録 (seal registration) and the 印鑑登録証明書, after the 印鑑登録証明事務処理要領 as a city's
印鑑条例 applies it (北九州市印鑑条例 is typical).

Registration (`seal_register`): a resident aged 15 or over (on the day of the application), one
live registration per person, and not a seal another member of the household has registered or
applied for (the same stored 印影). How the applicant is confirmed decides when the seal is
registered:
- 顔写真付きの官公署発行書類 presented by 本人, one of `PHOTO_DOCUMENTS`: the same day;
- a 保証人 (a resident whose own seal is registered here, vouching with it): the same day;
- otherwise (本人 without such a document, or a 代理人 with a 委任状): a 照会書 (`seal_inquiry_letter`)
  is mailed to the registered address; the registration waits (照会中) until the 回答書 is brought back by the
  deadline (`seal_inquiry_answer`), `JUKI_SEAL_ANSWER_DAYS` days (30 by default). An inquiry
  past its deadline is ended (回答期限の経過) by `juki seals-sweep`, or when the person applies
  again.
The 印影 is checked and measured by `images.normalise`; the 刻印文字 the clerk reads off the seal
must represent the name (氏名・氏・名・旧氏・通称, or parts of them combined), and the clerk
confirms what a scan cannot show (material, frame, legibility: `seal_checked`).

End of a registration: 廃止 at the person's request (`seal_abolish`), 亡失 of the seal or of the
印鑑登録証 (`seal_report_lost`; the lost card is abolished with it, and the card app's 再交付 or
廃止 for 紛失 ends the registration the card served: `end_on_card_loss`), and 職権廃止
(`abolish_on_register_change`): the register calls it inside the very transaction that records a
死亡, 転出 (on the 転出届, even with a 転出予定日 ahead: the city's notice tells residents to get
certificates first), 職権消除 or any other removal, and a change of name after which the 刻印文字
no longer represents the name. A person's last event in the change decides: a 区間異動 (区間転出
then 区間転入) leaves a resident and the registration. So it cannot be forgotten; `seal_sweep` is
the safety net for registrations whose person left the register by any other path.

A 印鑑登録証明書 is 再交付 free of charge only in place of one voided on the day it was issued,
and once (`seal_certificate_reissue`); otherwise the card and the 交付申請書 are needed again.

Every function opens the gate (`seal.manage`, or `certificate.issue` for the certificate), and a
change is one transaction: the registration row, its `SealEvent` rows, the access-log row (and
the card's link, written by the cards app), or nothing.

A package by seam (issue 13): `registration`, `ending`, `certificates`, with what they share in
`common`. Callers use `services.<name>` as before.
"""
# `today` is not re-exported: each submodule looks it up in its own namespace, so a test that
# moves the clock patches it there (`registration.today`, `ending.today`, `certificates.today`).
from .common import (
    age_on,
    data_uri,
    name_characters,
    registration_dict,
    seal_text_fits,
)
from .registration import (
    MIN_AGE,
    NUMBER_SEQUENCE,
    PHOTO_DOCUMENTS,
    answer_days,
    seal_get,
    seal_inquiry_answer,
    seal_inquiry_letter,
    seal_register,
)
from .ending import (
    LOST_WHAT,
    abolish_on_register_change,
    end_on_card_loss,
    on_card_lost,
    on_change_written,
    seal_abolish,
    seal_report_lost,
    seal_sweep,
)
from .certificates import (
    CARD_DOCUMENT,
    SEAL_CERT,
    STATEMENT_DOCUMENT,
    seal_certificate_check,
    seal_certificate_issue,
    seal_certificate_preview,
    seal_certificate_reissue,
    seal_status,
)

__all__ = [
    "age_on",
    "data_uri",
    "name_characters",
    "registration_dict",
    "seal_text_fits",
    "MIN_AGE",
    "NUMBER_SEQUENCE",
    "PHOTO_DOCUMENTS",
    "answer_days",
    "seal_get",
    "seal_inquiry_answer",
    "seal_inquiry_letter",
    "seal_register",
    "LOST_WHAT",
    "abolish_on_register_change",
    "end_on_card_loss",
    "on_card_lost",
    "on_change_written",
    "seal_abolish",
    "seal_report_lost",
    "seal_sweep",
    "CARD_DOCUMENT",
    "SEAL_CERT",
    "STATEMENT_DOCUMENT",
    "seal_certificate_check",
    "seal_certificate_issue",
    "seal_certificate_preview",
    "seal_certificate_reissue",
    "seal_status",
]
