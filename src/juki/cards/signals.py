"""What the city card tells the seal registration (juki.seals), which connects to these in its
ready(): sent inside the card service's gate session and transaction, so that the registration
ends (or nothing does) together with the card. Seals and cards never call each other's services."""
from django.dispatch import Signal

# `card`, the 印鑑登録証 of `registration`, is lost (再交付・廃止 for 紛失); `note` says how.
# Each receiver returns True when it ended the registration.
card_lost = Signal()
