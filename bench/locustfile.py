"""Load test: staff sessions at the counter screens, as a browser sends them (issue 19 item 7).

Run through bench/run_load.sh (server, samplers, stages, results). Each simulated user is one
counter session: its own account and terminal (bench/load_setup.py), logged in once (argon2
check, CSRF token, terminal), then working with a clerk's think time between requests
(LOAD_THINK="3,10" seconds, uniform).

- A clerk (weight 9) repeats a visit: search (htmx POST, the kinds of bench_search.py) → open the
  person → open the household; then in some visits a 転居 of one of its own households through
  the form, the confirmation and 登録 (仮登録, LOAD_P_MOVE), or a 住民票の写し (世帯全員) through the
  form, the fee check, 交付 and the PDF (LOAD_P_CERT).
- A reviewer (weight 1, role identity_manager) opens the 審査待ち list, takes one 仮登録 that no
  other reviewer took (a claim in this process: locust runs as one process), opens it and
  approves it (本登録). With nothing to review it reloads the list after its think time.

Redirects are not followed by the client: each round trip is its own request (a POST and the
page it redirects to are timed separately, as a browser's network panel shows them). A response
that is not the expected page (a redirect to login or lock, a refusal, a 4xx/5xx) is a failure.

Every request is appended to LOAD_RECORDS (CSV: epoch start, name, ms, bytes, ok) for per-stage
statistics (bench/load_stats.py). The stages (LOAD_STAGES="50:60,100:60,...": users:seconds held
after the ramp, LOAD_SPAWN_RATE users/s) are written to LOAD_SCHEDULE when the test starts.
"""
from __future__ import annotations

import datetime as dt
import html
import itertools
import json
import os
import random
import re
import time
from urllib.parse import urlencode

import gevent
from locust import FastHttpUser, LoadTestShape, between, events, task

TARGETS = json.load(open(os.environ.get("LOAD_TARGETS", "/tmp/juki-bench/load/targets.json"), encoding="utf-8"))
THINK = tuple(float(x) for x in os.environ.get("LOAD_THINK", "3,10").split(","))
P_MOVE = float(os.environ.get("LOAD_P_MOVE", "0.15"))
P_CERT = float(os.environ.get("LOAD_P_CERT", "0.15"))
RECORDS = os.environ.get("LOAD_RECORDS", "/tmp/juki-bench/load/records.csv")
SCHEDULE = os.environ.get("LOAD_SCHEDULE", "/tmp/juki-bench/load/schedule.json")

_clerk_index = itertools.count()
_reviewer_index = itertools.count()
_claimed: set[int] = set()  # pending ids a reviewer took (one process: no two take the same)
_records: list[tuple] = []
_counters: dict[str, int] = {}

PERSON_LINK = re.compile(r'/counter/persons/(\d+)/')
HOUSEHOLD_LINK = re.compile(r'/counter/households/(\d+)/')
PENDING_LINK = re.compile(r'/counter/pending/(\d+)/"')
PERSONS_BOX = re.compile(r'name="persons" value="(\d+)"')
HIDDEN = re.compile(r'<input type="hidden" name="(payload|entered)" value="([^"]*)"')


def failed(r, why: str) -> None:
    """Mark the request failed; keep the first pages that failed, for the reason (not measured)."""
    r.failure(why)
    if _counters.get("failure pages kept", 0) < 20:
        count("failure pages kept")
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r.text or ""))
        with open(RECORDS + ".failures.txt", "a", encoding="utf-8") as f:
            f.write(f"{why} {r.request.url if r.request else ''}\n{text[:1500]}\n\n")


def count(what: str) -> None:
    _counters[what] = _counters.get(what, 0) + 1


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, start_time=None, **_):
    _records.append((round(start_time or time.time(), 3), name, round(response_time, 2), response_length or 0,
                     0 if exception else 1))


@events.quitting.add_listener
def _dump(environment, **_):
    with open(RECORDS, "w", encoding="utf-8") as f:
        f.write("start,name,ms,bytes,ok\n")
        f.writelines(f"{s},{n},{ms},{b},{ok}\n" for s, n, ms, b, ok in _records)
    with open(RECORDS + ".counters.json", "w", encoding="utf-8") as f:
        json.dump(_counters, f, ensure_ascii=False)


