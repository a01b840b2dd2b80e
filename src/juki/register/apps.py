from django.apps import AppConfig


class RegisterConfig(AppConfig):
    name = "juki.register"
    label = "register"
    verbose_name = "住民記録"

    def ready(self):
        # The log analysis names each change.<operation> by its 異動, and a subject by its 宛名番号,
        # without the audit app importing the register.
        from juki.audit import analysis

        from .reasons import OPERATION_LABELS

        analysis.FUNCTION_LABELS.update({f"change.{op}": f"異動（{label}）" for op, label in OPERATION_LABELS.items()})

        def atena_numbers(ids: set[int]) -> dict[int, str]:
            from .models import Person

            return dict(Person.objects.filter(pk__in=ids).values_list("id", "atena_number")) if ids else {}

        analysis.subject_numbers = atena_numbers
