from django.apps import AppConfig


class IntermediaryLinkConfig(AppConfig):
    name = "juki.intermediary_link"
    label = "intermediary_link"
    verbose_name = "中間サーバー連携"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from juki.accounts.permissions import Perm
        from juki.ui import menu

        menu.register(menu.Entry("中間サーバー", "intermediary_link:overview", (Perm.INTERMEDIARY_VIEW,), "9", order=79),
                      menu.Home(87, Perm.INTERMEDIARY_VIEW, "intermediary_link:overview"))
