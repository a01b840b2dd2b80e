from django.apps import AppConfig


class OversightConfig(AppConfig):
    """Oversight of the access log, above the register: analysis, anomaly review (C08) and the
    disclosure report (開示請求). It reads the register to name persons and changes; the log's core
    (`juki.audit`: gate, chain, events) stays below the register and imports nothing of it."""

    name = "juki.oversight"
    label = "oversight"
    verbose_name = "監査・開示"
