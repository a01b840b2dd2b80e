"""One exception family for every rule the domain enforces.

Each error carries a stable machine code (used in the API's problem+json `code`) and a
Japanese message for the clerk. Messages never contain personal data: they name fields and
rules, not values.
"""
from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID_INPUT = "invalid_input"
    INVALID_CHARACTERS = "invalid_characters"  # a control, zero-width, bidi or private-use character (issue 11)
    UNKNOWN_FIELD = "unknown_field"
    INVALID_MY_NUMBER = "invalid_my_number"
    INVALID_RESIDENT_CODE = "invalid_resident_code"
    INVALID_LOCAL_GOVERNMENT_CODE = "invalid_local_government_code"
    INVALID_RELATIONSHIP = "invalid_relationship"
    INVALID_DATE = "invalid_date"
    EVENT_DATE_IN_FUTURE = "event_date_in_future"
    EVENT_DATE_BEFORE_LATEST = "event_date_before_latest"
    MY_NUMBER_AT_BIRTH = "my_number_at_birth"
    NOTIFIED_DATE_IN_FUTURE = "notified_date_in_future"
    NOTIFIED_BEFORE_EVENT = "notified_before_event"
    CERTIFIER_MISSING = "certifier_missing"
    ALREADY_RESIDENT = "already_resident"
    RETURNING_RESIDENT_FOUND = "returning_resident_found"
    POSSIBLE_RETURNING_RESIDENT = "possible_returning_resident"
    NOT_RESIDENT = "not_resident"
    NOT_REMOVED = "not_removed"
    FIELD_NOT_CHANGEABLE = "field_not_changeable"
    ADDRESS_CHANGE_NOT_ALLOWED = "address_change_not_allowed"
    ADDRESS_UNCHANGED = "address_unchanged"
    HOUSEHOLD_MISMATCH = "household_mismatch"
    HEAD_REQUIRED = "head_required"
    RELATIONSHIP_REQUIRED = "relationship_required"
    DUPLICATE_MY_NUMBER = "duplicate_my_number"
    DUPLICATE_RESIDENT_CODE = "duplicate_resident_code"
    RESIDENT_CODE_STOCK_EMPTY = "resident_code_stock_empty"
    NOT_FOREIGN_RESIDENT = "not_foreign_resident"
    NOT_JAPANESE_RESIDENT = "not_japanese_resident"
    FOREIGN_DATA_REQUIRED = "foreign_data_required"
    MINOR_CORRECTION_FIELDS = "minor_correction_fields"
    CANNOT_CANCEL = "cannot_cancel"
    SEARCH_CRITERIA = "search_criteria"
    SELF_APPROVAL = "self_approval"
    PENDING_EXISTS = "pending_exists"
    REVIEW_REQUIRED = "review_required"  # two-person verification is on: enter the change as 仮登録 (C10)
    PENDING_CLOSED = "pending_closed"
    NOTHING_CHANGED = "nothing_changed"
    # 住基ネット (issue 14): the CS could not be reached, refused an update, or a queue item is done.
    CS_UNREACHABLE = "cs_unreachable"
    CS_REJECTED = "cs_rejected"
    ALREADY_PROCESSED = "already_processed"
    MY_NUMBER_NOT_RECORDED = "my_number_not_recorded"  # a 変更請求 or a card needs a recorded 個人番号
    # 住基ネット II (issue 15): 特例転入, 転入通知 and the other cities' messages.
    TRANSFER_CERTIFICATE_USED = "transfer_certificate_used"  # the 転出証明書情報 has been used by a 転入
    NOTICE_UNMATCHED = "notice_unmatched"  # a 転入通知 or 法務省通知 that names no one of this register
    ITEM_NOT_PERMITTED = "item_not_permitted"  # a 広域交付 request for an item the law does not allow
    # 庁内連携・団体内統合宛名 (issue 16)
    APPROVAL_ENDED = "approval_ended"  # the destination has no data-use approval in force: nothing is sent
    APPROVAL_STATE = "approval_state"  # an application not in the state the step needs (approve twice, activate unapproved …)
    DELIVERY_STATE = "delivery_state"  # a re-send or a media output of a delivery that cannot take it
    MEDIA_REQUEST_REQUIRED = "media_request_required"  # C09: no media output without an approved request form
    ATENA_MERGED = "atena_merged"  # a 統一識別番号 merged into another: use the one it was merged into
    ATENA_MERGE_STATE = "atena_merge_state"  # merge of a number with itself, an already merged one, undo twice …
    # 中間サーバー (issue 17)
    INTERMEDIARY_UNREACHABLE = "intermediary_unreachable"  # the platform is down or refused the city's connector
    INQUIRY_STATE = "inquiry_state"  # a review of an inquiry that is not (or no longer) held
    UNIFIED_NUMBER_INVALID = "unified_number_invalid"  # 統一識別番号 is 12 digits
    UNKNOWN_TOWN = "unknown_town"
    TOWN_FILE_INVALID = "town_file_invalid"
    IDENTITY_APPROVAL_REQUIRED = "identity_approval_required"
    WORK_APPLICATION_REQUIRED = "work_application_required"
    CONTRACTOR_NOT_REGISTERED = "contractor_not_registered"
    APPLICATION_CLOSED = "application_closed"
    INVALID_PERIOD = "invalid_period"
    INVALID_CREDENTIALS = "invalid_credentials"
    ACCOUNT_LOCKED = "account_locked"
    PASSWORD_EXPIRED = "password_expired"
    SECOND_FACTOR_REQUIRED = "second_factor_required"
    SECOND_FACTOR_INVALID = "second_factor_invalid"
    SECOND_FACTOR_NOT_ENROLLED = "second_factor_not_enrolled"
    SESSION_REPLACED = "session_replaced"
    RESTRICTED = "restricted"
    RESTRICTION_ALERT_UNACKNOWLEDGED = "restriction_alert_unacknowledged"  # 抑止(証明書交付) アラート not yet acknowledged
    SUPPORT_MEASURE_PROTECTED = "support_measure_protected"
    SUPPORT_MEASURE_BLOCK = "support_measure_block"
    PROTECTION_STATE = "protection_state"
    CERTIFICATE_NOT_ENTITLED = "certificate_not_entitled"
    CERTIFICATE_REQUEST_INCOMPLETE = "certificate_request_incomplete"
    CERTIFICATE_VOIDED = "certificate_voided"
    SEAL_STATE = "seal_state"  # 印鑑登録: not registered, already registered, already abolished …
    SEAL_IMAGE_INVALID = "seal_image_invalid"
    CARD_STATE = "card_state"  # 市民カード: suspended, abolished, not linked …
    CARD_PIN_WRONG = "card_pin_wrong"
    CARD_LOCKED = "card_locked"
    KIOSK_DEVICE = "kiosk_device"  # the kiosk's device credential is missing, wrong or stopped
    KIOSK_SETUP_THROTTLED = "kiosk_setup_throttled"  # 429: too many wrong secrets on the setup screen
    CONFLICT = "conflict"
    NOT_FOUND = "not_found"
    UNKNOWN_DESTINATION = "unknown_destination"  # not a registered 連携先 (accounts.destinations)
    PERMISSION_DENIED = "permission_denied"
    NOT_AUTHENTICATED = "not_authenticated"
    TOKEN_TERMINAL_MISMATCH = "token_terminal_mismatch"  # 401: an API token used from another terminal (C01)
    UNGATED_ACCESS = "ungated_access"
    # Robustness (issue 11): bodies past the limits, and a database that cannot store anything.
    REQUEST_TOO_LARGE = "request_too_large"  # 413
    JSON_TOO_DEEP = "json_too_deep"  # 400
    STORAGE_UNAVAILABLE = "storage_unavailable"  # 503: disk full or database read-only
    DATABASE_UNAVAILABLE = "database_unavailable"  # 503: the database restarting, failing over or unreachable


