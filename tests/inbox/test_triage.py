"""Inbox triage: the default filters, tab counts, search, and acting on many conversations at once."""

import json

import pytest
from django.urls import reverse

from contacts.models import Contact
from core.errors import ApplicationError, NotAllowed
from inbox import selectors, services
from inbox.models import Conversation, Message
from tests.factories import ContactPhoneFactory, LabelFactory
from tests.inbox.ui_helpers import conversation_for, message_in

pytestmark = pytest.mark.django_db


def names(conversations) -> set[str]:
    return {str(c.contact) for c in conversations}


@pytest.fixture
def inbox(agent, teammate, sales_team, support_team):
    """What an agent of Sales sees and does not see."""
    return {
        "mine": conversation_for(team=sales_team, assignee=agent, name="Mine Meera", unread_count=2),
        "mine_resolved": conversation_for(team=sales_team, assignee=agent, name="Old Omar", status="resolved"),
        "theirs": conversation_for(team=sales_team, assignee=teammate, name="Theirs Tara"),
        "pool": conversation_for(team=sales_team, name="Pool Pooja", unread_count=1),
        "snoozed_due": conversation_for(team=sales_team, name="Woken Wasim", status="snoozed", snoozed_until="2020-01-01T00:00Z"),
        "hidden": conversation_for(team=support_team, name="Support Sunil", unread_count=4),
    }


# ---------------------------------------------------------------- counts


def test_open_counts_follow_visibility(agent, supervisor, inbox):
    assert selectors.open_counts(agent) == {"mine": 1, "unassigned": 2, "all": 4, "unread": 2}
    # Supervisors see every team's work, but "mine" is still theirs alone.
    assert selectors.open_counts(supervisor) == {"mine": 0, "unassigned": 3, "all": 5, "unread": 3}


def test_counts_endpoint_answers_for_the_caller(logged_in, other_agent, inbox):
    assert logged_in(other_agent).get(reverse("inbox:counts")).json() == {"mine": 0, "unassigned": 1, "all": 1, "unread": 1}


def test_inbox_page_shows_the_counts_and_the_unread_total(logged_in, agent, inbox):
    html = logged_in(agent).get(reverse("inbox:index")).content.decode()
    assert 'data-count="mine" title="open conversations">1<' in html
    assert 'data-count="unassigned" title="open conversations">2<' in html
    assert 'data-count="all" title="open conversations">4<' in html
    assert 'data-unread="2"' in html


# ---------------------------------------------------------------- default filters


def test_inbox_opens_on_mine_and_open_for_agents_and_supervisors(logged_in, agent, supervisor, inbox):
    client = logged_in(agent)
    html = client.get(reverse("inbox:index")).content.decode()
    assert "Mine Meera" in html and "Old Omar" not in html and "Theirs Tara" not in html
    assert '<input type="radio" name="view" value="mine" checked>' in html
    assert '<option value="open" selected>Open</option>' in html
    assert 'data-query="view=mine&amp;status=open"' in html
    html = logged_in(supervisor).get(reverse("inbox:index")).content.decode()
    assert 'value="mine" checked' in html and "Pool Pooja" not in html


def test_the_filters_chosen_last_are_where_the_inbox_opens_next(logged_in, supervisor, inbox):
    client = logged_in(supervisor)
    client.get(reverse("inbox:list"), {"view": "all", "status": "", "q": "Pool"})
    html = client.get(reverse("inbox:index")).content.decode()
    assert 'value="all" checked' in html and "Theirs Tara" in html and "Old Omar" in html
    assert 'id="conv-search" name="q" value=""' in html  # a search is not remembered
    # Filters in the URL win over the remembered ones.
    html = client.get(reverse("inbox:index"), {"view": "unassigned", "status": "open"}).content.decode()
    assert "Pool Pooja" in html and "Theirs Tara" not in html


def test_a_conversation_link_keeps_the_list_as_it_was(logged_in, agent, inbox):
    html = logged_in(agent).get(reverse("inbox:conversation", args=[inbox["theirs"].pk])).content.decode()
    assert "Mine Meera" in html and f'id="conv-{inbox["theirs"].pk}"' not in html  # the list is Mine / Open
    assert f'href="/inbox/{inbox["mine"].pk}/?view=mine&amp;status=open"' in html


# ---------------------------------------------------------------- search


def test_search_finds_names_in_every_tab_and_status_but_only_what_the_user_may_see(agent, inbox):
    assert names(selectors.search_conversations(agent, "meera")) == {"Mine Meera"}
    assert names(selectors.search_conversations(agent, "o")) >= {"Old Omar", "Pool Pooja"}
    assert "Support Sunil" not in names(selectors.search_conversations(agent, "Sunil"))
    assert selectors.search_conversations(agent, "Sunil").count() == 0


