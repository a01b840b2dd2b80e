from juki.register import selectors

from ..conftest import move_in_family


def test_move_in_family_writes_versions_and_household(world):
    result = move_in_family(world)
    assert len(result.persons) == 3
    assert all(p["version"] == 1 for p in result.persons)
    view = selectors.household_get(actor=world, household_id=result.households[0]["id"])
    assert [m["relationship"] for m in view["members"]] == ["世帯主", "妻", "子"]
    assert view["head"]["name"] == "青木　太郎"
    assert view["address"]["display"] == "北九州市小倉北区城内1番1号"
