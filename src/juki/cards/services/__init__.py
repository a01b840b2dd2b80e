"""北九州市民カード: issue, use at the kiosk, and the counter's steps (カード管理情報 of 別添2).

Rules:
- One live card (利用中・一時停止・暗証番号ロック) per person; a new card for a person who has one
  is a 再交付, which abolishes the old card in the same transaction. The new card is the 印鑑登録証
  of the person's live seal registration, except after a loss: a card lost (再交付・廃止 for 紛失, or
  the seals' 亡失届) that served a registered seal ends that registration (印鑑登録証の亡失), and a
  card abolished as lost is never linked again. A card usable again (解除・ロック解除) becomes the
  印鑑登録証 of the holder's registered seal if it is not yet.
- The card number is 10 digits: 9 random digits (the first not 0, numbers cannot be guessed from
  the sequence) and a Damm check digit, which catches every single mistyped digit and every swap
  of two neighbouring digits.
- The 暗証番号 is 4 digits, set by the resident, stored only as an argon2 hash. Refused: all one
  digit (1111), a straight run (1234, 9876) and the holder's birth year or birthday (1985, 0401).
- `JUKI_CARD_PIN_ATTEMPTS` (3) consecutive wrong PINs lock the card (at the kiosk or when changing
  the PIN); a right PIN resets the count, and so does 一時停止の解除; a locked card stays locked
  whatever PIN is typed until the counter sets a new PIN after checking identity (`card_unlock`).
  Each attempt is counted before the PIN is checked, so parallel guesses share the allowed
  attempts and a card locked or stopped during a check is refused. The count, the lock and
  their log rows are committed before the refusal is raised.
- A person under a 支援措置 (or an 照会抑止) is refused to whoever the register refuses them to.
- A card is usable only while its holder is a resident: `card_authenticate` refuses the card of a
  removed person (死亡・転出 …) at once, and `card_sweep_removed` (`juki cards-sweep`, daily) abolishes
  those cards ex officio so that the records say so too.
- Every step is logged through the gate (`card.*`); no PIN ever reaches a log row, an error or a
  return value.

A package by seam (issue 13): `pins` (the PIN rule and hash), `issue` (交付), `seal_link` (the card
as 印鑑登録証, and the seals' signals it receives), `authentication` (the kiosk's check and the PIN
lock), `counter` (the counter's steps), `ex_officio` (職権廃止), `queries` (a person's cards), with
what they share in `common`. Callers use `services.<name>` as before; the card number's rule is
`cards.numbers`, which this package does not re-export.
"""
from .common import (
    card_dict,
    max_attempts,
)
from .pins import (
    PIN_BIRTH,
    PIN_FORMAT,
    PIN_TRIVIAL,
    pin_matches,
    validate_pin,
)
from .queries import (
    cards_for_person,
)
from .issue import (
    card_issue,
)
from .seal_link import (
    abolish_lost_seal_cards,
    link_live_card_to_seal,
    on_seal_card_lost,
    on_seal_registered,
)
from .authentication import (
    LOCKED_MESSAGE,
    NOT_USABLE,
    CardHolder,
    card_authenticate,
)
from .counter import (
    COUNTER_END_REASONS,
    REISSUE_REASONS,
    card_abolish,
    card_change_pin,
    card_reissue,
    card_resume,
    card_suspend,
    card_unlock,
)
from .ex_officio import (
    card_sweep_removed,
    on_change_written,
)

__all__ = [
    "card_dict",
    "max_attempts",
    "PIN_BIRTH",
    "PIN_FORMAT",
    "PIN_TRIVIAL",
    "pin_matches",
    "validate_pin",
    "cards_for_person",
    "card_issue",
    "abolish_lost_seal_cards",
    "link_live_card_to_seal",
    "on_seal_card_lost",
    "on_seal_registered",
    "LOCKED_MESSAGE",
    "NOT_USABLE",
    "CardHolder",
    "card_authenticate",
    "COUNTER_END_REASONS",
    "REISSUE_REASONS",
    "card_abolish",
    "card_change_pin",
    "card_reissue",
    "card_resume",
    "card_suspend",
    "card_unlock",
    "card_sweep_removed",
    "on_change_written",
]
