"""Who hears what over the websocket: an agent never receives another team's conversation."""

import pytest
import asyncio
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from core.consumers import EventsConsumer
from inbox import services
from tests.inbox.ui_helpers import conversation_for, message_in

pytestmark = pytest.mark.django_db(transaction=True)


def run_async(scenario, *args):
    """On a thread of its own: the main thread may already run an event loop (Playwright's)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, scenario(*args)).result(timeout=60)


async def connect(user):
    communicator = WebsocketCommunicator(EventsConsumer.as_asgi(), "/ws/events/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from())["event"] == "hello"
    return communicator


async def events_of(communicator, wait=0.3) -> list[dict]:
    received = []
    # receive_nothing, not a timed-out receive: a timeout would cancel the consumer.
    while not await communicator.receive_nothing(timeout=wait):
        received.append(await communicator.receive_json_from())
    return received


def test_agent_socket_never_receives_another_teams_conversation(agent, other_agent, supervisor, sales_team, support_team):
    run_async(_never_another_team, agent, other_agent, supervisor, sales_team)


async def _never_another_team(agent, other_agent, supervisor, sales_team):
    rahul, vikram, priya = await connect(agent), await connect(other_agent), await connect(supervisor)
    sales = await sync_to_async(conversation_for)(team=sales_team)
    await sync_to_async(message_in)(sales, "Sales only")
    await sync_to_async(services.add_private_note)(sales, author=agent, body="internal")
    await sync_to_async(services.set_status)(sales, "pending", by=agent)

    heard_by_rahul = await events_of(rahul)
    assert {e["event"] for e in heard_by_rahul} >= {"message.created", "conversation.updated"}
    assert {e["payload"]["conversation"] for e in heard_by_rahul} == {sales.pk}
    assert await events_of(vikram) == []
    assert {e["payload"]["conversation"] for e in await events_of(priya)} == {sales.pk}
    for communicator in (rahul, vikram, priya):
        await communicator.disconnect()


def test_moving_a_conversation_tells_the_old_team_it_left_and_the_new_team_it_arrived(agent, other_agent, sales_team, support_team):
    run_async(_moving, agent, other_agent, sales_team, support_team)


async def _moving(agent, other_agent, sales_team, support_team):
    sales = await sync_to_async(conversation_for)(team=sales_team)
    rahul, vikram = await connect(agent), await connect(other_agent)
    await sync_to_async(services.assign_to_team)(sales, support_team, by=agent)
    left = [e for e in await events_of(rahul) if e["event"] == "conversation.updated"]
    arrived = [e for e in await events_of(vikram) if e["event"] == "conversation.updated"]
    assert left and left[-1]["payload"]["team"] == support_team.pk
    assert arrived and arrived[-1]["payload"]["team"] == support_team.pk
    # From now on only Support hears about it.
    await sync_to_async(services.add_private_note)(sales, author=other_agent, body="now Support's")
    await sync_to_async(services.set_status)(sales, "pending", by=other_agent)
    assert await events_of(rahul) == []
    assert await events_of(vikram)
    await rahul.disconnect()
    await vikram.disconnect()


def test_relaying_an_event_does_not_queue_work_on_djangos_sync_thread(agent, sales_team, monkeypatch):
    """Channels' dispatch closes stale database connections (a hop to the thread that runs the
    webhooks) before every message a consumer handles; events reach sockets through the process
    relay instead, which never touches the database."""
    hops = []

    async def counted_close():
        hops.append(1)

    monkeypatch.setattr("channels.consumer.aclose_old_connections", counted_close)
    assert run_async(_relay_only, agent, sales_team, hops) == 0


async def _relay_only(agent, sales_team, hops):
    rahul = await connect(agent)
    before = len(hops)
    sales = await sync_to_async(conversation_for)(team=sales_team)
    for body in ("Call her back", "She called", "Done"):
        await sync_to_async(services.add_private_note)(sales, author=agent, body=body)
    assert [e["event"] for e in await events_of(rahul)].count("message.created") == 3
    relay_hops = len(hops) - before
    await rahul.disconnect()
    return relay_hops
