"""Certificate content and PDF: the [1000]–[1070] item rules, read back with poppler's tools."""
from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from reportlab.lib.pagesizes import A4

from juki.certificates import content as cc
from juki.certificates import render
from juki.certificates.content import Options
from juki.certificates.render import qr_runs, render_pdf
from juki.core.errors import DomainError, ErrorCode
from juki.core.wareki import to_wareki
from juki.register import selectors
from juki.register.services import changes
from juki.register.services.people import Address
from tests.conftest import (
    KOKURA_JOUNAI,
    ROOT,
    TODAY,
    days_ago,
    move_in_family,
    person_input,
)
from tests.helpers import assert_fonts_embedded
from tests.register.helpers import ref

SHOTS = ROOT / "test-artifacts" / "screenshots"
URL = "https://juki.example.jp/v/20261126-0001?k=abc"
MAYOR = "福岡県北九州市長"

# --- helpers ---------------------------------------------------------------------------------


def read(actor, household_id: int | None, person_ids, *, options: Options) -> dict:
    """What the issue service does: read through the selectors, then build."""
    persons = [selectors.person_get(actor=actor, person_id=pid, reveal_my_number=options.my_number)
               for pid in person_ids]
    household = selectors.household_get(actor=actor, household_id=household_id) if household_id else None
    histories = ({pid: selectors.person_history(actor=actor, person_id=pid) for pid in person_ids}
                 if options.history else None)
    return cc.build(household=household, persons=persons, histories=histories, options=options,
                    issue_number="20261126 北九州市 小倉北1 プリンタ001 011", issued_on=TODAY,
                    municipality="北九州市", mayor_title=MAYOR)


def pdf_text(pdf: bytes, tmp_path: Path, *, page: int | None = None) -> str:
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    args = ["pdftotext", "-layout"] + (["-f", str(page), "-l", str(page)] if page else []) + [str(path), "-"]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def flat(text: str) -> str:
    # pdftotext keeps the layout: join wrapped lines and drop the spacing to search for a whole value.
    return re.sub(r"\s+", "", text)


