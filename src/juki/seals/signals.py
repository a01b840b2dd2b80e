"""What a seal registration tells the city card (juki.cards), which connects to these in its ready():
sent inside the seal service's gate session and transaction, so what the card app writes commits
or rolls back with the registration. Seals and cards never call each other's services."""
from django.dispatch import Signal

# `registration` became 登録: the person's card in hand becomes its 印鑑登録証.
seal_registered = Signal()
# `registration` ended because its 印鑑登録証 was lost (亡失届): every live card serving it ends.
# Each receiver returns the ids of the cards it ended.
seal_card_lost = Signal()
