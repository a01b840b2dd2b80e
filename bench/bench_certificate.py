"""Time to build and render a 住民票の写し PDF (世帯連記式, 4 members), against a same-run baseline.

    .venv/bin/python bench/bench_certificate.py [--runs 200] [--history] [--form seal]

`--form seal` measures the 印鑑登録証明書 of the household's head instead (the 印影 image at real
size, from `seals.demo.seal_image`).

The register reads (selectors) happen once, outside the timing: what is measured is
`content.build()` + `render.render_pdf()` (goal: median ≤ 50 ms). The baseline is
`core.pdf.table_pdf` of a one-line table — the fixed cost of a ReportLab PDF with the IPAex font
embedded — so the ratio says what the certificate's own layout costs on top. Runs alternate
certificate / baseline so that machine noise hits both. Fresh SQLite database under
$BENCH_ROOT/sqlite/certificate.sqlite3; results appended to results/certificate.jsonl.
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common


def household(actor) -> tuple[int, list[int]]:
    from juki.register.models import ResidentCodeStock
    from juki.register.services import changes
    from juki.register.services.master import towns_load
    from juki.register.services.people import Address
    from juki.register.services.seed import resident_code_for

    towns = _common.REPO / "src" / "juki" / "register" / "data" / "demo-towns.csv"
    towns_load(text=towns.read_text(encoding="utf-8"), municipality_code="401005", municipality_name="北九州市",
               prefecture="福岡県")
    ResidentCodeStock.objects.bulk_create([ResidentCodeStock(code=resident_code_for(5_000_000 + i, 7)) for i in range(10)])
    base = {"family_name": "青木", "family_name_kana": "アオキ", "sex": 1,
            "domicile": "福岡県北九州市小倉北区城内1番", "domicile_head": "青木　太郎"}
    members = [
        {**base, "given_name": "太郎", "given_name_kana": "タロウ", "birth_date": dt.date(1985, 4, 1), "relationship": "世帯主"},
        {**base, "given_name": "花子", "given_name_kana": "ハナコ", "sex": 2, "birth_date": dt.date(1987, 6, 2),
         "relationship": "妻"},
        {**base, "given_name": "一郎", "given_name_kana": "イチロウ", "birth_date": dt.date(2015, 8, 3), "relationship": "子"},
        {**base, "given_name": "ハル", "given_name_kana": "ハル", "sex": 2, "birth_date": dt.date(1958, 2, 1),
         "relationship": "母"},
    ]
    day = dt.date.today() - dt.timedelta(days=30)
    result = changes.move_in(actor=actor, event_date=day, notified_on=day, origin="domestic", persons=members,
                             destination=changes.NEW, address=Address("40106001000", "1番1号", "城内ハイツ101号"),
                             previous_address="福岡県福岡市博多区博多駅前二丁目1番1号")
    return result.households[0]["id"], [p["id"] for p in result.persons]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--history", action="store_true", help="履歴あり (one more table per member)")
    parser.add_argument("--form", choices=("copy", "seal"), default="copy", help="copy: 住民票の写し; seal: 印鑑登録証明書")
    args = parser.parse_args()

    path = _common.BENCH_ROOT / "sqlite" / "certificate.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    _common.setup_django(f"sqlite:///{path}")

    from django.core.management import call_command

    from juki.certificates import content, render
    from juki.register import selectors

    call_command("migrate", verbosity=0)
    actor = _common.bench_actor()
    hid, ids = household(actor)
    options = content.Options(head_and_relationship=True, domicile=True, history=args.history)
    read_start = time.perf_counter()
    hh = selectors.household_get(actor=actor, household_id=hid)
    persons = [selectors.person_get(actor=actor, person_id=pid) for pid in ids]
    histories = {pid: selectors.person_history(actor=actor, person_id=pid) for pid in ids} if args.history else None
    read_s = time.perf_counter() - read_start
    today = dt.date.today()

    if args.form == "seal":
        return seal_bench(args, actor, ids[0], read_s)

    def certificate() -> bytes:
        c = content.build(household=hh, persons=persons, histories=histories, options=options,
                          issue_number=f"{today:%Y%m%d} 北九州市 本庁1 プリンタ001 001", issued_on=today,
                          municipality="北九州市", mayor_title="福岡県北九州市長")
        return render.render_pdf(c, verification_url="https://juki.example.jp/v/20261126-000001")

    measure(args, certificate, "住民票の写し（世帯連記式・4人）" + ("・履歴あり" if args.history else ""), read_s)


def baseline() -> bytes:
    from juki.core import pdf

    return pdf.table_pdf(title="一覧", columns=[("項目", 1), ("内容", 3)], rows=[["氏名", "青木　太郎"]])


def seal_bench(args, actor, head: int, read_s: float) -> None:
    from juki.audit import gate
    from juki.register import selectors
    from juki.seals import render
    from juki.seals.demo import seal_image
    from juki.seals.models import RegistrationMethod, SealRegistration
    from juki.seals.services import seal_register

    seal_register(actor=actor, person_id=head, method=RegistrationMethod.IDENTITY_DOCUMENT, image=seal_image("青木"),
                  seal_text="青木", documents=["運転免許証"], seal_checked=True)
    person = selectors.person_get(actor=actor, person_id=head)
    with gate.open(actor, function="bench.seal_read", perm="seal.manage"):
        registration = SealRegistration.objects.get(person_id=head)
    today = dt.date.today()

    def certificate() -> bytes:
        c = render.content(person=person, registration=registration, issue_number="2026-000001", issued_on=today,
                           municipality="北九州市", mayor_title="福岡県北九州市長")
        return render.render_pdf(c, verification_url="https://juki.example.jp/verify/2026-000001")

    measure(args, certificate, "印鑑登録証明書（印影 15mm）", read_s)


def measure(args, certificate, form: str, read_s: float) -> None:
    sizes = {"certificate": len(certificate()), "baseline": len(baseline())}  # warm-up: fonts, caches
    wall = {"certificate": [], "baseline": []}
    cpu = {"certificate": [], "baseline": []}
    for _ in range(args.runs):
        for name, fn in (("certificate", certificate), ("baseline", baseline)):
            start, used = time.perf_counter(), time.process_time()
            fn()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - used)

    cert_ms = statistics.median(wall["certificate"]) * 1000
    base_ms = statistics.median(wall["baseline"]) * 1000
    _common.record("certificate", {
        "bench": "certificate",
        "at": dt.datetime.now().isoformat(timespec="seconds"),
        **_common.src_info(),
        "machine": _common.machine(),
        "form": form,
        "runs": args.runs,
        "certificate": _common.summary_ms(wall["certificate"]),
        "baseline_table_pdf": _common.summary_ms(wall["baseline"]),
        "certificate_cpu_p50_ms": round(statistics.median(cpu["certificate"]) * 1000, 2),
        "baseline_cpu_p50_ms": round(statistics.median(cpu["baseline"]) * 1000, 2),
        "ratio_p50": round(cert_ms / base_ms, 2) if base_ms else None,
        "goal_p50_ms": 50,
        "goal_met": cert_ms <= 50,
        "pdf_bytes": sizes,
        "register_reads_ms_once": round(read_s * 1000, 2),
    })


if __name__ == "__main__":
    main()
