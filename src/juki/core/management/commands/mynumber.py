"""`juki mynumber status | rekey`: rotation of the 個人番号 key (ADR 0002, issue 18; runbook
docs/operations.md). The CS holds its own keys and runs `juki cs rekey` on its own database."""
from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from juki.accounts.permissions import Perm
from juki.audit import gate
from juki.audit.gate import Actor
from juki.core import rekey

# Every column of the register's database that holds a sealed 個人番号 (or a message that may carry one).
STORES = (
    ("register.PersonVersion", "my_number_key_id", "my_number_cipher", "number"),
    ("register.TransferCertificate", "my_number_key_id", "my_number_cipher", "number"),
    ("register.PendingChange", "sealed_key_id", "sealed", "values"),
    ("atena.AtenaPerson", "my_number_key_id", "my_number_cipher", "number"),
    ("jukinet.Received", "key_id", "cipher", "values"),
    ("linkage.Delivery", "body_key_id", "body", "values"),
    ("certificates.CertificateSnapshot", "sealed", "", "snapshot"),
)
LABELS = {"register_personversion": "住民記録（履歴）", "register_transfercertificate": "転出証明書情報",
          "register_pendingchange": "仮登録の入力内容", "atena_atenaperson": "宛名管理",
          "jukinet_received": "住基ネットからの受信電文", "linkage_delivery": "庁内連携の送信データ",
          "certificates_certificatesnapshot": "証明書の控え"}


def stores() -> list[rekey.Store]:
    found = []
    for label, key, cipher, kind in STORES:
        meta = apps.get_model(label)._meta
        found.append(rekey.Store(meta.db_table, meta.get_field(key).column,
                                 meta.get_field(cipher).column if cipher else "", kind))
    return found


class Command(BaseCommand):
    help = "個人番号の暗号鍵の切替え: status（鍵ごとの件数）、rekey（有効な鍵で暗号化し直す）。"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["status", "rekey"])

    def handle(self, *args, action, **opts):
        try:
            active = rekey.active_key()
        except Exception as exc:  # noqa: BLE001 - a setting to fix, said plainly
            raise CommandError(f"improperly_configured: {exc}") from None
        actor = Actor.system_actor("juki mynumber")
        with gate.open(actor, function=f"batch.mynumber_{action}", perm=Perm.BATCH_RUN,
                       criteria={"active_key": active}) as session:
            if action == "rekey":
                try:
                    done = rekey.rekey(stores())
                except Exception as exc:  # noqa: BLE001 - e.g. a key id no longer listed
                    raise CommandError(f"rekey_failed: {type(exc).__name__}: {exc}") from None
                session.my_number_accessed = True  # opened and sealed again, never shown
                session.tally(sum(done.values()))
                session.criteria["rows"] = done
                for table, n in done.items():
                    self.stdout.write(f"{LABELS[table]}: {n} 件を鍵 {active} で暗号化し直しました")
            counts = rekey.status(stores())
            session.criteria["status"] = counts
        old = {t: {k: n for k, n in c.items() if k != active} for t, c in counts.items()}
        for table, by_key in counts.items():
            shown = "、".join(f"{k}: {n} 件" for k, n in sorted(by_key.items())) or "なし"
            self.stdout.write(f"{LABELS[table]}: {shown}")
        left = sum(sum(c.values()) for c in old.values())
        if left:
            self.stdout.write(f"有効な鍵（{active}）以外の鍵の暗号文が {left} 件あります。"
                              "古い鍵は、rekey の後この件数が 0 になってから設定から外してください。")
        else:
            self.stdout.write(f"すべて有効な鍵（{active}）で暗号化されています。古い鍵は設定から外せます。")
