"""Counter search [340] end to end in a real browser, against a seeded 1 M register (issue 3).

    .venv/bin/python bench/bench_search.py --database-url postgresql://postgres@127.0.0.1:55432/juki_search

(or `bash bench/run_search.sh`, which also seeds the database). Goal: p95 <= 100 ms from the
clerk's Enter to the results swapped into the page.

1. Creates the terminal (`juki demo_staff`: DEMO-01/DEMO-02) and a clerk (`juki createstaff
   bench-search --role clerk`, password from JUKI_PASSWORD) with the management commands.
2. Draws --per-kind random current residents (seeded RNG) and builds, for each, one search of
   every kind a clerk uses:
     kana_birth   half-width kana surname prefix (ﾔﾏ… 2+ letters) + 生年月日 in 和暦 (S60.4.1)
     kanji_birth  氏名 in kanji, full name with a full-width space + 生年月日 (1985-04-01)
     address_kana 町字 (the datalist value "区町字（code）") + 番地 + フリガナ of the surname in hiragana
     atena        宛名番号
     household    世帯番号
     wide         (informational, not in the goal's figure; --no-wide skips it) 1 half-width kana +
                  町字: a broad search C15 allows, usually over the 50-row cap
3. Starts gunicorn (1 worker, gthread with --threads threads so the browser's parallel keep-alive
   connections are served; static files through bench/search_wsgi.py) or `runserver --insecure`.
4. Drives /usr/bin/chromium headless through Playwright exactly like tests/browser/conftest.py:
   logs in at /counter/login/, then on the search page, for every search: form.reset(), fill the
   fields (for 町字: wait for the datalist fetch, as a clerk picks from it), press Enter in the
   last field. Timed in the browser with performance.now(): Enter keydown -> htmx:afterSwap of
   #results (primary figure), plus the XHR's Resource Timing (request start -> response end,
   ≈ server + loopback), the time inside Django (Server-Timing header added by
   bench/search_wsgi.py) and Python's wall time around press+wait (adds Playwright's RPC).
   Each search is preceded by the same-run baseline: the empty form submitted the same way,
   which the search service refuses at once under C15 (session, terminal, access-gate log, no
   search query) and which swaps an error message into #results.
   Checks that the drawn person appears in the results (hit rate) and no search errors.
5. EXPLAIN (ANALYZE, BUFFERS) of the SQL of the slowest kind's slowest search (in-process,
   CaptureQueriesContext around person_search), written to results/search_explain.txt.
Result: one JSON line in results/search.jsonl.
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

ROOT = Path(__file__).resolve().parent.parent
# Django runs only before Playwright starts and after it stops, never inside its event loop;
# the same switch as tests/browser/conftest.py, in case a call lands while the loop exists.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
USER = "bench-search"
TERMINAL = "DEMO-01"
KINDS = ("kana_birth", "kanji_birth", "address_kana", "atena", "household")  # the goal's kinds
KEY_KINDS = ("kana_birth", "kanji_birth", "address_kana")
# Informational, not in "all_searches": a broad search C15 still allows (1 half-width kana + 町字)
# that usually hits the 50-row cap, i.e. the most rows ranked, loaded and rendered.
EXTRA_KINDS = ("wide",)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]

# Installed once on the search page; the page is never reloaded (htmx swaps #results only).
TIMING_JS = r"""
() => {
  if (window.__bench) return;
  const b = window.__bench = {n: 0, start: null, last: null};
  performance.setResourceTimingBufferSize(100000);
  window.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && ev.target.closest && ev.target.closest("form.search")) b.start = performance.now();
  }, true);
  document.body.addEventListener("htmx:afterSwap", (ev) => {
    if (!ev.target || ev.target.id !== "results") return;
    const swap = performance.now();
    const res = performance.getEntriesByType("resource").filter(
      (e) => e.initiatorType === "xmlhttprequest" && new URL(e.name).pathname === "/counter/");
    const r = res.length ? res[res.length - 1] : null;
    performance.clearResourceTimings();
    const msg = document.querySelector("#search-message, #search-error");
    b.last = {
      e2e: swap - b.start,
      xhr: r ? r.responseEnd - r.startTime : null,
      ttfb: r ? r.responseStart - r.requestStart : null,
      app: r && r.serverTiming && r.serverTiming.length ? r.serverTiming[0].duration : null,
      kind: msg ? msg.id : "",
      message: msg ? msg.textContent.trim() : "",
      rows: ev.target.querySelectorAll("tbody tr").length,
      text: ev.target.innerText,
    };
    b.n += 1;
  });
}
"""


def parse():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), required=not os.environ.get("DATABASE_URL"))
    ap.add_argument("--port", type=int, default=8002)
    ap.add_argument("--per-kind", type=int, default=60, help="searches of each of the 5 kinds (timed)")
    ap.add_argument("--warmup", type=int, default=15, help="untimed searches first (mixed kinds)")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--server", choices=("gunicorn", "runserver"), default="gunicorn")
    ap.add_argument("--threads", type=int, default=4, help="gunicorn gthread threads (1 worker)")
    ap.add_argument("--no-wide", dest="wide", action="store_false", help="skip the informational 'wide' kind")
    ap.add_argument("--explain-samples", type=int, default=20)
    ap.add_argument("--goal-ms", type=float, default=100.0)
    ap.add_argument("--server-log", default=str(c.BENCH_ROOT / "logs" / "search_server.log"))
    return ap.parse_args()


# --- data ------------------------------------------------------------------------------------------


def prepare_accounts() -> None:
    """Terminal and clerk through the management commands (demo_staff prints throwaway passwords)."""
    from django.core.management import call_command

    from juki.accounts.models import Staff
    from juki.accounts.services import staff_set_password

    call_command("demo_staff", stdout=io.StringIO())
    user = Staff.objects.filter(username=USER).first()
    if user is None:
        os.environ["JUKI_PASSWORD"] = c.BENCH_PASSWORD
        call_command("createstaff", USER, role="clerk", full_name="ベンチ 検索", stdout=io.StringIO())
    elif not user.check_password(c.BENCH_PASSWORD):  # from an earlier run (createstaff refuses an existing user)
        staff_set_password(user=user, password=c.BENCH_PASSWORD)  # the same again is refused (C01 history)


def wareki_short(d: dt.date) -> str:
    from juki.core.wareki import era_of

    era, year = era_of(d)
    return f"{era.letter}{year}.{d.month}.{d.day}"


def draw_targets(n: int, rng: random.Random) -> list[dict]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT MAX(id) FROM register_person")
        pmax = cur.fetchone()[0]
        out: list[dict] = []
        while len(out) < n:
            ids = [rng.randint(1, pmax) for _ in range(n * 2)]
            cur.execute(
                """SELECT p.id, p.atena_number, h.number, v.family_name, v.given_name, v.family_name_kana,
                          v.given_name_kana, v.birth_date, t.code, w.name, t.name, v.banchi, v.resident_kind
                   FROM register_person p
                   JOIN register_personversion v ON v.id = p.current_id
                   JOIN register_household h ON h.id = p.household_id
                   JOIN register_town t ON t.id = v.town_id
                   JOIN register_ward w ON w.id = t.ward_id
                   WHERE p.id = ANY(%s) AND p.status = 'resident' AND v.family_name_kana <> ''""", [ids])
            rows = [dict(zip(("id", "atena", "hh", "family", "given", "fkana", "gkana", "birth", "town_code",
                              "ward_name", "town_name", "banchi", "rkind"), r)) for r in cur.fetchall()]
            rng.shuffle(rows)
            out.extend(rows[: n - len(out)])
    return out


def criteria_for(kind: str, t: dict, rng: random.Random) -> dict:
    import jaconv

    if kind == "kana_birth":
        k = min(len(t["fkana"]), rng.randint(2, 4))
        return {"name": jaconv.z2h(t["fkana"][:k], kana=True, ascii=False, digit=False), "birth_date": wareki_short(t["birth"])}
    if kind == "kanji_birth":
        return {"name": f"{t['family']}　{t['given']}".strip(), "birth_date": t["birth"].isoformat()}
    if kind == "address_kana":
        return {"town_text": f"{t['ward_name']}{t['town_name']}（{t['town_code']}）", "banchi": t["banchi"],
                "kana": jaconv.kata2hira(t["fkana"])}
    if kind == "wide":
        return {"town_text": f"{t['ward_name']}{t['town_name']}（{t['town_code']}）",
                "name": jaconv.z2h(t["fkana"][:1], kana=True, ascii=False, digit=False)}
    if kind == "atena":
        return {"atena_number": t["atena"]}
    if kind == "household":
        return {"household_number": t["hh"]}
    raise ValueError(kind)


# --- server ------------------------------------------------------------------------------------------


def start_server(args, env) -> subprocess.Popen:
    Path(args.server_log).parent.mkdir(parents=True, exist_ok=True)
    log = open(args.server_log, "w")  # noqa: SIM115 - stays open for the server's lifetime
    if args.server == "gunicorn":
        cmd = [str(ROOT / ".venv" / "bin" / "gunicorn"), "search_wsgi:application", "--pythonpath", str(ROOT / "bench"),
               "-b", f"127.0.0.1:{args.port}", "-w", "1", "-k", "gthread", "--threads", str(args.threads),
               "--keep-alive", "30"]
    else:
        cmd = [str(ROOT / ".venv" / "bin" / "juki"), "runserver", f"127.0.0.1:{args.port}", "--noreload", "--insecure"]
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)


# --- browser ----------------------------------------------------------------------------------------


def run_browser(args, tasks: list[tuple[str, dict, dict | None]]) -> tuple[list[dict], str]:
    from playwright.sync_api import TimeoutError as PWTimeout
    from playwright.sync_api import sync_playwright

    base = f"http://127.0.0.1:{args.port}"
    records: list[dict] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        version = browser.version
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ja-JP", timezone_id="Asia/Tokyo")
        context.set_default_timeout(30_000)
        page = context.new_page()
        page.goto(base + "/counter/login/")
        page.fill("#id_username", USER)
        page.fill("#id_password", c.BENCH_PASSWORD)
        page.select_option("#id_terminal", TERMINAL)
        page.press("#id_password", "Enter")
        page.wait_for_selector("form.search")
        if "/counter/login/" in page.url:
            raise SystemExit("login failed")
        page.evaluate(TIMING_JS)
        for i, (kind, crit, target) in enumerate(tasks):
            page.evaluate("() => document.querySelector('form.search').reset()")
            fields = crit or {"name": ""}
            for name, value in fields.items():
                if name == "town_text":
                    # htmx fetches the 町字 datalist 150 ms after typing; a clerk picks from it.
                    try:
                        with page.expect_response(lambda r: "/counter/towns/" in r.url, timeout=3000):
                            page.fill("#id_town_text", value)
                    except PWTimeout:  # same value as the last 町字: htmx's `changed` filter skips the fetch
                        pass
                else:
                    page.fill(f"#id_{name}", value)
            last = list(fields)[-1]
            n0 = page.evaluate("() => window.__bench.n")
            t0 = time.perf_counter()
            page.press(f"#id_{last}", "Enter")
            page.wait_for_function("n0 => window.__bench.n > n0", arg=n0, polling="raf")
            wall = time.perf_counter() - t0
            r = page.evaluate("() => window.__bench.last")
            if "/counter/" not in page.url or "/lock/" in page.url or "/login/" in page.url:
                raise SystemExit(f"left the search page: {page.url}")
            hit = None
            if target is not None:
                hit = f"{target['family']}　{target['given']}".strip() in r["text"]
            records.append({"i": i, "kind": kind, "criteria": crit, "e2e_ms": r["e2e"], "xhr_ms": r["xhr"],
                            "ttfb_ms": r["ttfb"], "app_ms": r["app"], "wall_ms": wall * 1000, "msg_id": r["kind"], "message": r["message"][:80],
                            "rows": r["rows"], "hit": hit})
        context.close()
        browser.close()
    return records, version


# --- EXPLAIN -----------------------------------------------------------------------------------------


def explain(crits: list[dict], kind: str, samples: int) -> tuple[str, dict]:
    """Run the kind's searches in-process; EXPLAIN ANALYZE every query of the slowest one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from juki.accounts.models import Staff, Terminal
    from juki.audit.gate import Actor
    from juki.core.wareki import parse_date
    from juki.counter.forms import town_code_of
    from juki.register.services import search as s

    actor = Actor(user=Staff.objects.get(username=USER), terminal=Terminal.objects.get(code=TERMINAL))

    def criteria(cr: dict) -> s.Criteria:
        kw = {k: v for k, v in cr.items() if k not in ("town_text", "birth_date")}
        if cr.get("birth_date"):
            kw["birth_date"] = parse_date(cr["birth_date"])
        if cr.get("town_text"):
            kw["town_code"] = town_code_of(cr["town_text"])
        return s.Criteria(**kw)

    class Recorder:
        """Every statement with its parameters and its own time (CaptureQueriesContext rounds to 1 ms)."""

        def __init__(self):
            self.calls: list[tuple[str, object, float]] = []

        def __call__(self, execute, sql, params, many, context):
            t0 = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                self.calls.append((sql, params, time.perf_counter() - t0))

    timed = []
    for cr in crits[:samples]:
        s.person_search(actor=actor, criteria=criteria(cr))  # warm (and past psycopg's prepare threshold)
        rec = Recorder()
        with CaptureQueriesContext(connection) as q, connection.execute_wrapper(rec):
            t0 = time.perf_counter()
            res = s.person_search(actor=actor, criteria=criteria(cr))
            ms = (time.perf_counter() - t0) * 1000
        timed.append((ms, cr, list(q.captured_queries), rec.calls, len(res.rows)))
    timed.sort(key=lambda x: -x[0])
    ms, cr, queries, calls, nrows = timed[0]
    median = sorted(t[0] for t in timed)[len(timed) // 2]
    sql_ms = sum(d for _, _, d in calls) * 1000
    lines = [(f"== {kind}: slowest of {len(timed)} in-process person_search calls {ms:.1f} ms "
              f"(median {median:.1f} ms), {nrows} rows; {len(calls)} statements {sql_ms:.1f} ms, the rest "
              f"{ms - sql_ms:.1f} ms is Python (gate, ranking, _matches_now, _row)"),
             f"criteria: {json.dumps(cr, ensure_ascii=False)}", "statements (time measured around cursor.execute):"]
    for sql, _params, d in calls:
        lines.append(f"  {d * 1000:7.2f} ms  {sql[:150]}")
    summary = {"kind": kind, "in_process_max_ms": round(ms, 2), "in_process_median_ms": round(median, 2),
               "statements": len(calls), "sql_ms": round(sql_ms, 2), "plans": []}
    with connection.cursor() as cur:
        for qd in queries:
            sql = qd["sql"]
            if not sql.lstrip().upper().startswith("SELECT") or "django_session" in sql:
                continue
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(r[0] for r in cur.fetchall())
            lines += ["", f"-- {sql}", plan]
            exec_ms = [ln for ln in plan.splitlines() if "Execution Time" in ln or "Planning Time" in ln]
            summary["plans"].append({"table": sql.split(" FROM ", 1)[1].split()[0] if " FROM " in sql else "",
                                     "times": [x.strip() for x in exec_ms]})
        # juki prepares statements after 5 uses (server-side binding): the plan then may be the
        # generic one, chosen without the values. Show it for the SearchKey statement.
        for sql, params, _d in calls:
            if "register_searchkey" not in sql or not params:
                continue
            n = 0

            def dollar(_m):
                nonlocal n
                n += 1
                return f"${n}"

            template = re.sub(r"%s", dollar, sql)
            cur.execute("SET plan_cache_mode = force_generic_plan")
            cur.execute(f"PREPARE bench_sk AS {template}")
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + connection.ops.compose_sql(
                "EXECUTE bench_sk(" + ", ".join(["%s"] * len(params)) + ")", list(params)))
            plan = "\n".join(r[0] for r in cur.fetchall())
            cur.execute("DEALLOCATE bench_sk")
            cur.execute("RESET plan_cache_mode")
            lines += ["", ("-- the same SearchKey statement as a prepared statement, generic plan "
                          "(plan_cache_mode = force_generic_plan)"), plan]
            summary["generic_plan_searchkey"] = [ln.strip() for ln in plan.splitlines()
                                                 if "Execution Time" in ln or "Index" in ln or "Scan" in ln][:6]
            break
    return "\n".join(lines), summary


