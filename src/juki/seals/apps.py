from django.apps import AppConfig


class SealsConfig(AppConfig):
    name = "juki.seals"
    label = "seals"
    verbose_name = "印鑑登録"

    def ready(self):
        # 職権廃止 in the same transaction as the register's 死亡・転出・氏名の変更 (services docstring).
        from juki.register.services.writer import change_written

        from .services import on_change_written

        change_written.connect(on_change_written, dispatch_uid="seals.ex_officio")

        # The 交付履歴's 再交付 of a 印鑑登録証明書 runs through the seals' own service.
        from juki.certificates import registry

        from .services import SEAL_CERT, seal_certificate_reissue

        registry.register_reissuer(SEAL_CERT, seal_certificate_reissue)

        # The city card that is the 印鑑登録証 lost: the registration ends, in the card's transaction.
        from juki.cards import signals as card_signals

        from .services import on_card_lost

        card_signals.card_lost.connect(on_card_lost, dispatch_uid="seals.card_lost")
