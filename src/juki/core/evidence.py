"""The self-check report (自己点検, C30): each control of the assessment, how juki enforces it,
the settings in force and the tests that prove it — and, as plainly, what it does not cover.

The table below is the claim; `report()` checks it against the running configuration (the
settings are read, not copied) and against the test suite (every named test must exist, and
with `run_tests=True` must pass). A claim whose test disappears shows up as a broken claim.
"""
from __future__ import annotations

import ast
import datetime as dt
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

ENFORCED = "enforced"
PARTIAL = "partial"
NOT_COVERED = "not_covered"
STATUS_LABELS = {ENFORCED: "ソフトウェアで担保", PARTIAL: "一部を担保", NOT_COVERED: "未対応"}


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    status: str
    how: str
    settings: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()
    gaps: str = ""


CONTROLS: tuple[Control, ...] = (
    Control("C01", "利用者の認証・パスワードの定期変更", ENFORCED,
            "Argon2 のパスワード（長さ・過去の再利用禁止・有効期限）、連続失敗でロック、個人番号表示・権限管理の権限を持つ者は"
            "TOTP の二要素認証（ICカードの代替）、1利用者1セッション。ログイン・ログアウト・失敗を記録。"
            "マスタ管理の画面（/admin/）も窓口のログインを通り、独自のログインを持たない（ADR 0016）。"
            "推測されやすいパスワード・利用者IDを含むパスワードは拒否する（zxcvbn）。"
            "API のトークンは発行した利用者と端末に結び付き、ログアウト・ロック・パスワード変更・役割や権限の変更・退職で"
            "失効し、利用者ごとの上限（JUKI_API_TOKENS_PER_USER）を超えると古いものから失効する（ADR 0015）。",
            ("AUTH_PASSWORD_VALIDATORS", "JUKI_PASSWORD_HISTORY", "JUKI_PASSWORD_MAX_AGE_DAYS", "JUKI_LOGIN_MAX_FAILURES",
             "JUKI_LOGIN_LOCK_MINUTES", "JUKI_API_TOKENS_PER_USER"),
            ("tests/accounts/test_lockout.py", "tests/accounts/test_password.py", "tests/accounts/test_second_factor.py",
             "tests/accounts/test_sessions.py", "tests/rights/test_second_factor.py", "tests/browser/test_login.py",
             "tests/test_admin.py", "tests/accounts/test_tokens.py"),
            "ICカード・生体認証そのものは扱わない（TOTP で代替）。"
            "パスワードの辞書は英語のもので、ローマ字の地名などは推測されやすいと判定されない。"
            "同じ利用者の新しい窓口ログインは、それまでのトークンを失効させない。"),
    Control("C02", "事務分担による機能の制限・権限設定状況の一覧表", ENFORCED,
            "機能ごとに独立して付与できる権限（異動の種類ごと・項目の表示ごと）、事務分担は権限の束。"
            "すべての画面・API は権限を確認し、拒否もアクセスログに残す。権限設定状況の一覧表を PDF・CSV で出力。"
            "支援措置・照会抑止は、どの記録を求められたかでなく表示する内容で判断する（ADR 0013：同居者の住所・世帯番号も隠す）。"
            "漏えいの一覧表のテストが、すべての経路を役割ごと・相手方の請求ごとに呼び出して確かめる。",
            (), ("tests/test_authorization_matrix.py", "tests/register/test_visibility.py", "tests/rights/test_table.py",
                 "tests/test_leak_matrix.py", "tests/protection/test_around_paths.py", "tests/register/test_search.py"),
            "同居者の以前の住所の履歴は表示する（支援措置の対象者の今の住所でないため）。"
            "自動交付機・庁内連携の送信内容は漏えいの一覧表の対象外（それぞれ個別のテストで確認）。"),
    Control("C03", "申請・承認による権限付与、期間満了・異動・退職での自動失効", ENFORCED,
            "権限申請（権限・期間・業務・目的・根拠法令・申請課・利用課・利用者）をシステム所管課長が承認して付与。"
            "有効期間は毎回の権限確認で判定するため、期間満了・異動・退職で自動的に失効する。",
            ("JUKI_RIGHTS_MAX_FISCAL_YEARS", "JUKI_INITIAL_GRANT_DAYS"),
            ("tests/rights/test_effective.py", "tests/rights/test_applications.py", "tests/rights/test_approval_bypasses.py",
             "tests/browser/test_rights.py")),
    Control("C04", "委託先職員の事前承認と作業申請の記録", ENFORCED,
            "委託先職員は氏名で事前登録された者にだけ権限を付与でき、ログインには承認済みの作業申請番号が必要。"
            "その番号はすべてのアクセスログに記録される。",
            (), ("tests/rights/test_contractors.py",)),
    Control("C05", "住基ネット（CS）への接続は住基システム経由のみ", NOT_COVERED, "住基ネット連携は後続の課題で実装する。"),
    Control("C06", "個人情報へのアクセスの全件記録", ENFORCED,
            "すべての読み取り・変更は一つのアクセスゲートを通り、権限確認とアクセスログの書込みを行う。"
            "ゲートを通らない読み取りはエラーになる。ログイン・ログアウト等の認証ログ、設定変更・出力も同じログに記録。"
            "自動交付機は職員でなく端末として、限られた権限でゲートを通り、端末名でログに残る。"
            "自動交付機は、登録のないカードと暗証番号の誤りに同じ答えを返し（カード番号を探れない）、設定画面の秘密の誤りが続くと一定時間拒否する。"
            "開示請求の回答は本人の記録を書いた異動だけを載せ、支援措置の相手方には支援措置・交付制限の事務の記録を"
            "不開示として除き、除いたことを回答作成のログに残して監査者に表示する（ADR 0014）。",
            (), ("tests/audit/test_gate.py", "tests/api/test_every_route_is_gated.py", "tests/test_authorization_matrix.py",
                 "tests/accounts/test_sessions.py", "tests/core/test_error_log.py", "tests/kiosk/test_rights.py",
                 "tests/test_leak_matrix.py", "tests/audit/test_disclosure.py", "tests/certificates/test_alert_acknowledgement.py",
                 "tests/core/test_no_server_error.py", "tests/test_api_contract.py", "tests/kiosk/test_devices.py"),
            "開示決定通知書（全部開示・部分開示の文言）は作成しない（市の決定による）。"
            "自動交付機で実在のカードは3回の誤りでロックの案内を出すため、ロックさせればカードの存在は分かる。"
            "設定画面の試行制限は接続元の IP アドレスごとで、リバースプロキシの後ろでは端末を区別しない。"),
    Control("C07", "提供・移転の記録（拒否を含む）と7年間の保存", ENFORCED,
            "他システム連携（変更通知の読出し）は提供の種別で記録し、拒否も記録する。ログはハッシュの連鎖と署名付きチェック"
            "ポイントで改ざんを検知でき、PostgreSQL では更新・削除をデータベースが拒否する。提供記録は7年未満には設定できない。",
            ("JUKI_AUDIT_RETENTION_YEARS", "JUKI_AUDIT_PROVISION_RETENTION_YEARS"),
            ("tests/audit/test_chain.py",)),
    Control("C08", "操作ログの定期的な確認・不審な検索の確認", ENFORCED,
            "ログ分析画面と CSV（夜間・休日のアクセス、ログイン失敗、利用者別ログイン、大量検索、宛名番号による照会など）、"
            "日次の異常検知（自分と同じ氏・住所の住民の閲覧、無関係な住民の連続閲覧）。",
            ("JUKI_AUDIT_NIGHT_START_HOUR", "JUKI_AUDIT_NIGHT_END_HOUR", "JUKI_AUDIT_MASS_SEARCH_ROWS",
             "JUKI_AUDIT_SEARCHES_PER_HOUR", "JUKI_AUDIT_BURST_PERSONS", "JUKI_AUDIT_BURST_MINUTES"),
            ("tests/audit/test_analysis.py", "tests/browser/test_log_analysis.py"),
            "申請書類との突合は職員が行う。"),
    Control("C09", "媒体への出力の記録", PARTIAL,
            "CSV・PDF の出力（権限一覧表、ログ、開示資料）は出力の種別でアクセスログに記録する。"
            "CSV はすべて一つの書き出し（core.csvout）を通り、表計算ソフトで数式として動く値は無効化する。",
            (), ("tests/audit/test_analysis.py", "tests/rights/test_table.py", "tests/audit/test_disclosure.py",
                 "tests/core/test_csvout.py"),
            "媒体提供の事前申請書は未対応。"),
    Control("C10", "入力者以外の者による確認（二者確認）", ENFORCED,
            "窓口と API の異動入力は仮登録となり、入力者以外の審査権限者が本登録する。API の /changes/ は、"
            "二者確認を行わない設定のときだけ直接登録でき、それ以外は review_required で拒否してログに残す。",
            ("JUKI_TWO_PERSON_VERIFICATION",), ("tests/register/test_verification.py", "tests/browser/test_counter_review.py",
                                                "tests/api/test_api.py", "tests/api/test_search_and_pending_api.py")),
    Control("C11", "必要な項目だけの入力", ENFORCED, "異動の種類ごとに入力できる項目を限定し、それ以外の項目は拒否する。",
            (), ("tests/api/test_api.py",)),
    Control("C12", "個人番号の真正性の確認", PARTIAL, "個人番号のチェックディジットと重複を確認する。",
            (), ("tests/core/test_checkdigits.py", "tests/register/test_corrections.py"),
            "CS での本人確認情報との照合、J-LIS からの付番の受領は未対応。"),
    Control("C13", "CS 更新前の形式・論理チェック", ENFORCED,
            "現存者の転入、住所以外を変える転居などは登録前に拒否する。", (),
            ("tests/register/test_rules_hardening.py", "tests/register/test_moves.py")),
    Control("C14", "本人確認情報の直接修正は本人確認情報管理責任者が承認", ENFORCED,
            "氏名・生年月日・性別・住所・住民票コード・個人番号の職権修正等は必ず仮登録となり、本人確認情報管理責任者の権限を"
            "持つ職員だけが本登録できる。承認者は異動記録に残り、承認のログに印を付ける。",
            (), ("tests/register/test_identity_corrections.py",)),
    Control("C15", "4情報検索は性別以外の2項目以上", ENFORCED, "氏名・住所・生年月日のうち2項目以上がなければ検索しない。",
            (), ("tests/register/test_search.py",)),
    Control("C16", "法令で認められた項目・提供先だけへの連携", PARTIAL,
            "連携先の台帳（市町村CS・団体内統合宛名・中間サーバー・コンビニ交付、庁内の移転先16件、教育委員会）に、"
            "用途・法令上の根拠・利用申請の承認日・読み取れる連携・受け取れる項目を定める（ADR 0019）。"
            "台帳にない連携先は拒否し、連携データは連携先自身のアカウントだけが読み取り、承認された項目だけを渡す。"
            "拒否もアクセスログに残す。",
            (), ("tests/accounts/test_destinations.py", "tests/register/test_outbox.py"),
            "連携先の台帳の変更は、画面でなくコードの変更（レビュー）で行う。"
            "庁内連携システムから各課への送信そのもの、連携先ごとの住民票の項目の照会は未実装。"),
    Control("C17", "連携データの誤り・誤送信の防止", PARTIAL, "変更通知は順序付きで、確認済み位置の管理により欠落・重複を防ぐ。",
            (), ("tests/register/test_outbox.py",), "CS と都道府県サーバの相互認証は未対応。"),
    Control("C18", "中間サーバーの照会許可用照合リスト", NOT_COVERED, "中間サーバー連携は後続の課題で実装する。"),
    Control("C19", "他団体のデータを読めないこと", NOT_COVERED, "一つの市で運用する前提で、共同利用の区分は未実装。"),
    Control("C20", "端末にデータを残さない・画面を長く表示しない", ENFORCED,
            "一定時間操作がないと画面をロックし、本人のパスワードで解除する。すべての応答は no-store。URL に個人情報を含めない。"
            "自動交付機は交付後・中止時・一定時間の無操作（JUKI_KIOSK_IDLE_SECONDS）で利用者のセッションを消す（サーバ側で判定）。"
            "SQLite のデータベースファイルは所有者だけが読める（0600）で作成する。"
            "自動交付機の証明書 PDF は受け取りの時点でセッションから消し、放置されたセッションは juki kiosk-cleanup が消す。"
            "マスタ管理の画面にも同じセッションの確認（画面ロック・多重ログインの禁止）をかけ、マスタの登録・変更・削除は"
            "変更前後の値とともにアクセスログ（ハッシュチェーン）に残す（ADR 0016）。",
            ("JUKI_IDLE_LOCK_SECONDS", "JUKI_KIOSK_IDLE_SECONDS"),
            ("tests/counter/test_views.py", "tests/browser/test_counter_basics.py", "tests/kiosk/test_flow.py",
             "tests/core/test_database_file.py", "tests/test_admin.py"),
            "端末の画面に残るものは扱わない（ブラウザのキャッシュは no-store で防ぐ）。"
            "juki kiosk-cleanup は定期実行（cron など）に登録して動かす。"),
    Control("C21", "インターネットからの分離・端末からの任意のDB操作の禁止", PARTIAL,
            "画面・API は外部の配信元（CDN）を使わない。アプリケーションは任意の SQL を受け付けない。",
            (), ("tests/test_privacy.py", "tests/core/test_request_limits.py", "tests/core/test_storage_unavailable.py"),
            "ネットワークの分離は基盤で行う。"),
    Control("C22", "消除者データの定期的な削除", NOT_COVERED, "除票の保存期間経過後の削除は後続の課題で実装する。"),
    Control("C23", "本人確認情報の履歴・消除者の5年経過後の消去", NOT_COVERED, "後続の課題で実装する。"),
    Control("C24", "送付先情報の送信翌開庁日の消去", NOT_COVERED, "送付先情報は後続の課題で実装する。"),
    Control("C25", "廃棄媒体の復元不能化", NOT_COVERED, "基盤・運用で行う。"),
    Control("C26", "バックアップ", NOT_COVERED, "基盤・運用で行う。"),
    Control("C27", "届出期間の管理・記録の正確性の確保", PARTIAL,
            "届出期間を経過した届出の一覧、世帯主不在の世帯の一覧を出す。",
            ("JUKI_NOTIFICATION_PERIOD_DAYS",), ("tests/register/test_entries.py",), "実態調査（14条）の管理は未対応。"),
    Control("C28", "中間サーバー副本の照合用出力", NOT_COVERED, "中間サーバー連携は後続の課題で実装する。"),
    Control("C29", "都道府県・J-LIS への相互認証された経路", NOT_COVERED, "住基ネット連携は後続の課題で実装する。"),
    Control("C30", "評価書に沿った運用の自己点検", ENFORCED, "この報告書（juki evidence）を出力する。",
            (), ("tests/core/test_evidence.py",)),
)


