from django.apps import AppConfig


class RegisterConfig(AppConfig):
    name = "juki.register"
    label = "register"
    verbose_name = "住民記録"

