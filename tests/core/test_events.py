import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from accounts.selectors import AGENTS_GROUP, STAFF_GROUP, realtime_groups, team_group, user_group
from core.consumers import EventsConsumer
from core.events import publish
from core.relay import process_relay


def _communicator(user):
    communicator = WebsocketCommunicator(EventsConsumer.as_asgi(), "/ws/events/")
    communicator.scope["user"] = user
    return communicator


@pytest.mark.django_db(transaction=True)
def test_publish_waits_for_commit_and_is_dropped_on_rollback(agent):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(user_group(agent.pk), channel)
    try:
        with transaction.atomic():
            publish("contact.updated", {"id": 1}, [user_group(agent.pk)])
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    with transaction.atomic():
        publish("contact.updated", {"id": 2}, [user_group(agent.pk)])
    message = async_to_sync(layer.receive)(channel)
    assert message["event"] == "contact.updated" and json.loads(message["text"])["payload"] == {"id": 2}


def test_groups_follow_role_and_teams(agent, supervisor, sales_team):
    assert realtime_groups(agent) == [user_group(agent.pk), AGENTS_GROUP, team_group(sales_team.pk)]
    assert STAFF_GROUP in realtime_groups(supervisor)
    assert STAFF_GROUP not in realtime_groups(agent)


@pytest.mark.django_db(transaction=True)
def test_anonymous_websocket_is_refused():
    async def run():
        communicator = _communicator(AnonymousUser())
        connected, code = await communicator.connect()
        assert not connected and code == 4401

    async_to_sync(run)()


@pytest.mark.django_db(transaction=True)
def test_agent_hears_own_team_once_and_never_another_team(agent, other_agent, sales_team, support_team):
    async def run():
        communicator = _communicator(agent)
        connected, _ = await communicator.connect()
        assert connected
        assert (await communicator.receive_json_from())["event"] == "hello"

        def fire():
            with transaction.atomic():
                publish("conversation.updated", {"id": 9}, [team_group(support_team.pk)])
                # The agent is in both groups: one delivery, not two.
                publish("conversation.updated", {"id": 7}, [team_group(sales_team.pk), user_group(agent.pk)])

        await database_sync_to_async(fire)()
        event = await communicator.receive_json_from(timeout=2)
        assert event["payload"] == {"id": 7}
        assert await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()

    async_to_sync(run)()


@pytest.mark.django_db(transaction=True)
def test_a_socket_renews_its_group_memberships_on_pings_and_is_told_to_refetch_after_a_long_silence(agent, monkeypatch):
    """Memberships expire so that sockets of a dead server leave the groups; a live one renews them."""
    clock = [1000.0]
    monkeypatch.setattr("core.relay.monotonic", lambda: clock[0])
    layer = get_channel_layer()
    monkeypatch.setattr("core.relay._layer_for_this_loop", lambda: layer)  # the instance patched below
    expiry = layer.group_expiry
    joined = []
    real_group_add = layer.group_add

    async def recording_group_add(group, channel):
        joined.append(group)
        await real_group_add(group, channel)

    monkeypatch.setattr(layer, "group_add", recording_group_add)

    async def run():
        communicator = _communicator(agent)
        await communicator.connect()
        assert (await communicator.receive_json_from())["event"] == "hello"
        groups = list(joined)
        assert groups == realtime_groups(agent)

        clock[0] += 25  # a ping soon after joining renews nothing
        await communicator.send_json_to({"type": "ping"})
        assert (await communicator.receive_json_from())["event"] == "pong"
        assert joined == groups

        clock[0] += expiry / 2  # well before expiry: renewed, nothing missed
        await communicator.send_json_to({"type": "ping"})
        assert (await communicator.receive_json_from())["event"] == "pong"
        assert joined == groups * 2

        clock[0] += expiry + 1  # silent for longer than memberships last: renew, and refetch
        await communicator.send_json_to({"type": "ping"})
        assert (await communicator.receive_json_from())["event"] == "resync"
        assert (await communicator.receive_json_from())["event"] == "pong"
        assert joined == groups * 3
        await communicator.disconnect()

    async_to_sync(run)()


@pytest.mark.django_db(transaction=True)
def test_the_sockets_of_a_process_share_one_channel_which_leaves_the_groups_with_the_last_socket(agent, teammate, sales_team):
    async def run():
        rahul, meera = _communicator(agent), _communicator(teammate)
        for communicator in (rahul, meera):
            await communicator.connect()
            assert (await communicator.receive_json_from())["event"] == "hello"
        relay = process_relay()
        assert len(relay.sockets[team_group(sales_team.pk)]) == 2

        def fire():
            with transaction.atomic():
                publish("conversation.updated", {"id": 3}, [team_group(sales_team.pk)])

        await database_sync_to_async(fire)()
        for communicator in (rahul, meera):
            assert (await communicator.receive_json_from(timeout=2))["payload"] == {"id": 3}
            assert await communicator.receive_nothing(timeout=0.2)
        await rahul.disconnect()
        assert relay.reader is not None and len(relay.sockets[team_group(sales_team.pk)]) == 1
        await meera.disconnect()
        assert relay.reader is None and not relay.sockets

    async_to_sync(run)()


@pytest.mark.django_db(transaction=True)
def test_after_the_layer_fails_the_relay_keeps_reading_and_the_next_ping_asks_for_a_refetch(agent, monkeypatch):
    monkeypatch.setattr("core.relay.READ_RETRY_SECONDS", 0.01)
    layer = get_channel_layer()
    monkeypatch.setattr("core.relay._layer_for_this_loop", lambda: layer)  # the instance patched below
    real_receive = layer.receive
    failures = [ConnectionError("redis is down")]

    async def flaky_receive(channel):
        if failures:
            raise failures.pop()
        return await real_receive(channel)

    monkeypatch.setattr(layer, "receive", flaky_receive)

    async def run():
        communicator = _communicator(agent)
        await communicator.connect()
        assert (await communicator.receive_json_from())["event"] == "hello"
        await communicator.send_json_to({"type": "ping"})
        assert (await communicator.receive_json_from())["event"] == "resync"
        assert (await communicator.receive_json_from())["event"] == "pong"

        def fire():
            with transaction.atomic():
                publish("conversation.updated", {"id": 5}, [user_group(agent.pk)])

        await database_sync_to_async(fire)()
        assert (await communicator.receive_json_from(timeout=2))["payload"] == {"id": 5}
        await communicator.disconnect()

    async_to_sync(run)()


@pytest.mark.django_db(transaction=True)
def test_a_batch_sends_its_committed_events_together_when_it_ends_and_never_a_rolled_back_one(monkeypatch):
    from core import events

    sent = []
    monkeypatch.setattr(events, "_send_all", lambda messages: sent.append([json.loads(m["text"])["payload"]["id"] for m in messages]))
    with events.sent_together():
        with transaction.atomic():
            publish("message.created", {"id": 1}, [STAFF_GROUP])
            try:
                with transaction.atomic():  # a poison event's savepoint
                    publish("message.created", {"id": 2}, [STAFF_GROUP])
                    raise RuntimeError("rolled back")
            except RuntimeError:
                pass
            publish("message.created", {"id": 3}, [STAFF_GROUP])
        assert sent == []  # committed, held until the batch ends
    assert sent == [[1, 3]]
