"""Fixtures shared by the protection tests: a DV victim's household (the 支援措置担当 is in tests/conftest.py)."""
import pytest

from .helpers import move_in_victim


@pytest.fixture
def victim(world):
    return move_in_victim(world)
