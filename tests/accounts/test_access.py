import pytest

from accounts.models import Role
from accounts.selectors import assignable_users, can_access_admin, can_manage_contacts_in_bulk
from tests.factories import ContactFactory, UserFactory


def test_everything_is_behind_login(client, db):
    for url in ["/", "/contacts/", "/contacts/new/", "/contacts/import/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url


def test_login_page_and_bad_password_message(client, agent):
    assert client.get("/accounts/login/").status_code == 200
    response = client.post("/accounts/login/", {"username": "rahul", "password": "wrong"})
    assert b"do not match" in response.content


def test_login_then_logout(client, agent, password):
    response = client.post("/accounts/login/", {"username": "rahul", "password": password})
    assert response.status_code == 302
    assert client.get("/contacts/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/contacts/").status_code == 302


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
def test_non_admins_cannot_reach_django_admin(logged_in, db, role):
    client = logged_in(UserFactory(role=role))
    response = client.get("/admin/contacts/contact/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_admin_reaches_django_admin(logged_in, admin_user):
    assert logged_in(admin_user).get("/admin/contacts/contact/").status_code == 200


def test_role_is_the_source_of_truth_for_admin_flags(db):
    user = UserFactory(role=Role.ADMIN)
    assert user.is_staff and user.is_superuser
    user.role = Role.AGENT
    user.save()
    assert not user.is_staff and not user.is_superuser


def test_createsuperuser_makes_an_admin(db):
    from accounts.models import User

    user = User.objects.create_superuser("root", "r@example.in", "x")
    assert user.role == Role.ADMIN and user.is_superuser


def test_role_rules(agent, teammate, other_agent, supervisor, admin_user):
    assert not can_access_admin(agent) and not can_access_admin(supervisor) and can_access_admin(admin_user)
    assert not can_manage_contacts_in_bulk(agent) and can_manage_contacts_in_bulk(supervisor)
    assert set(assignable_users(agent)) == {agent, teammate}
    assert other_agent in assignable_users(supervisor)


def test_navigation_shows_admin_only_to_admins(logged_in, agent, admin_user):
    assert b">Admin<" not in logged_in(agent).get("/contacts/").content
    assert b">Admin<" in logged_in(admin_user).get("/contacts/").content


def test_agent_pages_for_bulk_actions_are_forbidden(logged_in, agent):
    client = logged_in(agent)
    contact = ContactFactory()
    assert client.get("/contacts/import/").status_code == 403
    assert client.get("/contacts/export.csv").status_code == 403
    assert client.get(f"/contacts/{contact.pk}/merge/").status_code == 403
    assert client.post(f"/contacts/{contact.pk}/delete/").status_code == 403
