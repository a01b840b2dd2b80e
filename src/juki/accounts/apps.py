from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "juki.accounts"
    label = "accounts"
    verbose_name = "職員・端末"

    def ready(self):
        from . import models, tokens

        # dispatch_uid: connected once however often ready() runs (tests, reloads).
        models.staff_changed.connect(tokens._on_staff_changed, sender=models.Staff,
                                     dispatch_uid="juki.accounts.tokens.staff_changed")