def pages(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / "p.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


def shot(pdf: bytes, name: str, tmp_path: Path) -> None:
    """Every page as PNG for a human to look at (test-artifacts/screenshots/certificate-<name>-N.png)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob(f"certificate-{name}-*.png"):
        old.unlink()  # pages of an earlier, longer run
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(path), str(SHOTS / f"certificate-{name}")], check=True)


def family4(actor, **kw) -> tuple[int, dict[str, int]]:
    """A 4-member household entered out of [1010] order; returns (household id, given name → id)."""
    members = [
        person_input(given_name="一郎", given_name_kana="イチロウ", relationship="子", birth_date=dt.date(2015, 8, 3)),
        person_input(given_name="ハル", given_name_kana="ハル", sex=2, relationship="母", birth_date=dt.date(1958, 2, 1)),
        person_input(),
        person_input(given_name="花子", given_name_kana="ハナコ", sex=2, relationship="妻", birth_date=dt.date(1987, 6, 2)),
    ]
    result = move_in_family(actor, members=members, **kw)
    ids = {m["given_name"]: p["id"] for m, p in zip(members, result.persons)}
    return result.households[0]["id"], ids


# --- tests -------------------------------------------------------------------------------------


def test_individual_copy_renders_with_embedded_font_and_default_omissions(world, tmp_path):
    ids = [p["id"] for p in move_in_family(world).persons]
    content = read(world, None, [ids[0]], options=Options(layout="individual", person_ids=(ids[0],)))
    pdf = render_pdf(content, verification_url=URL)
    shot(pdf, "individual", tmp_path)

    fonts = assert_fonts_embedded(pdf)
    assert "IPAexMincho" in fonts and "Helvetica" not in fonts

    text = flat(pdf_text(pdf, tmp_path))
    assert "住民票の写し" in text and "青木太郎（アオキタロウ）" in text
    assert "この写しは、住民票の原本と相違ないことを証明する。" in text and MAYOR in text
    assert "20261126北九州市小倉北1プリンタ001011" in text and "1/1" in text
    for omitted in ("本籍", "筆頭者", "個人番号", "住民票コード", "続柄", "世帯主", "花子"):
        assert omitted not in text


def test_household_copy_lists_four_members_in_1010_order(world, tmp_path):
    hid, ids = family4(world)
    content = read(world, hid, list(ids.values()), options=Options())
    assert content["title"] == "住民票の写し（世帯全員）"
    pdf = render_pdf(content, verification_url=URL)
    shot(pdf, "household", tmp_path)
    text = flat(pdf_text(pdf, tmp_path))
    positions = [text.index(f"青木{n}（アオキ{k}）") for n, k in
                 (("太郎", "タロウ"), ("花子", "ハナコ"), ("一郎", "イチロウ"), ("ハル", "ハル"))]
    assert positions == sorted(positions)  # 世帯主, 妻, 子, 母 [1010]
    assert text.count("北九州市小倉北区城内1番1号") == 1  # the address once, among the common items
    assert "この写しは、世帯全員の住民票の原本と相違ないことを証明する。" in text
    assert "続柄" not in text and "世帯主" not in text  # omitted unless chosen [1000]


def test_household_part_and_relationship_when_chosen(world, tmp_path):
    hid, ids = family4(world)
    chosen = (ids["ハル"], ids["太郎"])  # asked in any order, printed in [1010] order
    content = read(world, hid, list(chosen), options=Options(person_ids=chosen, head_and_relationship=True))
    assert content["title"] == "住民票の写し（世帯一部）"
    text = flat(pdf_text(render_pdf(content, verification_url=URL), tmp_path))
    assert "花子" not in text and "一郎" not in text
    assert text.index("青木太郎（") < text.index("青木ハル（")
    assert "世帯主青木太郎" in text and "続柄母" in text and "続柄世帯主" in text
    assert "この写しは、住民票の原本と相違ないことを証明する。" in text  # not 「世帯全員の」


def test_domicile_resident_code_and_my_number_only_when_chosen(world, sup_actor, tmp_path):

    pid = move_in_family(world).persons[0]["id"]
    changes.my_number_record(actor=world, event_date=days_ago(0), person=ref(pid), my_number="123456789018",
                             kind="entry")
    plain = flat(pdf_text(render_pdf(read(sup_actor, None, [pid], options=Options(layout="individual")),
                                     verification_url=URL), tmp_path))
    for word in ("本籍", "筆頭者", "住民票コード", "個人番号", "123456789018", "1234 5678 9018".replace(" ", "")):
        assert word not in plain

    code = selectors.person_get(actor=world, person_id=pid)["resident_code"]
    assert code
    only_domicile = flat(pdf_text(render_pdf(read(world, None, [pid], options=Options(layout="individual", domicile=True)),
                                             verification_url=URL), tmp_path))
    assert "本籍福岡県北九州市小倉北区城内1番" in only_domicile and "筆頭者青木太郎" in only_domicile
    assert "個人番号" not in only_domicile and code not in only_domicile

    everything = read(sup_actor, None, [pid], options=Options(layout="individual", domicile=True, resident_code=True,
                                                             my_number=True))
    pdf = render_pdf(everything, verification_url=URL)
    shot(pdf, "individual-all-items", tmp_path)
    text = flat(pdf_text(pdf, tmp_path))
    assert "個人番号123456789018" in text and f"住民票コード{code}" in text and "本籍" in text


def test_my_number_chosen_but_not_revealed_is_refused(world):

    pid = move_in_family(world).persons[0]["id"]
    changes.my_number_record(actor=world, event_date=days_ago(0), person=ref(pid), my_number="123456789018",
                             kind="entry")
    person = selectors.person_get(actor=world, person_id=pid)  # read without reveal_my_number
    with pytest.raises(DomainError) as err:
        cc.build(household=None, persons=[person], histories=None, options=Options(layout="individual", my_number=True),
                 issue_number="x", issued_on=TODAY, municipality="北九州市", mayor_title=MAYOR)
    assert err.value.field == "my_number"
    assert err.value.code == ErrorCode.PERMISSION_DENIED


def test_item_hidden_from_the_reader_is_refused_not_left_blank(world):
    pid = move_in_family(world).persons[0]["id"]
    person = selectors.person_get(actor=world, person_id=pid)
    person.update(domicile=None, domicile_head=None, hidden_items=["本籍・筆頭者"])  # as read_models.record_of hides it

    with pytest.raises(DomainError) as err:
        cc.build(household=None, persons=[person], histories=None, options=Options(layout="individual", domicile=True),
                 issue_number="x", issued_on=TODAY, municipality="北九州市", mayor_title=MAYOR)
    assert err.value.field == "domicile"
    assert err.value.code == ErrorCode.PERMISSION_DENIED


FOREIGN = {
    "family_name": "NGUYEN", "given_name": "VAN AN", "family_name_kana": "グエン", "given_name_kana": "ヴァン　アン",
    "birth_date": dt.date(1995, 3, 3), "sex": 1, "relationship": "世帯主", "resident_kind": "F",
    "nationality": "ベトナム", "article_30_45_category": "中長期在留者", "residence_status": "技術・人文知識・国際業務",
    "period_of_stay": "5年", "stay_expires_on": dt.date(2030, 3, 31), "residence_card_number": "AB12345678CD",
    "alias_name": "阮　文安", "alias_name_kana": "グエン　ヴァンアン",
}


def _foreigner(world) -> int:

    result = changes.foreign_move_in(actor=world, event_date=days_ago(2), notified_on=days_ago(1), persons=[FOREIGN],
                                     destination=changes.NEW, address=Address(KOKURA_JOUNAI, "5番"), previous_address="")
    return result.persons[0]["id"]


def test_foreign_resident_items_only_as_chosen_and_western_dates(world, tmp_path):
    pid = _foreigner(world)
    none = flat(pdf_text(render_pdf(read(world, None, [pid], options=Options(layout="individual")),
                                    verification_url=URL), tmp_path))
    assert "NGUYENVANAN（グエンヴァンアン）" in none
    assert "1995年3月3日" in none  # 西暦 [90]
    for label in ("国籍", "在留資格", "在留期間", "満了", "在留カード", "通称", "30条の45", "ベトナム", "阮"):
        assert label not in none
    assert "外国人住民となった年月日" in none

    chosen = frozenset({"nationality", "stay_expires_on", "alias_name"})
    content = read(world, None, [pid], options=Options(layout="individual", foreign_items=chosen))
    pdf = render_pdf(content, verification_url=URL)
    shot(pdf, "foreign", tmp_path)
    some = flat(pdf_text(pdf, tmp_path))
    assert "国籍・地域ベトナム" in some and "在留期間等の満了の日2030年3月31日" in some
    assert "通称阮文安（グエンヴァンアン）" in some
    for label in ("在留資格", "在留カード", "AB12345678CD", "中長期在留者", "在留期間等5年"):
        assert label not in some

    every = flat(pdf_text(render_pdf(read(world, None, [pid], options=Options(
        layout="individual", foreign_items=frozenset(cc.FOREIGN_ITEMS))), verification_url=URL), tmp_path))
    for value in ("中長期在留者", "技術・人文知識・国際業務", "在留期間等5年", "AB12345678CD"):
        assert value in every


def test_before_the_planned_move_out_date_its_items_are_left_out(world, tmp_path):

    result = move_in_family(world)
    pid = result.persons[0]["id"]
    planned = TODAY + dt.timedelta(days=10)
    changes.move_out(actor=world, event_date=planned, notified_on=TODAY, persons=[ref(p["id"]) for p in result.persons],
                     destination_address="東京都千代田区丸の内一丁目9番")
    # Read as the register stands now (the 転出届's own version) and as of the issue date: both leave it out.
    current = read(world, None, [pid], options=Options(layout="individual", history=True))
    text = flat(pdf_text(render_pdf(current, verification_url=URL), tmp_path))
    assert "転出" not in text and "千代田区" not in text and "消除" not in text
    assert "住所北九州市小倉北区城内1番1号" in text

    later = cc.build(household=None, persons=[selectors.person_get(actor=world, person_id=pid)], histories=None,
                     options=Options(form="removed_copy", layout="individual"), issue_number="x",
                     issued_on=planned + dt.timedelta(days=1), municipality="北九州市", mayor_title=MAYOR)
    rows = dict(tuple(r) for r in later["sections"][0]["items"])
    assert rows["転出予定先"] == "東京都千代田区丸の内一丁目9番" and rows["消除"].endswith("転出")


def test_removed_copy_of_a_moved_out_person(world, tmp_path):

    result = move_in_family(world)
    pid = result.persons[0]["id"]
    changes.move_out(actor=world, event_date=days_ago(3), notified_on=days_ago(5),
                     persons=[ref(p["id"]) for p in result.persons], destination_address="東京都千代田区丸の内一丁目9番")
    content = read(world, None, [pid], options=Options(form="removed_copy", layout="individual"))
    pdf = render_pdf(content, verification_url=URL)
    shot(pdf, "removed-copy", tmp_path)
    text = flat(pdf_text(pdf, tmp_path))
    assert "住民票の除票の写し" in text and "転出予定先東京都千代田区丸の内一丁目9番" in text
    assert "この写しは、住民票の除票の原本と相違ないことを証明する。" in text

    entry = read(world, None, [pid], options=Options(form="removed_entry_cert", layout="individual"))
    assert entry["title"] == "住民票の除票の記載事項証明書"
    assert entry["certification"] == "上記の事項は、住民票の除票に記載されていることを証明する。"
    with pytest.raises(DomainError) as err:
        read(world, None, [pid], options=Options(form="removed_copy", layout="household"))
    assert err.value.field == "layout"
    assert err.value.code == ErrorCode.INVALID_INPUT
    with pytest.raises(DomainError) as err:
        read(world, None, [pid], options=Options(form="copy", layout="individual"))  # 除票 only
    assert err.value.code == ErrorCode.NOT_RESIDENT


def test_entry_certificate_forms(world, tmp_path):
    hid, ids = family4(world)
    content = read(world, hid, list(ids.values()), options=Options(form="entry_cert"))
    pdf = render_pdf(content, verification_url=URL)
    shot(pdf, "entry-cert", tmp_path)
    text = flat(pdf_text(pdf, tmp_path))
    assert "住民票記載事項証明書" in text and "上記の事項は、住民票に記載されていることを証明する。" in text
    with pytest.raises(DomainError) as err:
        read(world, None, [ids["太郎"]], options=Options(form="removed_entry_cert", layout="individual"))
    assert err.value.code == "not_removed"  # a current resident has no 除票


def test_history_shows_earlier_addresses_with_dates_and_reasons(world, tmp_path):

    result = move_in_family(world, event_date=days_ago(60))
    pid = result.persons[0]["id"]
    changes.move_within_city(actor=world, event_date=days_ago(5), notified_on=days_ago(4),
                             persons=[ref(p["id"]) for p in result.persons], address=Address(KOKURA_JOUNAI, "2番3号"))
    without = flat(pdf_text(render_pdf(read(world, None, [pid], options=Options(layout="individual")),
                                       verification_url=URL), tmp_path))
    assert "異動日" not in without and "城内1番1号" not in without

    content = read(world, None, [pid], options=Options(layout="individual", history=True))
    pdf = render_pdf(content, verification_url=URL)
    shot(pdf, "individual-history", tmp_path)
    text = flat(pdf_text(pdf, tmp_path))
    assert "異動日" in text and to_wareki(days_ago(5)) in text and "転居" in text
    assert "住所：北九州市小倉北区城内1番1号→北九州市小倉北区城内2番3号" in text
    assert "住所北九州市小倉北区城内2番3号" in text


def test_long_katagaki_and_domicile_wrap_and_print_whole(world, tmp_path):

    katagaki = "グランドメゾン小倉城内ステーションフロントレジデンス北九州ザ・タワー東棟二十八階二千八百十一号室" * 1
    katagaki = (katagaki + "サウスウィング第三期管理組合気付")[:80]
    domicile = ("福岡県北九州市小倉北区城内一丁目一番地の一から二丁目三番地の四まで続く長い長い本籍の表示" * 3)[:120]
    member = person_input(domicile=domicile)
    result = move_in_family(world, members=[member], address=Address(KOKURA_JOUNAI, "1番1号", katagaki))
    pid = result.persons[0]["id"]
    content = read(world, None, [pid], options=Options(layout="individual", domicile=True))
    pdf = render_pdf(content, verification_url=URL)
    shot(pdf, "long-text", tmp_path)
    text = flat(pdf_text(pdf, tmp_path))
    assert flat(katagaki) in text and flat(domicile) in text  # wrapped, never cut [1070]


def test_certification_only_on_the_last_page_and_official_mark_and_issue_number_on_each(world, tmp_path):
    members = [person_input()] + [
        person_input(given_name=f"子{n}", given_name_kana=f"コ{n}", relationship="子", birth_date=dt.date(2000 + n, 1, 1))
        for n in range(1, 9)
    ]
    result = move_in_family(world, members=members)
    ids = [p["id"] for p in result.persons]
    options = Options(domicile=True, head_and_relationship=True, resident_code=True, history=True, official=True)
    content = read(world, result.households[0]["id"], ids, options=options)
    pdf = render_pdf(content, verification_url=URL)
    shot(pdf, "multipage-official", tmp_path)
    total = pages(pdf, tmp_path)
    assert total >= 2
    for page in range(1, total + 1):
        text = flat(pdf_text(pdf, tmp_path, page=page))
        assert "公用" in text  # [1060] on every page
        assert f"プリンタ001011{page}/{total}" in text  # [1040] issue number with n/N
        last = page == total
        assert ("相違ないことを証明する" in text) is last
        assert (MAYOR in text) is last
        assert ("次のページに続きます" in text) is not last
    everything = flat(pdf_text(pdf, tmp_path))
    assert all(f"青木子{n}（アオキコ{n}）" in everything for n in range(1, 9))


def test_no_official_mark_unless_asked(world, tmp_path):
    pid = move_in_family(world).persons[0]["id"]
    text = flat(pdf_text(render_pdf(read(world, None, [pid], options=Options(layout="individual")),
                                    verification_url=URL), tmp_path))
    assert "公用" not in text


def qr_matrix_on_page(pdf: bytes, page: int, tmp_path: Path) -> list[list[bool]]:
    """Read the QR code back from the rendered page: sample each module's centre at 300 dpi."""
    count, _runs = render.qr_runs(URL)
    dpi = 300
    px = dpi / 72
    x = (A4[0] - render.MARGIN - render.QR_SIZE) * px
    y = render.MARGIN * px  # from the top: the code's top edge is at the top margin
    size = render.QR_SIZE * px
    (tmp_path / "q.pdf").write_bytes(pdf)
    out = tmp_path / f"q{page}"
    subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-x", str(int(x)), "-y", str(int(y)),
                    "-W", str(int(size) + 2), "-H", str(int(size) + 2), "-gray", "-png", "-singlefile",
                    str(tmp_path / "q.pdf"), str(out)], check=True)
    img = Image.open(f"{out}.png").convert("L")
    box = size / count
    return [[img.getpixel((int((c + 0.5) * box + x - int(x)), int((r + 0.5) * box + y - int(y)))) < 128
             for c in range(count)] for r in range(count)]


