"""Finding 17: a socket's groups follow the user's teams, role and account while it is open."""

import pytest
from asgiref.sync import sync_to_async

from accounts.models import Team
from core import consumers
from tests.inbox.test_live import connect, run_async
from tests.inbox.test_live import events_of as _events_of
from inbox import events as inbox_events
from tests.inbox.ui_helpers import conversation_for, message_in


pytestmark = pytest.mark.django_db(transaction=True)


async def events_of(communicator):
    """A recheck reads the database on a thread: give it time on a busy machine."""
    return await _events_of(communicator, wait=1.5)


async def message(conversation, body):
    created = await sync_to_async(message_in)(conversation, body)
    await sync_to_async(inbox_events.message_created)(created)


def test_an_agent_removed_from_a_team_stops_hearing_it_and_hears_the_new_one(agent, sales_team, support_team):
    run_async(_moved_between_teams, agent, sales_team, support_team)


async def _moved_between_teams(agent, sales_team, support_team):
    rahul = await connect(agent)
    sales = await sync_to_async(conversation_for)(team=sales_team)
    support = await sync_to_async(conversation_for)(team=support_team)
    await events_of(rahul)
    await message(sales, "before")
    assert {e["payload"]["conversation"] for e in await events_of(rahul)} == {sales.pk}

    await sync_to_async(sales_team.members.remove)(agent)
    await sync_to_async(support_team.members.add)(agent)
    heard = await events_of(rahul)
    assert {e["event"] for e in heard} == {"resync"}  # the page refetches its list

    await message(sales, "after removal")
    await message(support, "new team")
    heard = await events_of(rahul)
    assert {e["payload"]["conversation"] for e in heard} == {support.pk}
    await rahul.disconnect()


def test_a_team_cleared_or_deleted_and_a_deactivated_user(agent, teammate, sales_team):
    run_async(_cleared_and_deactivated, agent, teammate, sales_team)


async def _cleared_and_deactivated(agent, teammate, sales_team):
    rahul, ananya = await connect(agent), await connect(teammate)
    sales = await sync_to_async(conversation_for)(team=sales_team)
    await events_of(rahul), await events_of(ananya)
    await sync_to_async(sales_team.members.clear)()
    assert [e["event"] for e in await events_of(rahul)] == ["resync"]
    await message(sales, "nobody in Sales hears this")
    assert await events_of(rahul) == [] and [e["event"] for e in await events_of(ananya)] == ["resync"]

    teammate.is_active = False
    await sync_to_async(teammate.save)()
    output = await ananya.receive_output(timeout=1)
    assert output["type"] == "websocket.close" and output["code"] == 4401
    await rahul.disconnect()


def test_a_ping_rechecks_groups_when_the_change_came_without_a_signal(agent, sales_team, monkeypatch):
    monkeypatch.setattr(consumers, "RECHECK_SECONDS", 0)
    run_async(_ping_recheck, agent, sales_team)


async def _ping_recheck(agent, sales_team):
    rahul = await connect(agent)
    sales = await sync_to_async(conversation_for)(team=sales_team)
    await events_of(rahul)
    # A bulk delete fires no m2m signal (a raw change, a lost message): the next ping notices.
    await sync_to_async(lambda: Team.members.through.objects.filter(user=agent).delete())()
    await rahul.send_json_to({"type": "ping"})
    assert [e["event"] for e in await events_of(rahul)] == ["resync", "pong"]
    await message(sales, "gone")
    assert await events_of(rahul) == []
    await rahul.disconnect()
