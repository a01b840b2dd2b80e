from django.apps import AppConfig


class CounterConfig(AppConfig):
    """The clerk's counter (窓口): the staff screens over the register's services."""

    name = "juki.counter"
    verbose_name = "窓口業務"

    def ready(self):
        from juki.accounts.permissions import Perm
        from juki.ui import menu

        menu.register(
            menu.Entry("住民検索", "counter:search", (Perm.PERSON_SEARCH,), "s", order=10),
            menu.Entry("転入", "counter:change_form", ("change.move_in",), "i", order=20, args=("move-in",)),
            menu.Entry("審査待ち", "counter:pending_list", (Perm.PERSON_CHANGE, Perm.CHANGE_APPROVE), "r", order=30),
            menu.Home(10, Perm.PERSON_SEARCH, "counter:search"),
            menu.Home(20, Perm.CHANGE_APPROVE, "counter:pending_list"),
        )
