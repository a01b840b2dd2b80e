"""Every form refuses an unknown 交付の方法 (channel), whichever service issues it: the rule is
certificates.services.require_channel, checked again by record_issue."""
import datetime as dt

from juki.certificates import code_notice, move_out
from juki.certificates.models import CertificateIssue
from juki.core.errors import ErrorCode
from juki.register.services import changes
from tests.conftest import TODAY
from tests.helpers import refused
from tests.register.helpers import ref


def test_the_notice_and_the_move_out_certificate_refuse_an_unknown_channel(world, sup_actor, fam):
    error = refused(ErrorCode.INVALID_INPUT, code_notice.resident_code_notice_issue, actor=world,
                    person_id=fam["child"], channel="bogus")
    assert (error.field, error.message) == ("channel", "交付の方法が正しくありません。")
    moved = changes.move_out(actor=world, event_date=TODAY + dt.timedelta(days=5), notified_on=TODAY,
                             persons=[ref(fam["head"])], destination_address="福岡県福岡市中央区天神一丁目1番1号")
    error = refused(ErrorCode.INVALID_INPUT, move_out.move_out_certificate_issue, actor=sup_actor,
                    change_id=moved.change_id, channel="bogus")
    assert error.field == "channel"
    assert not CertificateIssue.objects.exists()
    # The same calls with a real channel issue (the refusal above was the channel's, nothing else).
    assert code_notice.resident_code_notice_issue(actor=world, person_id=fam["child"]).issue.channel == "counter"

