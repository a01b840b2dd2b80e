from django.apps import AppConfig


class JukinetConfig(AppConfig):
    name = "juki.jukinet"
    label = "jukinet"
    verbose_name = "住基ネット連携"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from juki.accounts.permissions import Perm
        from juki.ui import menu

        menu.register(menu.Entry("特例転入", "jukinet:special_move_in", ("change.move_in",), "x", order=21),
                      menu.Entry("広域交付", "jukinet:wide_area", (Perm.CERTIFICATE_ISSUE,), "q", order=41),
                      menu.Entry("住基ネット", "jukinet:status", (Perm.JUKINET_OPERATE,), "j", order=75),
                      menu.Entry("本人確認", "jukinet:identify", (Perm.JUKINET_IDENTIFY,), "n", order=76))
