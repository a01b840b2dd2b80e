"""Fixtures shared by the certificate tests."""
import pytest

from tests.conftest import move_in_family


@pytest.fixture
def fam(world):
    """A household of three (世帯主, 妻, 子) moved in through the register's services."""
    result = move_in_family(world)
    head, wife, child = (p["id"] for p in result.persons)
    return {"household": result.households[0]["id"], "head": head, "wife": wife, "child": child}
