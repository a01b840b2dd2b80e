"""The 中間サーバー's HTTPS API, mutual TLS with the network's CA (ADR 0026). Who calls is known only
from the verified certificate:

- `im-<code>`: a city's 既存システム連携 (its register's feed, its staff screens): that tenant only;
- `infonet`: the 情報提供ネットワークシステム, with inquiries for a tenant it names;
- `im-operator`: the platform's operator: health and batch status, counts only.

Every handler runs on a connection logged in as one tenant's role, so row-level security limits it to
that tenant whatever it does (C19).
"""
from __future__ import annotations

import re
import time

import psycopg

from juki.network.wire import App, Refused, Request

from . import db, inquiries, replica

NETWORK, OPERATOR = "infonet", "im-operator"
_TENANT_CERT = re.compile(r"im-([0-9]{6})")


def build(url: str) -> App:
    app = App("intermediary")
    conns = db.Connections(url)
    started = time.time()
    known: dict[str, bool] = {}

    def tenant_exists(code: str) -> bool:
        if code not in known:
            try:
                conns.tenant(code)
                known[code] = True
            except psycopg.OperationalError as exc:
                if "does not exist" in str(exc):  # no such role: not a tenant of this platform
                    return False
                raise Refused(503, "database_unavailable", "中間サーバーのデータベースに接続できません。") from None
        return known[code]

    def city(request: Request) -> psycopg.Connection:
        match = _TENANT_CERT.fullmatch(request.peer or "")
        if not match or not tenant_exists(match.group(1)):
            raise Refused(403, "not_a_tenant", "この証明書の団体は中間サーバーの利用団体ではありません。")
        return conns.tenant(match.group(1))

    def network(request: Request, code: str) -> psycopg.Connection:
        if request.peer != NETWORK:
            raise Refused(403, "network_only", "情報提供ネットワークシステムからの照会だけを受け付けます。")
        if not re.fullmatch(r"[0-9]{6}", code or "") or not tenant_exists(code):
            raise Refused(404, "unknown_provider", "情報提供者の団体が中間サーバーにありません。")
        return conns.tenant(code)

    def guarded(handler):
        def wrapped(request: Request) -> dict:
            try:
                return handler(request)
            except replica.Invalid as exc:
                raise Refused(422, exc.code, **({} if exc.index is None else {"index": exc.index})) from None
            except (ValueError, TypeError, psycopg.errors.DataError):  # not a number, out of range, wrong shape
                conns.rollback_all()
                raise Refused(422, "invalid_request", "要求の形式が正しくありません。") from None
            except psycopg.errors.IntegrityError:
                conns.rollback_all()
                raise Refused(409, "conflict", "すでに登録されている内容と矛盾します。") from None
            except psycopg.OperationalError:
                conns.close()
                raise Refused(503, "database_unavailable", "中間サーバーのデータベースに接続できません。") from None
        return wrapped

    @app.route("GET", "/health")
    def health(request: Request) -> dict:
        """Any verified peer: the process answers (no database; the benchmarks' same-run baseline)."""
        return {"health": "ok"}

    # --- the city's feed and screens ----------------------------------------------------------------

    @app.route("POST", "/replica/changes")
    @guarded
    def changes(request: Request) -> dict:
        records = request.body.get("records")
        if not isinstance(records, list) or len(records) > 10000:
            raise Refused(422, "invalid_records")
        return {"changed": replica.apply(city(request), records, position=int(request.body.get("position", 0)))}

    @app.route("POST", "/replica/full")
    @guarded
    def full(request: Request) -> dict:
        conn, body = city(request), request.body
        load_id = str(body.get("load_id", ""))
        if not re.fullmatch(r"[A-Za-z0-9-]{8,64}", load_id):
            raise Refused(422, "invalid_load_id")
        records = body.get("records") or []
        if not isinstance(records, list) or len(records) > 20000:
            raise Refused(422, "invalid_records")
        position = int(body.get("position", 0))
        changed = replica.apply(conn, records, position=position, load_id=load_id)
        removed = replica.finish_full(conn, load_id=load_id, position=position, count=int(body.get("count", 0))) \
            if body.get("last") else 0
        return {"changed": changed, "removed": removed}

    # A 統一識別番号 never goes into a URL (a proxy's access log keeps URLs): the export's place and the
    # records' filter travel in the body.
    @app.route("POST", "/replica/export")
    @guarded
    def export(request: Request) -> dict:
        rows = replica.export(city(request), after=str(request.body.get("after", "")),
                              limit=int(request.body.get("limit", 5000)))
        return {"rows": rows}

    @app.route("POST", "/replica/reconciled")
    @guarded
    def reconciled(request: Request) -> dict:
        replica.record_reconciliation(city(request), differences=int(request.body.get("differences", 0)),
                                      position=int(request.body.get("position", 0)))
        return {"ok": True}

    @app.route("GET", "/replica/status")
    @guarded
    def status(request: Request) -> dict:
        return replica.status(city(request))

    @app.route("GET", "/replica/flagged")
    @guarded
    def flagged(request: Request) -> dict:
        return {"unified_numbers": replica.flagged(city(request))}

    @app.route("POST", "/fugo")
    @guarded
    def tie(request: Request) -> dict:
        return {"new": replica.tie_fugo(city(request), unified_number=str(request.body.get("unified_number", "")),
                                        fugo=str(request.body.get("fugo", "")))}

    @app.route("GET", "/fugo/missing")
    @guarded
    def missing(request: Request) -> dict:
        return {"unified_numbers": replica.without_fugo(city(request), limit=int(request.query.get("limit", 500)))}

    @app.route("GET", "/inquiries")
    @guarded
    def listing(request: Request) -> dict:
        before = request.query.get("before")
        return {"inquiries": inquiries.listing(city(request), state=request.query.get("state", ""),
                                               limit=int(request.query.get("limit", 100)),
                                               before=int(before) if before else None)}

    @app.route("POST", r"/inquiries/(?P<id>[0-9]{1,18})/review")
    @guarded
    def review(request: Request) -> dict:
        return inquiries.review(city(request), int(request.params["id"]), staff=str(request.body.get("staff", "")),
                                release=request.body.get("release") is True)  # "false" is not a release

    @app.route("POST", "/records")
    @guarded
    def records(request: Request) -> dict:
        body = request.body
        return {"records": inquiries.records(city(request), unified_number=str(body.get("unified_number", "")),
                                             after=int(body.get("after", 0)), limit=int(body.get("limit", 200)),
                                             settled=body.get("settled") is True)}

    # --- the network ---------------------------------------------------------------------------------

    @app.route("POST", r"/providers/(?P<code>[0-9]{6})/inquiries")
    @guarded
    def inquiry(request: Request) -> dict:
        return inquiries.receive(network(request, request.params["code"]), request.body)

    @app.route("GET", r"/providers/(?P<code>[0-9]{6})/inquiries/(?P<id>[0-9]{1,18})")
    @guarded
    def inquiry_result(request: Request) -> dict:
        return inquiries.result(network(request, request.params["code"]), int(request.params["id"]),
                                requester=request.query.get("requester", ""))

    # --- the platform's operator -------------------------------------------------------------------------

    @app.route("GET", "/operator/status")
    @guarded
    def operator(request: Request) -> dict:
        if request.peer != OPERATOR:
            raise Refused(403, "operator_only", "基盤の運用者だけが見られます。")
        conn = conns.get(db.OPERATOR)
        with conn.transaction():
            columns = ("tenant", "name", "replica", "no_auto", "fugo", "held", "inquiries_24h", "refused_24h",
                       "last_feed", "last_full", "position")
            rows = conn.execute("SELECT * FROM platform_status()").fetchall()
        tenants = [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in zip(columns, row)} for row in rows]
        return {"health": "ok", "uptime_seconds": int(time.time() - started), "tenants": tenants}

    return app
