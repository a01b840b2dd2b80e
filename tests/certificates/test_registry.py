"""The forms that issue or reissue differently are registered by their apps at start-up (no dotted
strings): the kept forms by certificates, the 印鑑登録証明書's reissue by seals."""
from juki.certificates import code_notice, move_out, registry
from juki.seals import services as seals


def test_the_kept_forms_and_the_seal_reissue_are_registered():
    assert set(registry.SNAPSHOT_FORMS) == {move_out.FORM, code_notice.FORM}
    assert registry.SNAPSHOT_FORMS[move_out.FORM].render is move_out.render
    assert registry.SNAPSHOT_FORMS[move_out.FORM].replaces and not registry.SNAPSHOT_FORMS[code_notice.FORM].replaces
    assert registry.REISSUERS == {seals.SEAL_CERT: seals.seal_certificate_reissue}


def test_a_form_registered_twice_with_another_entry_is_refused():
    entry = registry.SNAPSHOT_FORMS[move_out.FORM]
    registry.register_snapshot_form(move_out.FORM, entry)  # the same entry again (ready() run twice): fine
    try:
        registry.register_snapshot_form(move_out.FORM, registry.SnapshotForm(render=print, recheck=print))
    except ValueError as exc:
        assert "registered twice" in str(exc)
    else:
        raise AssertionError("a second, different entry for the form was accepted")
    assert registry.SNAPSHOT_FORMS[move_out.FORM] is entry
