"""The 個人番号 of a 仮登録: taken out of its payload and form into one sealed blob while it
waits; put back only inside the services (a fresh preview, 本登録) and for the clerk who entered it."""
from __future__ import annotations

from juki.core import mynumber

from ...models import PendingChange

_SEALED = "__sealed__"


def seal_payload(payload: dict) -> tuple[dict, str, bytes | None]:
    """Take every 個人番号 out of the payload into one sealed blob."""
    numbers: list[str] = []

    def seal(value) -> str:
        if not value:
            return value
        numbers.append(str(value))
        return f"{_SEALED}{len(numbers) - 1}"

    def walk(value):
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if (k == "my_number" or k.endswith("-my_number")) and v:  # the payload's and the form's
                    out[k] = [seal(x) for x in v] if isinstance(v, list) else seal(v)
                else:
                    out[k] = walk(v)
            return out
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    clean = walk(payload)
    if not numbers:
        return clean, "", None
    key_id, blob = mynumber.seal_values(numbers)
    return clean, key_id, blob


def unseal_payload(pending: PendingChange, *, form: bool = False) -> dict:
    """The entry's payload (or, with `form`, what was typed on the counter's form), 個人番号 unsealed."""
    value = pending.form_data if form else pending.payload
    if not pending.sealed:
        return value
    numbers = mynumber.unseal_values(pending.sealed_key_id, pending.sealed)

    def walk(value):
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str) and value.startswith(_SEALED):
            return numbers[int(value[len(_SEALED):])]
        return value

    return walk(value)
