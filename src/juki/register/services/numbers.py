"""Allocation of 宛名番号, 世帯番号 and 住民票コード."""
from __future__ import annotations

import random

from django.conf import settings
from django.db import connection
from django.db.models import Max, Min

from juki.core.checkdigits import with_check_digit
from juki.core.errors import DomainError, ErrorCode

from ..models import NumberSequence, ResidentCodeStock

ATENA = "atena_number"
HOUSEHOLD = "household_number"


def allocate(name: str, count: int = 1) -> list[str]:
    """Reserve `count` serials of sequence `name` and return them with check digits [130]."""
    table = NumberSequence._meta.db_table
    with connection.cursor() as cur:
        # One statement takes the row lock and reserves the block; a city's first number creates the row.
        cur.execute(f"UPDATE {table} SET next_value = next_value + %s WHERE name = %s RETURNING next_value",
                    [count, name])
        row = cur.fetchone()
    if row is None:
        NumberSequence.objects.get_or_create(name=name)
        return allocate(name, count)
    first = row[0] - count
    return [with_check_digit(first + i) for i in range(count)]


def take_resident_code() -> tuple[str, list[dict]]:
    """Pick an unused 住民票コード from the stock at random [870]; warn when the stock runs low."""
    free = ResidentCodeStock.objects.filter(used=False)
    bounds = free.aggregate(low=Min("id"), high=Max("id"))
    if bounds["low"] is None:
        raise DomainError(
            ErrorCode.RESIDENT_CODE_STOCK_EMPTY,
            "付番用の住民票コードがありません。CSから住民票コードを取得してください。",
        )
    # A random point in the id range and the next unused code from there: an index range scan,
    # whatever the size of the stock. The conditional update means two concurrent changes
    # can never take the same code.
    rng = random.SystemRandom()
    for _ in range(20):
        start = rng.randint(bounds["low"], bounds["high"])
        row = free.filter(id__gte=start).order_by("id").first() or free.order_by("id").first()
        if row is None:
            raise DomainError(ErrorCode.RESIDENT_CODE_STOCK_EMPTY, "付番用の住民票コードがありません。")
        if ResidentCodeStock.objects.filter(pk=row.pk, used=False).update(used=True) == 1:
            break
    else:
        raise DomainError(ErrorCode.RESIDENT_CODE_STOCK_EMPTY, "住民票コードを確保できませんでした。もう一度処理してください。")
    warnings = []
    threshold = settings.JUKI_RESIDENT_CODE_STOCK_ALERT
    remaining = free.order_by()[: threshold + 1].count()  # bounded: only "is it below the threshold?"
    if remaining < threshold:
        warnings.append(
            {
                "code": "resident_code_stock_low",
                "message": f"付番用の住民票コードの残りが {remaining} 件です。CSから追加取得してください。",
            }
        )
    return row.code, warnings
