from django.apps import AppConfig


class JukinetConfig(AppConfig):
    name = "juki.jukinet"
    label = "jukinet"
    verbose_name = "住基ネット連携"
    default_auto_field = "django.db.models.BigAutoField"
