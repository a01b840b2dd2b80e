"""Allocation of 宛名番号, 世帯番号 and 住民票コード."""
from __future__ import annotations

import random

from django.conf import settings
from django.db.models import F

from juki.core.checkdigits import with_check_digit
from juki.core.errors import DomainError, ErrorCode

from ..models import NumberSequence, ResidentCodeStock

ATENA = "atena_number"
HOUSEHOLD = "household_number"


def allocate(name: str, count: int = 1) -> list[str]:
    """Reserve `count` serials of sequence `name` and return them with check digits [130]."""
    NumberSequence.objects.get_or_create(name=name)
    seq = NumberSequence.objects.select_for_update().get(name=name)
    first = seq.next_value
    NumberSequence.objects.filter(name=name).update(next_value=F("next_value") + count)
    return [with_check_digit(first + i) for i in range(count)]


def take_resident_code() -> tuple[str, list[dict]]:
    """Pick an unused 住民票コード from the stock at random [870]; warn when the stock runs low."""
    free = ResidentCodeStock.objects.filter(used=False)
    remaining = free.count()
    if remaining == 0:
        raise DomainError(
            ErrorCode.RESIDENT_CODE_STOCK_EMPTY,
            "付番用の住民票コードがありません。CSから住民票コードを取得してください。",
        )
    # Random pick without loading the stock: a random offset into the unused codes. The
    # conditional update makes two concurrent changes unable to take the same code.
    for _ in range(20):
        row = free.order_by("id")[random.SystemRandom().randrange(remaining)]
        if ResidentCodeStock.objects.filter(pk=row.pk, used=False).update(used=True) == 1:
            break
        remaining = max(1, free.count())
    else:
        raise DomainError(ErrorCode.RESIDENT_CODE_STOCK_EMPTY, "住民票コードを確保できませんでした。もう一度処理してください。")
    warnings = []
    if remaining - 1 < settings.JUKI_RESIDENT_CODE_STOCK_ALERT:
        warnings.append(
            {
                "code": "resident_code_stock_low",
                "message": f"付番用の住民票コードの残りが {remaining - 1} 件です。CSから追加取得してください。",
            }
        )
    return row.code, warnings
