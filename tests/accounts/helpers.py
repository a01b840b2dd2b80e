"""Shared steps of the login tests."""
from __future__ import annotations

import datetime as dt

from django.test import Client

from juki.audit.models import AccessLog
from juki.register.services.seed import my_number_for
from tests.conftest import move_in_family

LOGIN = "/counter/login/"
TOKEN = "/api/v1/auth/token"
BAD = "職員ID・パスワード・端末の組合せが正しくありません。"
LOCKED = "ログインの失敗が続いたため、しばらくログインできません。"


def post_login(client: Client, user_or_name, password: str, terminal, **extra):
    name = getattr(user_or_name, "username", user_or_name)
    return client.post(LOGIN, {"username": name, "password": password, "terminal": terminal.code, **extra})


def events(function: str, **filters):
    return AccessLog.objects.filter(function=function, **filters)


def person_with_my_number(world):
    number = my_number_for(4242, 7)
    family = move_in_family(world, members=[{
        "family_name": "青木", "given_name": "太郎", "family_name_kana": "アオキ", "given_name_kana": "タロウ",
        "birth_date": dt.date(1985, 4, 1), "sex": 1, "relationship": "世帯主",
        "domicile": "福岡県北九州市小倉北区城内1番", "domicile_head": "青木　太郎", "my_number": number}])
    return family.persons[0]["id"], number