# --- main ---------------------------------------------------------------------------------------------


def main():
    args = parse()
    c.setup_django(args.database_url)
    from django.db import connection

    prepare_accounts()
    rng = random.Random(args.seed)
    all_kinds = KINDS + (EXTRA_KINDS if args.wide else ())
    targets = draw_targets(args.per_kind * len(all_kinds) + args.warmup, rng)
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM register_person")
        persons = cur.fetchone()[0]
        cur.execute("SELECT COUNT(*) FROM register_person WHERE status = 'resident'")
        residents = cur.fetchone()[0]
        cur.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'register_searchkey'")
        keys = cur.fetchone()[0]
        cur.execute("SHOW server_version")
        pg_version = cur.fetchone()[0]
    # Tasks: warm-up (mixed, untimed), then rounds of [baseline, search] with the kinds shuffled per round.
    tasks: list[tuple[str, dict, dict | None]] = []
    it = iter(targets)
    for w in range(args.warmup):
        t = next(it)
        tasks.append(("warmup", criteria_for(KINDS[w % len(KINDS)], t, rng), t))
    for _ in range(args.per_kind):
        order = list(all_kinds)
        rng.shuffle(order)
        for kind in order:
            t = next(it)
            tasks.append(("baseline", {}, None))
            tasks.append((kind, criteria_for(kind, t, rng), t))
    connection.close()

    env = c.server_env(DJANGO_SETTINGS_MODULE="juki.conf.dev", DATABASE_URL=args.database_url,
                       JUKI_VAR_DIR=os.environ["JUKI_VAR_DIR"], PYTHONUNBUFFERED="1", JUKI_LOG_LEVEL="WARNING")
    load_before = os.getloadavg()
    proc = start_server(args, env)
    t_start = time.time()
    try:
        c.wait_port(args.port, proc)
        records, chromium = run_browser(args, tasks)
    finally:
        c.stop_server(proc)
    seconds = time.time() - t_start

    timed = [r for r in records if r["kind"] != "warmup"]
    by_kind: dict[str, dict] = {}
    for kind in ("baseline", *all_kinds, "all_searches"):
        rs = [r for r in timed if (r["kind"] in KINDS if kind == "all_searches" else r["kind"] == kind)]
        by_kind[kind] = {
            "e2e": c.summary_ms([r["e2e_ms"] / 1000 for r in rs]),
            "xhr": c.summary_ms([r["xhr_ms"] / 1000 for r in rs if r["xhr_ms"] is not None]),
            "ttfb": c.summary_ms([r["ttfb_ms"] / 1000 for r in rs if r["ttfb_ms"] is not None]),
            "app": c.summary_ms([r["app_ms"] / 1000 for r in rs if r["app_ms"] is not None]),
            "wall": c.summary_ms([r["wall_ms"] / 1000 for r in rs]),
            "errors": sum(1 for r in rs if (r["msg_id"] == "search-error") != (kind == "baseline")),
            "hits": sum(1 for r in rs if r["hit"]), "rows_mean": round(sum(r["rows"] for r in rs) / max(1, len(rs)), 1),
            "too_many": sum(1 for r in rs if "超えました" in r["message"]),
        }
    base95 = by_kind["baseline"]["e2e"]["p95_ms"]
    base50 = by_kind["baseline"]["e2e"]["p50_ms"]
    for kind in (*all_kinds, "all_searches"):
        by_kind[kind]["ratio_p95_to_baseline_p95"] = round(by_kind[kind]["e2e"]["p95_ms"] / base95, 2)
        by_kind[kind]["ratio_p50_to_baseline_p50"] = round(by_kind[kind]["e2e"]["p50_ms"] / base50, 2)
    slowest = max(KINDS, key=lambda k: by_kind[k]["e2e"]["p95_ms"])
    slowest_key = max(KEY_KINDS, key=lambda k: by_kind[k]["e2e"]["p95_ms"])

    # EXPLAIN: the slowest kind, and the slowest kind that runs the SearchKey query (if different).
    texts, plans = [], []
    for kind in dict.fromkeys((slowest, slowest_key, *(EXTRA_KINDS if args.wide else ()))):
        crits = [r["criteria"] for r in sorted(timed, key=lambda r: -r["e2e_ms"]) if r["kind"] == kind]
        text, summ = explain(crits, kind, args.explain_samples)
        texts.append(text)
        plans.append(summ)
    explain_file = c.RESULTS / "search_explain.txt"
    c.RESULTS.mkdir(parents=True, exist_ok=True)
    explain_file.write_text("\n\n".join(texts) + "\n", encoding="utf-8")
    with open(c.RESULTS / "search_records.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records)

    overall95 = by_kind["all_searches"]["e2e"]["p95_ms"]
    result = {
        "bench": "search", "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"), "machine": c.machine(),
        "loadavg_before": load_before, "code": c.src_info(), "postgresql": pg_version, "chromium": chromium,
        "server": args.server if args.server == "runserver" else f"gunicorn 1 worker gthread x{args.threads}",
        "kinds_in_all_searches": list(KINDS), "extra_kinds": list(EXTRA_KINDS) if args.wide else [],
        "persons_in_register": persons, "residents": residents, "searchkey_rows_est": keys,
        "per_kind": args.per_kind, "warmup": args.warmup, "seed": args.seed, "seconds": round(seconds, 1),
        "latency": by_kind, "slowest_kind": slowest, "explain": plans, "explain_file": str(explain_file),
        "goal_p95_ms": args.goal_ms, "goal_met": overall95 <= args.goal_ms and all(
            by_kind[k]["e2e"]["p95_ms"] <= args.goal_ms for k in KINDS),
    }
    c.record("search", result)
    print("\n" + texts[0][:6000])
    print(f"\n{'kind':<14}{'n':>4}{'p50':>9}{'p95':>9}{'max':>9}  {'xhr p95':>8}{'ttfb p95':>9}{'app p50':>8}{'app p95':>8}  ratio95  hits  err")
    for kind in ("baseline", *all_kinds, "all_searches"):
        k = by_kind[kind]
        print(f"{kind:<14}{k['e2e']['n']:>4}{k['e2e']['p50_ms']:>9.1f}{k['e2e']['p95_ms']:>9.1f}{k['e2e']['max_ms']:>9.1f}"
              f"  {k['xhr']['p95_ms']:>8.1f}{k['ttfb']['p95_ms']:>9.1f}{k['app']['p50_ms']:>8.1f}{k['app']['p95_ms']:>8.1f}  {k.get('ratio_p95_to_baseline_p95', 1.0):>7}"
              f"  {k['hits']:>4} {k['errors']:>4}")


if __name__ == "__main__":
    main()