def test_every_page_carries_the_qr_code_of_the_verification_url(world, tmp_path):
    count, runs = qr_runs(URL)
    expected = [[False] * count for _ in range(count)]
    for r, c, n in runs:
        for i in range(n):
            expected[r][c + i] = True
    members = [person_input()] + [person_input(given_name=f"子{n}", given_name_kana=f"コ{n}", relationship="子",
                                               birth_date=dt.date(2000 + n, 1, 1)) for n in range(1, 8)]
    result = move_in_family(world, members=members)
    content = read(world, result.households[0]["id"], [p["id"] for p in result.persons],
                   options=Options(domicile=True, history=True))
    pdf = render_pdf(content, verification_url=URL)
    total = pages(pdf, tmp_path)
    assert total >= 2
    for page in range(1, total + 1):
        assert qr_matrix_on_page(pdf, page, tmp_path) == expected, f"page {page}"


def test_pdf_metadata_names_the_form_not_the_person(world, tmp_path):
    pid = move_in_family(world).persons[0]["id"]
    pdf = render_pdf(read(world, None, [pid], options=Options(layout="individual")), verification_url=URL)
    (tmp_path / "m.pdf").write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(tmp_path / "m.pdf")], check=True, capture_output=True, text=True).stdout
    assert "住民票の写し" in info and "青木" not in info and "太郎" not in info


