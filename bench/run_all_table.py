"""The dated summary table of one bench/run_all.sh run, from the result lines each stage appended.

    .venv/bin/python bench/run_all_table.py /tmp/juki-bench/all/<run id>  > summary.md

Markdown in BENCHMARKS.md's style: each figure with its same-run baseline and the ratio, the goal
of issue 19 and whether it is met; the load test's stages below (the knee). A stage that did not
run says so.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

GOALS = {"seed_s": 60, "pair_p95_ms": 12, "pair_ratio": 3.0, "search_p50_ms": 10, "move_per_s": 250, "pdf_ms": 50,
         "load_p95_ms": 200, "load_users": 500}


def last(d: Path, name: str) -> dict | None:
    f = d / f"{name}.jsonl"
    lines = [x for x in f.read_text(encoding="utf-8").splitlines() if x.strip()] if f.exists() else []
    return json.loads(lines[-1]) if lines else None


def met(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def fmt(x, digits=1) -> str:
    return "—" if x is None else f"{x:,.{digits}f}"


def rows(d: Path) -> list[str]:
    out = ["| Benchmark | Figure | Same-run baseline | Ratio | Goal (issue 19) | Result |",
           "| --- | --- | --- | --- | --- | --- |"]
    seed = last(d, "seed")
    if seed:
        out.append(f"| seed {seed['persons']:,} persons (`bench/run_seed.sh pg`) | {seed['wall_s']} s wall, "
                   f"{float(seed['user_s']) + float(seed['sys_s']):.0f} s CPU"
                   + (f" + PostgreSQL {float(seed['postgres_cpu_s']):.0f} s" if seed.get("postgres_cpu_s") else "")
                   + f", peak RSS {seed['peak_rss_mib']} MiB, "
                   f"{seed['persons_per_s']:,} persons/s | — | — | ≤ {GOALS['seed_s']} s | {met(seed['wall_s'] <= GOALS['seed_s'])} |")
    else:
        out.append("| seed | not run | | | | |")
    http = last(d, "http")
    if http:
        lat = http["latency"]
        pair95, w95 = lat["pair"]["p95_ms"], lat["wards"]["p95_ms"]
        ok = pair95 <= GOALS["pair_p95_ms"] and http["ratio_pair_p95_to_wards_p95"] <= GOALS["pair_ratio"]
        out.append(f"| person + household over HTTP (`bench_http.py --server gunicorn`, 1 sync worker, {http['pairs']:,} pairs) "
                   f"| pair p50 / p95 {lat['pair']['p50_ms']} / {pair95} ms; person p50 {lat['person']['p50_ms']}, "
                   f"household p50 {lat['household']['p50_ms']} ms | wards list p50 / p95 {lat['wards']['p50_ms']} / {w95} ms "
                   f"| pair p95 **{http['ratio_pair_p95_to_wards_p95']}**; person p50 {http['ratio_person_p50_to_wards_p50']} "
                   f"| pair p95 ≤ {GOALS['pair_p95_ms']} ms and ≤ {GOALS['pair_ratio']}× wards | {met(ok)} |")
    else:
        out.append("| person + household over HTTP | not run | | | | |")
    search = last(d, "search")
    if search:
        a, b = search["latency"]["all_searches"], search["latency"]["baseline"]
        out.append(f"| counter search over HTTP (`bench_search.py --per-kind 60`, Chromium, 5 kinds × 60; XHR = the request "
                   f"over HTTP, app = server time) | XHR p50 / p95 {a['xhr']['p50_ms']} / {a['xhr']['p95_ms']} ms; app p50 "
                   f"{a['app']['p50_ms']} ms; end to end p95 {a['e2e']['p95_ms']} ms | no-search round trip XHR p50 / p95 "
                   f"{b['xhr']['p50_ms']} / {b['xhr']['p95_ms']} ms | XHR p50 {a['xhr']['p50_ms'] / b['xhr']['p50_ms']:.2f}; "
                   f"e2e p95 {a['ratio_p95_to_baseline_p95']} | p50 ≤ {GOALS['search_p50_ms']} ms | "
                   f"{met(a['xhr']['p50_ms'] <= GOALS['search_p50_ms'])} |")
    else:
        out.append("| counter search over HTTP | not run | | | | |")
    changes = last(d, "changes")
    if changes:
        tps = changes.get("pgbench_tps_mean")
        for ph in changes["phases"]:
            lat = next(iter(ph["latency"].values()))
            q = next(iter(ph["queries_per_op"].values()))
            label = {"move": "転居 (whole household), service path", "birth": "出生 into a household",
                     "mix": "mix 3 転居 : 1 出生", "wardmove": "区間異動"}.get(ph["phase"], ph["phase"])
            goal = f"≥ {GOALS['move_per_s']}/s" if ph["phase"] in ("move", "birth") else "—"
            result = met(ph["changes_per_s"] >= GOALS["move_per_s"]) if goal != "—" else "informational"
            out.append(f"| {label} (`bench_changes.py`) | {ph['changes_per_s']}/s, p50 / p95 {lat['p50_ms']} / {lat['p95_ms']} ms, "
                       f"{q['mean']} statements | pgbench (mean {fmt(tps, 0)} tps) | {ph.get('ratio_to_pgbench', '—')} | {goal} | {result} |")
    else:
        out.append("| changes | not run | | | | |")
    pdf = last(d, "pdf")
    if pdf:
        out.append(f"| 住民票の写し PDF (`bench_certificate.py --runs {pdf['runs']}`, {pdf['form']}) | median {pdf['certificate']['p50_ms']} ms "
                   f"| one-line table PDF {pdf['baseline_table_pdf']['p50_ms']} ms | {pdf['ratio_p50']} | ≤ {GOALS['pdf_ms']} ms "
                   f"| {met(pdf['certificate']['p50_ms'] <= GOALS['pdf_ms'])} |")
    else:
        out.append("| PDF | not run | | | | |")
    load = last(d, "load")
    if load and load["stages"]:
        top, low = load["stages"][-1], load["stages"][0]
        ok = top["users"] >= GOALS["load_users"] and top["p95_ms"] <= GOALS["load_p95_ms"] and load["failures_total"] == 0
        out.append(f"| load: {top['users']} counter sessions (`bench/run_load.sh`, locust, think {load['think_s'][0]:g}–{load['think_s'][1]:g} s; {load['server']}) "
                   f"| p50 / p95 / p99 {top['p50_ms']} / {top['p95_ms']} / {top['p99_ms']} ms, {top['rps']} requests/s, "
                   f"{load['failures_total']} failures in {load['requests_total']:,} requests | {low['users']} sessions p95 {low['p95_ms']} ms "
                   f"| {top['p95_ms'] / low['p95_ms']:.2f} | p95 ≤ {GOALS['load_p95_ms']} ms, 0 errors at {GOALS['load_users']} | {met(ok)} |")
    else:
        out.append("| load | not run | | | | |")
    return out


def load_stages(d: Path) -> list[str]:
    load = last(d, "load")
    if not load:
        return []
    out = ["", f"Load test by stage (each measured after its ramp + {load['settle_s']} s; logins apart: "
               f"p50 / p95 {load['login']['p50_ms']} / {load['login']['p95_ms']} ms; CPU in cores of 2, locust on the same machine):", "",
           "| Sessions | requests/s | p50 | p95 | p99 (ms) | failures | CPU gunicorn / PostgreSQL / locust / other work / machine | PostgreSQL active sessions by wait (mean) |",
           "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for s in load["stages"]:
        cpu = s.get("cpu_cores", {})
        waits = ", ".join(f"{k} {v}" for k, v in s.get("pg_active_by_wait", {}).items()) or "—"
        out.append(f"| {s['users']} | {s['rps']} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} | {s['failures']} | "
                   f"{cpu.get('gunicorn', 0):.2f} / {cpu.get('postgres', 0):.2f} / {cpu.get('locust', 0):.2f} / "
                   f"{s.get('other_cores', 0):.2f} / {s.get('machine_busy_cores', 0):.2f} | {waits} |")
    top = load["stages"][-1]
    out += ["", f"Slowest requests at {top['users']} sessions (p95, ms): " + ", ".join(
        f"{n} {v['p95_ms']}" for n, v in sorted(top["by_name"].items(), key=lambda kv: -kv[1]["p95_ms"])[:6]) + "."]
    return out


def header(d: Path) -> list[str]:
    started = (d / "started").read_text().strip() if (d / "started").exists() else "?"
    ended = (d / "ended").read_text().strip() if (d / "ended").exists() else "?"
    any_result = next((r for r in (last(d, n) for n in ("http", "changes", "search", "load", "pdf")) if r), {})
    code = any_result.get("code") or {"commit": any_result.get("commit", "?")}
    machine = any_result.get("machine", {})
    pg = (last(d, "changes") or last(d, "http") or {}).get("postgresql", "?")
    stages = []
    if (d / "stages.tsv").exists():
        for line in (d / "stages.tsv").read_text().splitlines()[1:]:
            name, start, secs = line.split("\t")
            stages.append(f"{name} {int(secs) // 60} min {int(secs) % 60:02d} s")
    return [f"## Summary: `bench/run_all.sh` (commit {code.get('commit', '?')[:7]}, {started[:10]} {started[11:16]}–{ended[11:16]} UTC)",
            "",
            f"One run of `bench/run_all.sh` against a fresh database it seeded itself. Host: {machine.get('nproc', '?')} vCPU "
            f"\"{machine.get('cpu', '?')}\", {machine.get('ram_gib', '?')} GiB; PostgreSQL {pg} (`bench/pg.sh`, defaults); "
            f"Python {machine.get('python', '?')}. Code frozen with `bench/snapshot.sh` ({code.get('commit', '?')}). "
            f"Stages: {', '.join(stages)}. Every timed stage held `/tmp/bench.lock`.",
            ""]


def main():
    d = Path(sys.argv[1])
    print("\n".join(header(d) + rows(d) + load_stages(d)))


if __name__ == "__main__":
    main()
