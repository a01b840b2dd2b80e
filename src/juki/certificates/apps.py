from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "juki.certificates"
    label = "certificates"
    verbose_name = "証明書"

    def ready(self):
        from juki.accounts.permissions import Perm
        from juki.ui import menu

        # The forms kept as first printed, and how each is printed and checked again on a reissue.
        from . import code_notice, move_out, registry

        registry.register_snapshot_form(move_out.FORM, registry.SnapshotForm(
            render=move_out.render, recheck=move_out.reissue_check, under_lock=move_out.reissue_under_lock,
            replaces=True))
        registry.register_snapshot_form(code_notice.FORM, registry.SnapshotForm(
            render=code_notice.render, recheck=code_notice.reissue_check))

        menu.register(menu.Entry("交付履歴", "certificate_counter:issue_list", (Perm.CERTIFICATE_ISSUE,), "y", order=40))
