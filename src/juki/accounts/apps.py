from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "juki.accounts"
    label = "accounts"
    verbose_name = "職員・端末"
