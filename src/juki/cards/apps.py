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