def test_a_masked_member_or_head_is_never_printed(world):
    from juki.protection.enforcement import SUPPORT_MARKER, masked_member

    hid, ids = family4(world)
    household = selectors.household_get(actor=world, household_id=hid)
    kw = {"histories": None, "issue_number": "x", "issued_on": TODAY, "municipality": "北九州市", "mayor_title": MAYOR}
    hidden_head = {**household, "head": {"person_id": ids["太郎"], "name": SUPPORT_MARKER}}
    with pytest.raises(DomainError) as err:
        cc.build(household=hidden_head, persons=[], options=Options(head_and_relationship=True), **kw)
    assert err.value.code == "support_measure_block"
    masked = {**household, "members": [masked_member(ids["太郎"])] + household["members"][1:]}
    with pytest.raises(DomainError) as err:
        cc.build(household=masked, persons=[], options=Options(), **kw)
    assert err.value.code == "support_measure_block"


def test_a_name_with_gaiji_prints_in_the_fallback_font(world, tmp_path):
    # 𠮷 (U+20BB7) is not in IPAex: it prints in IPAmj明朝, the rest stays in IPAex明朝.
    yoshida = person_input(family_name="𠮷田", family_name_kana="ヨシダ", domicile_head="𠮷田　太郎")
    pid = move_in_family(world, members=[yoshida]).persons[0]["id"]
    pdf = render_pdf(read(world, None, [pid], options=Options(layout="individual", domicile=True)),
                     verification_url=URL)
    path = tmp_path / "g.pdf"
    path.write_bytes(pdf)
    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    assert "IPAmjMincho" in fonts and "IPAexMincho" in fonts and "Helvetica" not in fonts
    text = flat(pdf_text(pdf, tmp_path))
    assert "𠮷田太郎（ヨシダタロウ）" in text and "筆頭者𠮷田太郎" in text
    SHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "80", "-png", str(path), str(SHOTS / "certificate-gaiji")], check=True)
    assert (SHOTS / "certificate-gaiji-1.png").exists()


