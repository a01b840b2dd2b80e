from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "juki.cards"
    label = "cards"
    verbose_name = "北九州市民カード"

    def ready(self):
        # 職権廃止 in the same transaction as the register's 死亡・転出・職権消除 (services.on_change_written).
        from juki.register.services.writer import change_written

        from .services import on_change_written

        change_written.connect(on_change_written, dispatch_uid="cards.ex_officio")

        # A seal registered or ended for a lost 印鑑登録証: the card follows, in the seal's transaction.
        from juki.seals import signals as seal_signals

        from .services import on_seal_card_lost, on_seal_registered

        seal_signals.seal_registered.connect(on_seal_registered, dispatch_uid="cards.seal_registered")
        seal_signals.seal_card_lost.connect(on_seal_card_lost, dispatch_uid="cards.seal_card_lost")
