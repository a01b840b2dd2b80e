"""Who may open the screens of issue 15 (a refusal is the 403 screen), and what they answer to input they
cannot take: a Japanese message at the form, never a trace, never the PIN shown back."""
import pytest

from ..conftest import counter_client


@pytest.mark.parametrize("path,who", [
    ("/jukinet/special-move-in/", "viewer"),  # change.move_in
    ("/jukinet/special-move-in/0123456789abcdef/", "viewer"),
    ("/jukinet/wide-area/", "viewer"),  # certificate.issue
    ("/jukinet/wide-area/0123456789abcdef/", "viewer"),
    ("/jukinet/received/", "clerk"),  # jukinet.operate
    ("/jukinet/received/1/immigration/", "clerk"),
])
def test_each_screen_refuses_a_user_without_its_right(request, terminal, path, who):
    response = counter_client(request.getfixturevalue(who), terminal).get(path)
    assert response.status_code == 403 and "権限がありません" in response.content.decode()


def test_input_the_special_move_in_cannot_take_is_said_at_the_form(clerk, terminal, settings, tmp_path):
    settings.JUKI_NETWORK_DIR = tmp_path  # no CS runs here
    client = counter_client(clerk, terminal)
    body = client.post("/jukinet/special-move-in/", {"card_number": "12", "pin": "12345"}).content.decode()
    assert "4文字以下" in body or "4 文字以下" in body  # the PIN has four digits
    assert 'value="12345"' not in body  # the PIN is never shown back
    response = client.post("/jukinet/special-move-in/", {"card_number": "123456789012", "pin": "1234"})
    assert response.status_code == 200 and "市町村CSに接続できません" in response.content.decode()
    response = client.post("/jukinet/special-move-in/", {"mode": "paper", "paper-municipality": "401005",
                                                         "paper-resident_code": "12345678901",
                                                         "paper-birth_date": "1985-04-01"})
    assert "住民票コードが正しくありません" in response.content.decode()
