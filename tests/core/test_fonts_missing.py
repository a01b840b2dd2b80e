"""issue 13: a missing font is a deployment problem said plainly (which Debian package), never a
traceback from deep inside ReportLab or Pillow."""
from __future__ import annotations

import pytest

from juki import cli
from juki.core import pdf
from juki.core.errors import FontMissing
from juki.seals import demo


@pytest.fixture
def no_mincho(monkeypatch):
    monkeypatch.setitem(pdf.FONT_FILES, pdf.MINCHO, "/nonexistent/ipaexm.ttf")
    pdf.register_fonts.cache_clear()
    yield
    pdf.register_fonts.cache_clear()


def test_pdf_and_seal_image_name_the_package(no_mincho):
    for call in (pdf.register_fonts, lambda: demo.seal_image("青木")):
        with pytest.raises(FontMissing) as missing:
            call()
        assert missing.value.package == "fonts-ipaexfont" and missing.value.path == "/nonexistent/ipaexm.ttf"
        assert "Debianのパッケージ fonts-ipaexfont を入れてください" in str(missing.value)
        assert "install the Debian package fonts-ipaexfont" in str(missing.value)


def test_the_juki_command_prints_the_message_without_a_traceback(monkeypatch, capsys):
    def fail(argv):
        raise FontMissing("/nonexistent/ipaexm.ttf", "fonts-ipaexfont")

    monkeypatch.setattr("django.core.management.execute_from_command_line", fail)
    with pytest.raises(SystemExit) as ended:
        cli.main(["juki", "demo-setup"])
    assert ended.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("juki: フォント /nonexistent/ipaexm.ttf がありません。") and "Traceback" not in err
