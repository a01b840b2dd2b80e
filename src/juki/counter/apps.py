from django.apps import AppConfig


class CounterConfig(AppConfig):
    """The clerk's counter (窓口): the staff screens over the register's services."""

    name = "juki.counter"
    verbose_name = "窓口業務"
