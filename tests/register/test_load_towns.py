
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from juki.core.errors import DomainError, ErrorCode
from juki.register.models import Municipality, Town, Ward
from juki.register.services.master import towns_load

from ..conftest import DEMO_TOWNS, SHARED_TOWNS

KITAKYUSHU = {"municipality_code": "401005", "municipality_name": "北九州市", "prefecture": "福岡県"}


def _shared_or_demo():
    # The real 1,560 町字 are read from ../shared when this checkout has it beside it; the
    # project's own small demo dictionary stands in otherwise (it is never copied in).
    return (SHARED_TOWNS, 1560) if SHARED_TOWNS.exists() else (DEMO_TOWNS, 28)


def test_load_the_city_dictionary_and_reload_it(db):
    path, rows = _shared_or_demo()
    first = towns_load(text=path.read_text(encoding="utf-8"), **KITAKYUSHU)
    assert first.created == rows and Town.objects.count() == rows
    assert sorted(Ward.objects.values_list("code", flat=True)) == [
        "401013", "401021", "401030", "401064", "401072", "401081", "401099"]
    assert Municipality.objects.get().name == "北九州市"
    codes = dict(Town.objects.values_list("name", "code").filter(ward__code="401064"))
    again = towns_load(text=path.read_text(encoding="utf-8"), **KITAKYUSHU)
    assert (again.created, again.updated, again.unchanged) == (0, 0, rows)
    assert dict(Town.objects.values_list("name", "code").filter(ward__code="401064")) == codes  # stable codes
    assert all(len(c) == 11 and c.startswith("40106") for c in codes.values())


def test_dictionary_counts_per_ward(db):
    path, _ = _shared_or_demo()
    towns_load(text=path.read_text(encoding="utf-8"), **KITAKYUSHU)
    per_ward = {w.name: w.towns.count() for w in Ward.objects.all()}
    if path == SHARED_TOWNS:
        assert per_ward == {"門司区": 197, "若松区": 154, "戸畑区": 87, "小倉北区": 228, "小倉南区": 352,
                            "八幡東区": 132, "八幡西区": 410}
        assert Town.objects.get(name="木屋瀬東").postal_code == "8071266"
    else:
        assert set(per_ward.values()) == {4} and len(per_ward) == 7


GOOD = "ward_code,ward_name,town_name,town_kana,postal_code\n401064,小倉北区,城内,ジョウナイ,8030813\n"


@pytest.mark.parametrize(
    "bad_line, message",
    [
        ("401065,小倉北区,魚町,ウオマチ,8020006", "検査数字"),
        ("401064,小倉北区,魚町,ウオマチ,802006", "郵便番号"),
        ("401064,小倉北区,魚町,うおまち,8020006", "カタカナ"),
        ("401064,小倉北区,,ウオマチ,8020006", "町字名が空"),
        ("401064,小倉北区,城内,ジョウナイ,8030813", "重複"),
        ("131016,千代田区,丸の内,マルノウチ,1000005", "都道府県"),
        ("401064,小倉北区,魚\u200b町,ウオマチ,8020006", "表示・印刷できない文字"),  # issue 11: a zero-width space
        # issue 13: a ward of 福岡市 (401307) is not one of 北九州市's, though in the same prefecture
        ("401315,東区,箱崎,ハコザキ,8120053", "401005 の区ではありません"),
        ("402036,久留米市,城南町,ジョウナンマチ,8300022", "401005 の区ではありません"),
    ],
)
def test_invalid_file_is_refused_whole(db, bad_line, message):
    with pytest.raises(DomainError) as err:
        towns_load(text=GOOD + bad_line + "\n", **KITAKYUSHU)
    assert err.value.code == ErrorCode.TOWN_FILE_INVALID
    assert any(message in e for e in err.value.details["errors"])
    assert Town.objects.count() == 0 and Ward.objects.count() == 0


def test_missing_columns(db):
    with pytest.raises(DomainError) as err:
        towns_load(text="name,kana\n城内,ジョウナイ\n", **KITAKYUSHU)
    assert "必要な列" in err.value.message
    assert err.value.code == ErrorCode.TOWN_FILE_INVALID


def test_command_line(db, tmp_path, capsys):
    good = tmp_path / "towns.csv"
    good.write_text(GOOD, encoding="utf-8")
    call_command("load_towns", str(good))
    assert "新規 1 件" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD + "401064,小倉北区,魚町,ウオマチ,80\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("load_towns", str(bad))
    assert Town.objects.count() == 1


def test_a_ward_belongs_to_its_city_only():
    from juki.register.services.master import ward_of

    assert ward_of("401013", "401005") and ward_of("401099", "401005")  # 門司区 … 八幡西区
    assert not ward_of("401315", "401005") and ward_of("401315", "401307")  # 福岡市東区
    assert ward_of("271284", "271004") and not ward_of("271403", "271004")  # 大阪市: its last ward, not 堺市
    assert ward_of("402036", "402036") and not ward_of("402036", "401005")  # a city without wards: itself
