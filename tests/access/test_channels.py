"""Finding 11: agents never see webhook URLs; a channel without a partner token refuses posts unless
an admin explicitly accepts unsigned ones."""

from inbox.models import Message, WebhookEvent
from tests.inbox.tata_payloads import fixture_bytes, make_channel, post_raw


def test_agents_and_supervisors_see_no_webhook_url(api, agent, supervisor, admin_user):
    channel = make_channel()
    for user in (agent, supervisor):
        rows = api(user).get("/api/channels/").json()
        assert rows and all("webhook_url" not in row for row in rows)
        assert channel.webhook_token not in api(user).get(f"/api/channels/{channel.pk}/").content.decode()
    assert api(admin_user).get("/api/channels/").json()[0]["webhook_url"] == channel.webhook_url


def test_a_channel_without_partner_token_refuses_unsigned_posts(client, django_capture_on_commit_callbacks, db):
    channel = make_channel(partner_token="")
    with django_capture_on_commit_callbacks(execute=True):
        response = post_raw(client, channel, fixture_bytes("wa_in_text.json"), signature=None)
    assert response.status_code == 403 and "no partner token" in response.json()["detail"]
    assert Message.objects.count() == 0 and WebhookEvent.objects.get().status == WebhookEvent.Status.REJECTED


def test_only_admins_allow_unsigned_posts(api, agent, admin_user):
    channel = make_channel(partner_token="")
    assert api(agent).patch(f"/api/channels/{channel.pk}/", {"accept_unsigned_posts": True}, format="json").status_code == 403
    response = api(admin_user).patch(f"/api/channels/{channel.pk}/", {"accept_unsigned_posts": True}, format="json")
    assert response.status_code == 200 and response.json()["accept_unsigned_posts"] is True