@dataclass
class Finding:
    control: Control
    settings: dict[str, str] = field(default_factory=dict)
    tests: dict[str, str] = field(default_factory=dict)  # path → "present" | "missing" | "passed" | "failed"

    @property
    def broken(self) -> bool:
        return any(v in ("missing", "failed") for v in self.tests.values())


def _setting(name: str) -> str:
    value = getattr(settings, name, None)
    if name == "AUTH_PASSWORD_VALIDATORS":
        return ", ".join(v["NAME"].rsplit(".", 1)[-1] + (f"({v['OPTIONS']})" if v.get("OPTIONS") else "") for v in value or [])
    return "（未設定）" if value is None else str(value)


def _has_tests(path: Path) -> bool:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return False
    return any(isinstance(n, ast.FunctionDef) and n.name.startswith("test_") for n in ast.walk(tree))


def report(*, root: Path, run_tests: bool = False) -> list[Finding]:
    findings = []
    for control in CONTROLS:
        finding = Finding(control, {name: _setting(name) for name in control.settings})
        for test in control.tests:
            finding.tests[test] = "present" if _has_tests(root / test) else "missing"
        findings.append(finding)
    if run_tests:
        present = sorted({t for f in findings for t, state in f.tests.items() if state == "present"})
        outcome = {t: _run(root, t) for t in present}
        for f in findings:
            f.tests.update({t: outcome[t] for t in f.tests if t in outcome})
    return findings