def test_after_a_move_within_the_city_the_copy_prints_the_address_before_the_move_in(world, tmp_path):
    """[1000] with the standard's items (1.1.1: 住民となった年月日, 住所を定めた年月日, 届出の年月日,
    転入前住所): a 転居 changes the address and its dates, not the 転入前住所, which stays the
    address the person came from into the city; the address before the 転居 is history, printed
    only with 履歴. Into another ward of the 指定都市 (区間異動) the ward's own entry starts: its
    転入前住所 is the address in the old ward."""
    result = move_in_family(world, event_date=days_ago(60), notified_on=days_ago(59))
    pid = result.persons[0]["id"]
    changes.move_within_city(actor=world, event_date=days_ago(5), notified_on=days_ago(4),
                             persons=[ref(p["id"]) for p in result.persons], address=Address(KOKURA_JOUNAI, "2番3号"))
    text = flat(pdf_text(render_pdf(read(world, None, [pid], options=Options(layout="individual")),
                                    verification_url=URL), tmp_path))
    assert f"住民となった年月日{to_wareki(days_ago(60))}" in text
    assert f"住所を定めた年月日{to_wareki(days_ago(5))}" in text and f"届出日{to_wareki(days_ago(4))}" in text
    assert "転入前住所福岡県福岡市博多区博多駅前二丁目1番1号" in text
    assert "城内1番1号" not in text and "従前の住所" not in text

    WAKAMATSU_HONMACHI = "40102001000"
    changes.move_within_city(actor=world, event_date=days_ago(2), notified_on=days_ago(2),
                             persons=[ref(p["id"]) for p in result.persons], address=Address(WAKAMATSU_HONMACHI, "1番"))
    text = flat(pdf_text(render_pdf(read(world, None, [pid], options=Options(layout="individual")),
                                    verification_url=URL), tmp_path))
    assert "転入前住所福岡県北九州市小倉北区城内2番3号" in text and f"住所を定めた年月日{to_wareki(days_ago(2))}" in text
