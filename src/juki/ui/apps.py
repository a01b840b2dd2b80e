from django.apps import AppConfig


class UiConfig(AppConfig):
    """The staff screens' kit: the session and terminal check every staff screen passes
    (`access.counter_view`), the base form and date field, the page frame and its menu. It sits
    below every screen app (counter, certificates, seals, cards, protection, rights, oversight),
    which reach each other only through it (ADR 0018)."""

    name = "juki.ui"
    verbose_name = "職員画面の共通部品"
