from django.apps import AppConfig


class KioskConfig(AppConfig):
    name = "juki.kiosk"
    label = "kiosk"
    verbose_name = "証明書自動交付機"
