"""The API's token request (kept with the login rules it feeds)."""
from rest_framework import serializers

from juki.core.api import StrictSerializer


class TokenRequestSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=200, write_only=True)
    otp = serializers.CharField(max_length=6, required=False, allow_blank=True, write_only=True,
                                help_text="ワンタイムパスワード（6桁）。個人番号の表示・権限管理の権限がある職員は必須")
    work_application = serializers.CharField(max_length=40, required=False, allow_blank=True,
                                             help_text="作業申請番号（委託事業者の職員のみ）")
