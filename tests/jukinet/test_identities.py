"""S2's read of FILE-2 (selectors.linked_identities): only the 住基ネット連携's actor, one logged read."""
import pytest

from juki.audit.gate import Actor
from juki.core.errors import AccessDenied, ErrorCode
from juki.register import selectors

from ..conftest import move_in_family, person_input
from ..helpers import last_log
from ..register.helpers import ids

NUMBER = "123456789018"


def test_s2_reads_each_versions_identity_with_its_my_number_and_the_read_is_logged(world):
    head = ids(move_in_family(world, members=[person_input(my_number=NUMBER)]))[0]
    linked = selectors.linked_identities(actor=Actor.system_actor("jukinet"), versions=[(head, 1), (head, 9)])
    assert list(linked) == [(head, 1)]  # a version that does not exist is simply not there
    item = linked[(head, 1)]
    assert item.my_number == NUMBER and item.identity.resident_code and item.identity.address.endswith("城内1番1号")
    assert item.operator == world.user.username and item.terminal == world.terminal.code
    row = last_log("jukinet.identities")
    assert row.system == "jukinet" and row.my_number_accessed and row.outcome == "ok"
    assert NUMBER not in str(row.criteria)


@pytest.mark.parametrize("who", ["atena", "intermediary", "tax"])
def test_no_other_destination_may_read_file_2(world, who):
    head = ids(move_in_family(world))[0]
    with pytest.raises(AccessDenied) as refused:
        selectors.linked_identities(actor=Actor.system_actor(who), versions=[(head, 1)])
    assert refused.value.code == ErrorCode.PERMISSION_DENIED
    assert last_log("jukinet.identities").outcome == "denied"


def test_a_clerk_may_not_either(world, actor):
    head = ids(move_in_family(world))[0]
    with pytest.raises(AccessDenied) as refused:
        selectors.linked_identities(actor=actor, versions=[(head, 1)])
    assert refused.value.code == ErrorCode.PERMISSION_DENIED


def test_only_jukinet_may_write_back_what_the_network_sends(world):
    from juki.register.services import inbound

    head = ids(move_in_family(world))[0]
    code = selectors.linked_identities(actor=Actor.system_actor("jukinet"), versions=[(head, 1)])[(head, 1)]
    for who in (Actor.system_actor("atena"), world):
        with pytest.raises(AccessDenied) as refused:
            inbound.my_number_from_jlis(actor=who, person_id=head, resident_code=code.identity.resident_code,
                                        my_number=NUMBER, kind="entry")
        assert refused.value.code == ErrorCode.PERMISSION_DENIED
        with pytest.raises(AccessDenied):
            inbound.add_resident_codes(actor=who, codes=[code.identity.resident_code])


def test_a_number_for_another_resident_code_and_bad_stock_codes_are_refused(world):
    from juki.core.errors import DomainError
    from juki.register.services import inbound

    head = ids(move_in_family(world))[0]
    jukinet = Actor.system_actor("jukinet")
    with pytest.raises(DomainError) as refused:
        inbound.my_number_from_jlis(actor=jukinet, person_id=head, resident_code="12345678906", my_number=NUMBER,
                                    kind="entry")
    assert refused.value.code == ErrorCode.INVALID_RESIDENT_CODE
    with pytest.raises(DomainError) as refused:
        inbound.add_resident_codes(actor=jukinet, codes=["12345678900"])
    assert refused.value.code == ErrorCode.INVALID_RESIDENT_CODE
    result = inbound.my_number_from_jlis(
        actor=jukinet, person_id=head, my_number=NUMBER, kind="entry",
        resident_code=selectors.linked_identities(actor=jukinet, versions=[(head, 1)])[(head, 1)].identity.resident_code)
    assert result.change_id
    with pytest.raises(DomainError) as again:  # a retry after a crash: already recorded
        inbound.my_number_from_jlis(actor=jukinet, person_id=head, my_number=NUMBER, kind="entry",
                                    resident_code=selectors.linked_identities(
                                        actor=jukinet, versions=[(head, 2)])[(head, 2)].identity.resident_code)
    assert again.value.code == ErrorCode.NOTHING_CHANGED


def test_what_s2_hands_to_the_cs_is_a_provision_in_the_disclosure_report(world, auditor, terminal):
    from juki.oversight import disclosure

    head = ids(move_in_family(world, members=[person_input(my_number=NUMBER)]))[0]
    selectors.linked_identities(actor=Actor.system_actor("jukinet"), versions=[(head, 1)])
    row = last_log("jukinet.identities")
    assert row.category == "provision" and "my_number" in row.criteria["items"] and "address" in row.criteria["items"]
    data = disclosure.disclosure_data(Actor(user=auditor, terminal=terminal), head)
    (provision,) = [p for p in data["provisions"] if p["destination"].startswith("市町村CS")]
    assert provision["content"].startswith("本人確認情報の通知（住民票コード・氏名") and "個人番号" in provision["content"]
    assert NUMBER not in str(data)


def test_the_change_request_screen_asks_for_a_reason_and_records_the_request(world, clerk, terminal, viewer):
    from juki.jukinet.models import NumberRequest

    from ..conftest import counter_client

    head = ids(move_in_family(world, members=[person_input(my_number=NUMBER)]))[0]
    client = counter_client(clerk, terminal)
    page = client.get(f"/counter/persons/{head}/").content.decode()
    assert f"/jukinet/persons/{head}/my-number-change/" in page
    form = client.get(f"/jukinet/persons/{head}/my-number-change/").content.decode()
    assert "変更請求の理由" in form and "青木" in form
    refused = client.post(f"/jukinet/persons/{head}/my-number-change/", {"note": " "})
    assert refused.status_code == 400 and "変更請求の理由" in refused.content.decode()
    assert not NumberRequest.objects.exists()
    done = client.post(f"/jukinet/persons/{head}/my-number-change/", {"note": "漏えいのおそれ"})
    assert done.status_code == 200 and "変更請求を受け付けました" in done.content.decode()
    assert NumberRequest.objects.get().kind == "change_request"
    denied = counter_client(viewer, terminal).get(f"/jukinet/persons/{head}/my-number-change/")
    assert denied.status_code == 403



def test_a_change_request_needs_a_recorded_number(world):
    from juki.core.errors import DomainError
    from juki.jukinet import operations

    head = ids(move_in_family(world))[0]  # recorded without a 個人番号
    with pytest.raises(DomainError) as refused:
        operations.my_number_change_request(actor=world, person_id=head, note="漏えいのおそれ")
    assert refused.value.code == ErrorCode.MY_NUMBER_NOT_RECORDED