class Session(FastHttpUser):
    abstract = True
    wait_time = between(*THINK)  # before the next visit
    connection_timeout = 60.0
    network_timeout = 120.0

    # --- helpers -------------------------------------------------------------------------------

    def think(self):
        gevent.sleep(random.uniform(*THINK))

    def csrf(self) -> str:
        return next((c.value for c in self.client.cookiejar if c.name == "csrftoken"), "")

    def get(self, path: str, name: str, expect: int = 200, marker: str | None = None):
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as r:
            self._check(r, expect, marker)
        return r

    def post(self, path: str, data: dict | list, name: str, expect: int = 200, marker: str | None = None,
             htmx: bool = False, page: str = "/counter/"):
        headers = {"X-CSRFToken": self.csrf(), "Referer": self.host + page,
                   "Content-Type": "application/x-www-form-urlencoded"}
        if htmx:
            headers |= {"HX-Request": "true", "HX-Current-URL": self.host + page}
        with self.client.post(path, data=urlencode(data, doseq=True), headers=headers, name=name, allow_redirects=False,
                              catch_response=True) as r:
            self._check(r, expect, marker)
        return r

    @staticmethod
    def _check(r, expect, marker):
        where = r.headers.get("Location", "") if r.status_code in (301, 302) else ""
        if r.status_code != expect:
            failed(r, f"HTTP {r.status_code} (expected {expect}) {where[:60]}")
        elif marker is not None and marker not in (where if expect in (301, 302) else (r.text or "")):
            failed(r, f"missing {marker!r} {where[:60]}")
        else:
            r.success()

    def login(self, username: str, terminal: str):
        self.get("/counter/login/", "login page")
        r = self.post("/counter/login/", {"username": username, "password": TARGETS["password"], "terminal": terminal,
                                          "next": "/counter/", "csrfmiddlewaretoken": self.csrf()},
                      "login (argon2)", expect=302, marker="/counter/", page="/counter/login/")
        if "/login/" in r.headers.get("Location", "/login/"):
            raise RuntimeError(f"login refused for {username}")
        self.get("/counter/", "search page")


class Clerk(Session):
    weight = 9

    def on_start(self):
        i = next(_clerk_index) % len(TARGETS["clerks"])
        self.me = TARGETS["clerks"][i]
        self.persons = itertools.cycle(self.me["persons"])
        self.households = list(self.me["households"])
        self.login(self.me["username"], self.me["terminal"])

    @task
    def visit(self):
        target = next(self.persons)
        r = self.post("/counter/", target["criteria"], "search", htmx=True)
        count("search hit" if f'/counter/persons/{target["id"]}/' in (r.text or "") else "search miss")
        self.think()
        r = self.get(f'/counter/persons/{target["id"]}/', "person")
        m = HOUSEHOLD_LINK.search(r.text or "")
        self.think()
        if m:
            self.get(f"/counter/households/{m.group(1)}/", "household")
        roll = random.random()
        if roll < P_MOVE and self.households:
            self.think()
            self.move(self.households.pop(0))
        elif roll < P_MOVE + P_CERT:
            self.think()
            self.certificate(target["id"])

    def move(self, h: dict):
        """転居 of the whole household: form → 確認 → 登録 (仮登録, waits for a reviewer)."""
        r = self.get(f'/counter/changes/move-within-city/?household={h["id"]}', "転居 form")
        members = PERSONS_BOX.findall(r.text or "")
        code, town_text = random.choice(TARGETS["towns_by_ward"][str(h["ward"])])
        today = dt.date.today().isoformat()
        data = [("household", str(h["id"])), *[("persons", p) for p in members],
                ("event_date", today), ("notified_on", today), ("notifier_name", "届出　太郎"),
                ("notifier_relationship", "世帯主"), ("town_text", town_text), ("town_code", code),
                ("banchi", f"{random.randint(31, 60)}番{random.randint(1, 40)}号"),
                ("katagaki", f"負荷{random.randint(100, 999)}号室"), ("destination", "same"),
                ("csrfmiddlewaretoken", self.csrf())]
        self.think()
        page = f'/counter/changes/move-within-city/?household={h["id"]}'
        r = self.post("/counter/changes/move-within-city/", data, "転居 確認", marker='name="payload"', page=page)
        hidden = dict(HIDDEN.findall(r.text or ""))
        if "payload" not in hidden:
            count("move refused at confirmation")
            return
        self.think()
        r = self.post("/counter/changes/move-within-city/commit/",
                      {"payload": html.unescape(hidden["payload"]), "entered": html.unescape(hidden.get("entered", "{}")),
                       "csrfmiddlewaretoken": self.csrf()},
                      "転居 登録 (仮登録)", expect=302, marker="/counter/pending/", page="/counter/changes/move-within-city/")
        where = r.headers.get("Location", "")
        if "/counter/pending/" in where:
            count("仮登録")
            self.get(where, "仮登録 detail")

    def certificate(self, person_id: int):
        """住民票の写し, 世帯連記式, 世帯全員, 本人 with a licence: form → fee check → 交付 → PDF."""
        base = f"/counter/certificates/persons/{person_id}/"
        r = self.get(base, "証明 form")
        members = PERSONS_BOX.findall(r.text or "") or [str(person_id)]
        data = [("form", "copy"), ("layout", "household"), *[("persons", p) for p in members], ("kind", "self"),
                ("requester_person", str(person_id)), ("documents", "運転免許証"), ("purpose", "年金の手続き"),
                ("csrfmiddlewaretoken", self.csrf())]
        self.think()
        self.post(base + "issue/", data, "証明 確認 (fee)", htmx=True, page=base)
        self.think()
        r = self.post(base + "issue/", [*data, ("confirmed", "1")], "証明 交付", expect=204, htmx=True, page=base)
        detail = r.headers.get("HX-Redirect", "")
        if not detail:
            return
        count("交付")
        r = self.get(detail, "証明 交付 detail")
        number = detail.split("/issues/")[1].split("/")[0]
        self.get(f"/counter/certificates/issues/{number}/pdf/?inline=1", "証明 PDF", marker=None)