class DomainError(Exception):
    """A rule of the register refused the request; nothing was written."""

    status = 400

    def __init__(self, code: ErrorCode, message: str, *, field: str | None = None, details: dict | None = None,
                 errors: dict | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field = field
        self.details = details or {}
        # Input that does not have its shape: the messages by item, as a serializer gives them
        # (the API's problem+json `errors`, the one shape of validation errors on every endpoint).
        self.errors = errors or {}

    def nested_under(self, name: str) -> "DomainError":
        """The same refusal with its item errors under `name`: the input was the `name` item of a body."""
        if self.errors:
            self.errors = {name: self.errors}
        return self


class ConflictError(DomainError):
    status = 409

    def __init__(self, message: str = "他の職員が同じ世帯または住民の記録を先に更新しました。最新の内容を確認してから、もう一度入力してください。", **kw):
        super().__init__(ErrorCode.CONFLICT, message, **kw)


class NotFoundError(DomainError):
    status = 404

    def __init__(self, message: str = "該当する記録がありません。", **kw):
        super().__init__(ErrorCode.NOT_FOUND, message, **kw)


class AccessDenied(DomainError):
    status = 403

    def __init__(self, message: str = "この操作を行う権限がありません。", **kw):
        super().__init__(ErrorCode.PERMISSION_DENIED, message, **kw)


def required_text(value: str, field: str, label: str, max_length: int) -> str:
    """A text the user must enter, stripped; 「…を入力してください。」 or 「…は N 文字以内で…」 otherwise (never cut)."""
    value = (value or "").strip()
    if not value:
        raise DomainError(ErrorCode.INVALID_INPUT, f"{label}を入力してください。", field=field)
    if len(value) > max_length:
        raise DomainError(ErrorCode.INVALID_INPUT, f"{label}は{max_length}文字以内で入力してください。", field=field)
    return value


class FontMissing(RuntimeError):
    """A font file is not installed: a deployment problem, said in both languages with the Debian
    package to install (the `juki` command prints it without a traceback)."""

    def __init__(self, path: str, package: str):
        super().__init__(f"フォント {path} がありません。Debianのパッケージ {package} を入れてください"
                         f"（apt-get install {package}）。 / Font {path} not found: install the Debian package {package}.")
        self.path, self.package = path, package
