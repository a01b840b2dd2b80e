"""The CS's own key rotation (`juki cs rekey`, issue 18): its sealed columns move to the active key."""
import pytest

from juki.core import mynumber, rekey
from juki.cs.models import IdentityVersion, Recipient
from juki.cs.services import rekey_stores

from .test_file2 import code
from .test_retention import NUMBER, number_recorded

pytestmark = pytest.mark.django_db(databases=["default", "cs"])


def test_the_cs_re_seals_its_numbers_and_its_file_3_records_under_the_active_key(settings):
    keys = dict(part.split(":", 1) for part in settings.JUKI_MYNUMBER_KEYS.split(","))
    settings.JUKI_MYNUMBER_KEYS = f"t1:{keys['t1']}"
    number_recorded(code(), "9-9-1")
    assert Recipient.objects.count() == 1
    settings.JUKI_MYNUMBER_KEYS = f"t2:{keys['t2']},t1:{keys['t1']}"

    done = rekey.rekey(rekey_stores(), using="cs")

    assert done["cs_identityversion"] == 1 and done["cs_recipient"] == 1
    assert {t: set(c) for t, c in rekey.status(rekey_stores(), using="cs").items() if c} == {
        "cs_identityversion": {"t2"}, "cs_recipient": {"t2"}}
    settings.JUKI_MYNUMBER_KEYS = f"t2:{keys['t2']}"
    version = IdentityVersion.objects.exclude(my_number_cipher=None).get()
    assert mynumber.unseal(version.my_number_key_id, bytes(version.my_number_cipher)) == NUMBER
    record = Recipient.objects.get()
    assert NUMBER in mynumber.unseal_values(record.key_id, bytes(record.cipher))[0]
    assert rekey.rekey(rekey_stores(), using="cs") == dict.fromkeys(done, 0)
