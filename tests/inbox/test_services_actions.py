import datetime
import json

import pytest
from django.utils import timezone

from accounts.selectors import AGENTS_GROUP, STAFF_GROUP, team_group, user_group
from core.errors import ApplicationError, NotAllowed
from inbox import services
from inbox.models import Conversation, Message
from inbox.selectors import conversation_list
from tests.factories import LabelFactory
from tests.inbox.ui_helpers import conversation_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """Events handed to the channel layer after commit: (event, payload, groups)."""
    from core import events as core_events

    calls = []
    monkeypatch.setattr(core_events, "_send", lambda message: calls.append((message["event"], json.loads(message["text"])["payload"], set(message["groups"]))))
    return calls


def test_assign_to_agent_publishes_to_old_and_new_audience(agent, teammate, django_capture_on_commit_callbacks, sent):
    conversation = conversation_for()  # no team, no assignee: the shared pool
    with django_capture_on_commit_callbacks(execute=True):
        services.assign_to_agent(conversation, agent, by=agent)
    update = [c for c in sent if c[0] == "conversation.updated"][-1]
    assert update[1]["assignee"] == agent.pk
    assert update[2] == {STAFF_GROUP, user_group(agent.pk), AGENTS_GROUP}  # the pool hears it left
    activity = Message.objects.get(conversation=conversation, type="activity")
    assert activity.direction == "note" and activity.body == f"{agent} took this conversation"


def test_agents_assign_only_within_their_teams(agent, teammate, other_agent, supervisor, sales_team):
    conversation = conversation_for(team=sales_team)
    services.assign_to_agent(conversation, teammate, by=agent)
    with pytest.raises(NotAllowed):
        services.assign_to_agent(conversation, other_agent, by=agent)
    services.assign_to_agent(conversation, other_agent, by=supervisor)
    conversation.refresh_from_db()
    assert conversation.assignee == other_agent


def test_cannot_act_on_a_conversation_you_cannot_see(other_agent, sales_team):
    conversation = conversation_for(team=sales_team)
    with pytest.raises(NotAllowed):
        services.set_status(conversation, "resolved", by=other_agent)
    with pytest.raises(NotAllowed):
        services.add_private_note(conversation, author=other_agent, body="hi")


def test_team_transfer_clears_an_assignee_outside_the_new_team(agent, sales_team, support_team, django_capture_on_commit_callbacks, sent):
    conversation = conversation_for(team=sales_team, assignee=agent)
    with django_capture_on_commit_callbacks(execute=True):
        services.assign_to_team(conversation, support_team, by=agent)
    conversation.refresh_from_db()
    assert conversation.team == support_team and conversation.assignee is None
    groups = [c[2] for c in sent if c[0] == "conversation.updated"][-1]
    assert {team_group(sales_team.pk), user_group(agent.pk), team_group(support_team.pk)} <= groups


def test_snooze_needs_a_future_time_and_wakes_up(agent, sales_team):
    conversation = conversation_for(team=sales_team)
    with pytest.raises(ApplicationError):
        services.set_status(conversation, "snoozed", by=agent)
    with pytest.raises(ApplicationError):
        services.set_status(conversation, "snoozed", by=agent, snoozed_until=timezone.now() - datetime.timedelta(minutes=1))
    with pytest.raises(ApplicationError):
        services.set_status(conversation, "archived", by=agent)
    until = timezone.now() + datetime.timedelta(hours=1)
    services.set_status(conversation, "snoozed", by=agent, snoozed_until=until)
    assert services.wake_snoozed_conversations() == 0
    # Due but not yet woken by the beat task: the "open" list already shows it.
    assert conversation_list(agent, status="open").filter(pk=conversation.pk).exists() is False
    later = until + datetime.timedelta(seconds=1)
    Conversation.objects.filter(pk=conversation.pk).update(snoozed_until=timezone.now() - datetime.timedelta(seconds=1))
    assert conversation_list(agent, status="open").filter(pk=conversation.pk).exists()
    assert services.wake_snoozed_conversations(now=later) == 1
    conversation.refresh_from_db()
    assert conversation.status == "open" and conversation.snoozed_until is None


def test_resolving_clears_snooze_and_is_idempotent(agent, sales_team, django_capture_on_commit_callbacks, sent):
    conversation = conversation_for(team=sales_team, status="snoozed", snoozed_until=timezone.now() + datetime.timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        services.set_status(conversation, "resolved", by=agent)
        services.set_status(conversation, "resolved", by=agent)
    conversation.refresh_from_db()
    assert conversation.snoozed_until is None
    assert len([c for c in sent if c[0] == "conversation.updated"]) == 1


def test_labels_notes_and_mark_read(agent, sales_team, django_capture_on_commit_callbacks, sent):
    conversation = conversation_for(team=sales_team, unread_count=4)
    label = LabelFactory(name="refund")
    with django_capture_on_commit_callbacks(execute=True):
        services.set_label(conversation, label, on=True, by=agent)
        services.set_label(conversation, label, on=True, by=agent)
        note = services.add_private_note(conversation, author=agent, body="  Call after 5  ")
        services.mark_read(conversation, by=agent)
    assert list(conversation.labels.all()) == [label]
    assert note.body == "Call after 5" and note.direction == "note" and note.sender == agent
    conversation.refresh_from_db()
    assert conversation.unread_count == 0
    assert [c[0] for c in sent] == ["conversation.updated", "message.created", "conversation.updated"]
    with pytest.raises(ApplicationError):
        services.add_private_note(conversation, author=agent, body=" ")
    with pytest.raises(ApplicationError):
        services.add_private_note(conversation, author=agent, body="x" * 4001)
