from django.apps import AppConfig


class OversightConfig(AppConfig):
    """Oversight of the access log, above the register: analysis, anomaly review (C08) and the
    disclosure report (開示請求). It reads the register to name persons and changes; the log's core
    (`juki.audit`: gate, chain, events) stays below the register and imports nothing of it."""

    name = "juki.oversight"
    label = "oversight"
    verbose_name = "監査・開示"

    def ready(self):
        from juki.accounts.permissions import Perm
        from juki.ui import menu

        menu.register(
            menu.Entry("ログ分析", "audit:analysis", (Perm.ACCESS_LOG_VIEW,), "g", order=60),
            menu.Entry("開示請求", "disclosure:start", (Perm.DISCLOSURE_PREPARE,), "o", order=70),
            menu.Home(50, Perm.ACCESS_LOG_VIEW, "audit:analysis"),
            menu.Home(70, Perm.DISCLOSURE_PREPARE, "disclosure:start"),
        )
