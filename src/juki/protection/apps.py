from django.apps import AppConfig


class ProtectionConfig(AppConfig):
    name = "juki.protection"
    label = "protection"
    verbose_name = "抑止・支援措置"
