"""Finding 14: someone else's private canned reply is not readable by id. Finding 16: /sandbox/ is for admins."""

import pytest
from django.urls import reverse

from inbox.models import CannedResponse


def test_another_users_private_reply_is_not_shown_back(logged_in, agent, other_agent):
    secret = CannedResponse.objects.create(shortcut="secret", body="Vikram's private pricing note", owner=other_agent)
    client = logged_in(agent)
    response = client.post(reverse("outbound:canned"), {"pk": secret.pk, "shortcut": "x", "body": "y"})
    assert response.status_code == 404 and b"private pricing" not in response.content
    assert client.get(reverse("outbound:canned"), {"edit": secret.pk}).status_code == 404
    response = client.post(reverse("outbound:canned"), {"pk": secret.pk, "delete": "1"})
    assert response.status_code == 404 and CannedResponse.objects.filter(pk=secret.pk).exists()


def test_a_shared_reply_refused_to_an_agent_may_be_shown(logged_in, agent):
    shared = CannedResponse.objects.create(shortcut="thanks", body="Thank you!", owner=None)
    response = logged_in(agent).post(reverse("outbound:canned"), {"pk": shared.pk, "shortcut": "thanks", "body": "changed"})
    assert response.status_code == 200 and b"cannot change" in response.content
    shared.refresh_from_db()
    assert shared.body == "Thank you!"


@pytest.mark.parametrize("user", ["agent", "supervisor"])
def test_sandbox_customer_page_is_for_admins_only(logged_in, request, user, settings):
    settings.SANDBOX_ENABLED = True
    client = logged_in(request.getfixturevalue(user))
    assert client.get(reverse("sandbox:customer")).status_code == 403
    assert client.post(reverse("sandbox:send"), {"phone": "+919812345678", "text": "hi"}).status_code == 403


def test_sandbox_customer_page_works_for_admins(logged_in, admin_user, settings):
    settings.SANDBOX_ENABLED = True
    assert logged_in(admin_user).get(reverse("sandbox:customer")).status_code == 200
