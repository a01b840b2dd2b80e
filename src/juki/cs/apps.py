from django.apps import AppConfig


class CsConfig(AppConfig):
    name = "juki.cs"
    label = "cs"
    verbose_name = "市町村CS"
    default_auto_field = "django.db.models.BigAutoField"
