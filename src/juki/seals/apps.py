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
