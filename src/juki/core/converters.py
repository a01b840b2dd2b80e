"""The `<id:…>` path converter: a database id in a URL.

Django's `<int:…>` takes any number of digits, and an id past the 64-bit range then fails deep in
the database driver (OverflowError on SQLite, a DataError on PostgreSQL) as a 500. An id is 1 to 18
digits: anything else is simply not a page (404).
"""
from django.urls import register_converter


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))


def register() -> None:
    register_converter(IdConverter, "id")
