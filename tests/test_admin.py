from django.test import Client

from juki.accounts.services import generate_password, staff_create


def _login(role, name):
    password = generate_password()
    user = staff_create(username=name, password=password, role=role)
    user.is_staff = True
    user.save()
    client = Client()
    assert client.login(username=name, password=password)
    return client


def test_master_data_admin_edits_the_dictionary(towns):
    admin = _login("admin", "master1")
    page = admin.get("/admin/register/town/?q=城内")
    assert page.status_code == 200 and "城内" in page.content.decode()
    assert admin.get("/admin/register/town/add/").status_code == 200
    assert admin.get("/admin/").status_code == 200


def test_clerk_cannot_edit_master_data_and_no_resident_admin_exists(towns):
    clerk = _login("clerk", "clerk9")
    assert clerk.get("/admin/register/town/").status_code == 403
    admin = _login("admin", "master2")
    assert admin.get("/admin/register/person/").status_code == 404
    assert admin.get("/admin/register/personversion/").status_code == 404
