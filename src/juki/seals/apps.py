from django.apps import AppConfig


class SealsConfig(AppConfig):
    name = "juki.seals"
    label = "seals"
    verbose_name = "印鑑登録"