class Reviewer(Session):
    weight = 1

    def on_start(self):
        i = next(_reviewer_index) % len(TARGETS["reviewers"])
        me = TARGETS["reviewers"][i]
        self.login(me["username"], me["terminal"])

    @task
    def review(self):
        r = self.get("/counter/pending/?ward=", "審査待ち list")
        free = [int(x) for x in dict.fromkeys(PENDING_LINK.findall(r.text or "")) if int(x) not in _claimed]
        if not free:
            count("reviewer found nothing")
            return
        pid = free[0]  # the oldest first, as the list orders them
        _claimed.add(pid)
        self.think()
        self.get(f"/counter/pending/{pid}/", "審査 detail")
        self.think()
        r = self.post(f"/counter/pending/{pid}/approve/", {"csrfmiddlewaretoken": self.csrf()}, "本登録 (approve)",
                      expect=302, marker="/counter/changes/done/", page=f"/counter/pending/{pid}/")
        where = r.headers.get("Location", "")
        if "/changes/done/" in where:
            count("本登録")
            self.get(where, "本登録 done")


def parse_stages(text: str) -> list[tuple[int, float]]:
    return [(int(u), float(s)) for u, s in (part.split(":") for part in text.split(",") if part.strip())]


class Steps(LoadTestShape):
    """Step up the users; each stage holds its count for its seconds after its ramp."""

    stages = parse_stages(os.environ.get("LOAD_STAGES", "50:60"))
    rate = float(os.environ.get("LOAD_SPAWN_RATE", "2"))

    def __init__(self):
        super().__init__()
        self.plan, t, before = [], 0.0, 0
        for users, hold in self.stages:
            ramp = max(0, users - before) / self.rate
            self.plan.append({"users": users, "start": t, "ramp_end": t + ramp, "end": t + ramp + hold})
            t, before = t + ramp + hold, users
        self.epoch = None

    def tick(self):
        if self.epoch is None:
            self.epoch = time.time()
            with open(SCHEDULE, "w", encoding="utf-8") as f:
                json.dump({"epoch": self.epoch, "spawn_rate": self.rate, "think_s": THINK, "p_move": P_MOVE,
                           "p_cert": P_CERT, "stages": self.plan}, f)
        t = self.get_run_time()
        for stage in self.plan:
            if t < stage["end"]:
                return stage["users"], self.rate
        return None
