"""Fixtures of the seal tests: a household moved in through the register, a clerk's actor."""
import pytest

from tests.conftest import move_in_family


@pytest.fixture
def fam(world):
    """青木 太郎 (世帯主, 1985), 花子 (妻, 1987) and 一郎 (子, 2015)."""
    result = move_in_family(world)
    head, wife, child = (p["id"] for p in result.persons)
    return {"household": result.households[0]["id"], "head": head, "wife": wife, "child": child}