@pytest.mark.parametrize("typed", ["+91 98123 00011", "098123 00011", "919812300011", "9812300011", "300011", "(981) 230-0011"])
def test_search_finds_a_phone_typed_in_any_form(agent, sales_team, typed):
    farida = conversation_for(team=sales_team, name="Farida Khan")
    farida.contact.phones.all().delete()
    ContactPhoneFactory(contact=farida.contact, number="+919812300011")
    conversation_for(team=sales_team, name="Other Person")
    assert names(selectors.search_conversations(agent, typed)) == {"Farida Khan"}


def test_search_finds_message_text_and_shows_where_it_matched(logged_in, agent, sales_team, support_team):
    parcel = conversation_for(team=sales_team, name="Kiran")
    message_in(parcel, "Hello")
    message_in(parcel, "The parcel ARRIVED DAMAGED, the box was\nwet and torn at one corner")
    message_in(parcel, "Can you help?")
    hidden = conversation_for(team=support_team, name="Elsewhere")
    message_in(hidden, "mine arrived damaged too")
    services.assign_to_agent(parcel, agent, by=agent)  # "rahul took this conversation": not message text
    assert names(selectors.search_conversations(agent, "arrived damaged")) == {"Kiran"}
    assert selectors.search_conversations(agent, "took this").count() == 0

    html = logged_in(agent).get(reverse("inbox:list"), {"q": "arrived damaged"}).content.decode()
    assert 'class="conv-preview conv-hit">The parcel <mark>ARRIVED DAMAGED</mark>, the box was wet' in html
    assert "Elsewhere" not in html
    assert "Searching every conversation you can see" in html


def test_short_queries_search_names_only(agent, sales_team):
    conversation = conversation_for(team=sales_team, name="Ox Owner")
    message_in(conversation, "ox")
    other = conversation_for(team=sales_team, name="Someone")
    message_in(other, "an ox")
    assert names(selectors.search_conversations(agent, "ox")) == {"Ox Owner"}


def test_a_common_fragment_walks_the_list_and_finds_the_same_conversations(monkeypatch, agent, sales_team, support_team):
    """More matches than the probe takes: the other query shape gives the same answer."""
    for i in range(4):
        message_in(conversation_for(team=sales_team, name=f"Order {i}"), f"about my order {i}")
    message_in(conversation_for(team=support_team, name="Hidden order"), "about my order")
    message_in(conversation_for(team=sales_team, name="Quiet"), "nothing here")
    rare = names(selectors.search_conversations(agent, "order"))
    monkeypatch.setattr(selectors, "SEARCH_PROBE", 2)
    assert names(selectors.search_conversations(agent, "order")) == rare == {"Order 0", "Order 1", "Order 2", "Order 3"}
    Contact.objects.filter(name="Quiet").update(name="Quiet orders")
    assert "Quiet orders" in names(selectors.search_conversations(agent, "order"))
    # Many messages in one conversation: still more rows than the probe takes.
    busy = conversation_for(team=sales_team, name="Busy")
    for i in range(3):
        message_in(busy, f"order again {i}")
    monkeypatch.setattr(selectors, "SEARCH_PROBE", 5)
    assert "Busy" in names(selectors.search_conversations(agent, "order again"))
    assert names(selectors.search_conversations(agent, "again")) == {"Busy"}


def test_a_search_longer_than_the_box_allows_is_cut_not_refused(logged_in, agent, sales_team):
    conversation_for(team=sales_team, name="A" * 100)
    response = logged_in(agent).get(reverse("inbox:list"), {"q": "A" * 500})
    assert response.status_code == 200 and 'class="conv-name">' + "A" * 100 in response.content.decode()


# ---------------------------------------------------------------- many at once


@pytest.fixture
def sent(monkeypatch):
    from core import events as core_events

    calls = []
    monkeypatch.setattr(core_events, "_send", lambda message: calls.append((message["event"], json.loads(message["text"])["payload"])))
    return calls


def test_bulk_resolve_changes_every_conversation_and_tells_the_browsers(agent, inbox, django_capture_on_commit_callbacks, sent):
    ids = [inbox["mine"].pk, inbox["pool"].pk]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.bulk_set_status(ids, "resolved", by=agent) == 2
    assert set(Conversation.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"resolved"}
    assert {p["conversation"] for e, p in sent if e == "conversation.updated"} == set(ids)
    assert Message.objects.filter(conversation_id__in=ids, type="activity", body__contains="marked this resolved").count() == 2


