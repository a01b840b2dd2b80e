"""`juki kiosk-cleanup`: remove the data of abandoned kiosk sessions (see `juki.kiosk.cleanup`).

Run it from cron every few minutes; it writes no access log (it reads no resident data, it only
deletes it) and prints how many sessions it cleaned.
"""
from django.core.management.base import BaseCommand

from juki.kiosk.cleanup import cleanup


class Command(BaseCommand):
    help = "操作が止まった自動交付機のセッションから、カード・証明書（PDF）などのデータを消去します。"

    def handle(self, *args, **opts):
        done = cleanup()
        self.stdout.write(f"自動交付機のセッション {done.scrubbed}件からデータを消去し、期限切れのセッション {done.expired}件を削除しました。")
