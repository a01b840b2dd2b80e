import pytest
from django.test import override_settings

from juki.core import mynumber
from juki.core.errors import DomainError, ErrorCode

NUMBER = "123456789018"


def test_seal_and_unseal_round_trip():
    sealed = mynumber.seal(NUMBER)
    assert NUMBER.encode() not in sealed.ciphertext
    assert mynumber.unseal(sealed.key_id, sealed.ciphertext) == NUMBER


def test_same_number_gives_same_digest_but_different_ciphertexts():
    a, b = mynumber.seal(NUMBER), mynumber.seal(NUMBER)
    assert a.digest == b.digest
    assert a.ciphertext != b.ciphertext  # random nonce per seal


def test_invalid_number_is_refused_without_echoing_it():
    with pytest.raises(DomainError) as err:
        mynumber.seal("123456789012")
    assert err.value.code == ErrorCode.INVALID_MY_NUMBER
    assert "123456789012" not in str(err.value)


def test_key_rotation_old_key_still_decrypts(settings):
    old = mynumber.seal(NUMBER)
    first, second = settings.JUKI_MYNUMBER_KEYS.split(",")
    new_kid = "k9"
    import base64
    import os

    rotated = f"{new_kid}:{base64.b64encode(os.urandom(32)).decode()},{first},{second}"
    with override_settings(JUKI_MYNUMBER_KEYS=rotated):
        fresh = mynumber.seal(NUMBER)
        assert fresh.key_id == new_kid
        assert mynumber.unseal(old.key_id, old.ciphertext) == NUMBER


def test_tampered_ciphertext_is_rejected():
    sealed = mynumber.seal(NUMBER)
    broken = bytearray(sealed.ciphertext)
    broken[-1] ^= 1
    from cryptography.exceptions import InvalidTag

    with pytest.raises(InvalidTag):
        mynumber.unseal(sealed.key_id, bytes(broken))


def test_mask():
    assert mynumber.mask(NUMBER) == "********9018"