def _run(root: Path, test: str) -> str:
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test], cwd=root,
                          capture_output=True, text=True, check=False)
    return "passed" if done.returncode == 0 else "failed"


_STATE_LABELS = {"present": "あり", "missing": "見つからない", "passed": "合格", "failed": "不合格"}


def as_markdown(findings: list[Finding], *, on: dt.date) -> str:
    counts = {s: sum(1 for f in findings if f.control.status == s) for s in STATUS_LABELS}
    lines = [
        f"# 自己点検報告書（C30） {on.isoformat()}",
        "",
        "特定個人情報保護評価書の措置（C01–C30）について、juki が担保している内容、現在の設定値、"
        "それを確かめる試験を示す。",
        "",
        " / ".join(f"{STATUS_LABELS[s]}: {n}件" for s, n in counts.items()),
        "",
    ]
    broken = [f.control.id for f in findings if f.broken]
    if broken:
        lines += [f"**要確認: 試験が見つからない、または不合格の措置があります（{', '.join(broken)}）。**", ""]
    for f in findings:
        c = f.control
        lines += [f"## {c.id} {c.title} — {STATUS_LABELS[c.status]}", "", c.how, ""]
        if f.settings:
            lines += ["設定値:", *[f"- `{k}` = {v}" for k, v in f.settings.items()], ""]
        if f.tests:
            lines += ["試験:", *[f"- `{t}`（{_STATE_LABELS[s]}）" for t, s in f.tests.items()], ""]
        if c.gaps:
            lines += [f"未対応の点: {c.gaps}", ""]
    return "\n".join(lines)