def test_bulk_refuses_all_when_one_conversation_is_not_the_users(agent, inbox, django_capture_on_commit_callbacks, sent):
    ids = [inbox["mine"].pk, inbox["pool"].pk, inbox["hidden"].pk]
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(NotAllowed, match="1 of the 3"):
        services.bulk_set_status(ids, "resolved", by=agent)
    assert not Conversation.objects.filter(pk__in=ids, status="resolved").exists()
    assert not Message.objects.filter(type="activity").exists() and sent == []
    with pytest.raises(NotAllowed):  # a conversation that no longer exists is refused the same way
        services.bulk_add_label([inbox["mine"].pk, 999_999], LabelFactory(), by=agent)


def test_bulk_assign_team_and_label(agent, teammate, other_agent, supervisor, support_team, inbox):
    ids = [inbox["mine"].pk, inbox["pool"].pk]
    services.bulk_assign_to_agent(ids, teammate, by=agent)
    assert set(Conversation.objects.filter(pk__in=ids).values_list("assignee", flat=True)) == {teammate.pk}
    with pytest.raises(NotAllowed):  # agents assign within their teams only
        services.bulk_assign_to_agent(ids, other_agent, by=agent)
    vip = LabelFactory(name="VIP")
    services.bulk_add_label(ids, vip, by=agent)
    services.bulk_add_label(ids, vip, by=agent)  # already there: nothing happens twice
    assert vip.conversations.count() == 2
    services.bulk_assign_to_team(ids, support_team, by=supervisor)
    assert set(Conversation.objects.filter(pk__in=ids).values_list("team", "assignee")) == {(support_team.pk, None)}


def test_bulk_limits(agent, inbox):
    with pytest.raises(ApplicationError, match="at least one"):
        services.bulk_set_status([], "resolved", by=agent)
    with pytest.raises(ApplicationError, match="at most"):
        services.bulk_set_status(range(services.BULK_MAX + 1), "resolved", by=agent)
    with pytest.raises(ApplicationError, match="one at a time"):
        services.bulk_set_status([inbox["mine"].pk], "snoozed", by=agent)


def test_bulk_endpoint_acts_and_says_what_it_did(logged_in, agent, inbox):
    client = logged_in(agent)
    ids = [inbox["mine"].pk, inbox["pool"].pk]
    response = client.post(reverse("inbox:bulk"), {"ids": ids, "action": "status", "status": "resolved"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Trigger"] == "inbox:bulk-done"
    assert "2 conversations marked resolved." in response.content.decode()
    response = client.post(reverse("inbox:bulk"), {"ids": [inbox["mine"].pk], "action": "assign", "assignee": "none"}, HTTP_HX_REQUEST="true")
    assert "1 conversation unassigned." in response.content.decode()
    assert Conversation.objects.get(pk=inbox["mine"].pk).assignee is None


@pytest.mark.parametrize(
    "data,status,text",
    [
        ({"action": "status", "status": "resolved"}, 400, "Choose at least one conversation."),
        ({"ids": ["x"], "action": "status", "status": "resolved"}, 400, "Choose conversations from the list."),
        ({"ids": [1], "action": "explode"}, 400, "Select a valid choice."),
        ({"ids": [1], "action": "status", "status": "snoozed"}, 400, "Select a valid choice."),
        ({"ids": [1], "action": "assign", "assignee": "42x"}, 400, "Choose whom to assign them to."),
        ({"ids": [1], "action": "team"}, 400, "Choose a team."),
        ({"ids": [1], "action": "label"}, 400, "Choose a label."),
    ],
)
def test_bulk_endpoint_refuses_bad_input_with_a_reason(logged_in, agent, inbox, data, status, text):
    response = logged_in(agent).post(reverse("inbox:bulk"), data, HTTP_HX_REQUEST="true")
    assert response.status_code == status and text in response.content.decode()


def test_bulk_endpoint_refuses_conversations_the_agent_cannot_see(logged_in, agent, other_agent, inbox):
    response = logged_in(agent).post(
        reverse("inbox:bulk"), {"ids": [inbox["mine"].pk, inbox["hidden"].pk], "action": "status", "status": "resolved"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 403 and "nothing was changed" in response.content.decode()
    assert Conversation.objects.get(pk=inbox["mine"].pk).status == "open"
    response = logged_in(agent).post(reverse("inbox:bulk"), {"ids": [inbox["mine"].pk], "action": "assign", "assignee": other_agent.pk})
    assert response.status_code == 400


def test_api_searches_too(api, agent, inbox):
    response = api(agent).get("/api/conversations/", {"q": "pooja"})
    assert [row["id"] for row in response.json()["results"]] == [inbox["pool"].pk]
    assert api(agent).get("/api/conversations/", {"q": "sunil"}).json()["results"] == []
