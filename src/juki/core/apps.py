from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "juki.core"
    label = "core"

    def ready(self):
        from . import converters

        converters.register()  # `<id:…>` in every app's URLs (before any urls module is imported)
