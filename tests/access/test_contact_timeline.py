"""Finding 2: the contact page shows only the conversations the viewer may see in the inbox."""

from inbox.models import Message
from tests.inbox.ui_helpers import conversation_for, message_in


def test_timeline_hides_other_teams_conversations_and_their_private_notes(logged_in, agent, other_agent, support_team):
    conversation = conversation_for(team=support_team)  # an unowned customer: any agent may open the contact
    message_in(conversation, "Support's customer writes")
    message_in(conversation, "Support's private note", direction=Message.Direction.NOTE)
    url = conversation.contact.get_absolute_url()

    page = logged_in(agent).get(url)
    assert page.status_code == 200  # the contact itself is visible (unowned)
    body = page.content.decode()
    assert "Support&#x27;s customer writes" not in body and "Support's customer writes" not in body
    assert "private note" not in body
    assert logged_in(agent).get(f"/inbox/{conversation.pk}/").status_code == 404  # the inbox's own answer

    body = logged_in(other_agent).get(url).content.decode()
    assert "customer writes" in body and "private note" in body


def test_timeline_shows_the_shared_pool_to_every_agent(logged_in, agent):
    conversation = conversation_for()  # no team, no assignee
    message_in(conversation, "Anyone may answer")
    assert "Anyone may answer" in logged_in(agent).get(conversation.contact.get_absolute_url()).content.decode()
