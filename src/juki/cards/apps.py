from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "juki.cards"
    label = "cards"
    verbose_name = "北九州市民カード"
