"""The 住民票 screen shows hidden items as hidden, not as empty ([1390])."""
from tests.register.helpers import ids

from .test_views import client_for


def test_the_person_screen_says_an_item_is_hidden_and_never_prints_it(viewer, clerk, terminal, family):
    pid = ids(family)[0]
    page = client_for(viewer, terminal).get(f"/counter/persons/{pid}/").content.decode()
    assert "小倉北区城内1番1号" in page  # the address is visible to the viewer
    assert "福岡県北九州市小倉北区城内1番" not in page  # 本籍 is not
    assert page.count("（表示する権限がありません）") == 2  # 本籍・筆頭者 and 住民票コード
    page = client_for(clerk, terminal).get(f"/counter/persons/{pid}/").content.decode()
    assert "福岡県北九州市小倉北区城内1番" in page and "（表示する権限がありません）" not in page
