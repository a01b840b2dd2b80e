from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "juki.core"
    label = "core"
