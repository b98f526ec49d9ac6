"""The list and the thread cost the same number of queries whatever the page size (bench/inbox_list.py
measures the times at 100k conversations; these keep the shape from regressing)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from core.pagination import PagesWithoutCount
from inbox import views
from inbox.api import ConversationViewSet
from inbox.models import Attachment, Conversation, Message
from tests.factories import ContactFactory, ContactPhoneFactory, LabelFactory, UserFactory
from tests.inbox.tata_payloads import make_channel
from tests.inbox.ui_helpers import conversation_for, message_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_inbox(agent, teammate, sales_team):
    """Twenty-four conversations, each with its own contact, and a mix of channels, assignees, labels,
    statuses and nameless contacts: anything a row shows that could cost a query per row."""
    channels = [make_channel(phone=f"+91224000{i}000", team=sales_team) for i in range(3)]
    labels = [LabelFactory(name=f"label-{i}") for i in range(4)]
    now = timezone.now()
    conversations = []
    for i in range(24):
        contact = ContactFactory(name="" if i % 4 == 0 else f"Customer {i:02d}")
        ContactPhoneFactory(contact=contact, number=f"+9198000{i:05d}")
        conversation = Conversation.objects.create(
            channel=channels[i % 3],
            contact=contact,
            team=sales_team if i % 5 else None,
            assignee=(agent, teammate, None)[i % 3],
            status=("open", "pending", "open", "resolved")[i % 4],
            unread_count=i % 3,
            last_message_at=now - datetime.timedelta(minutes=i),
            last_message_preview=f"preview {i}",
        )
        conversation.labels.add(labels[i % 4], labels[(i + 1) % 4])
        conversations.append(conversation)
    return conversations


@pytest.fixture
def long_thread(agent, sales_team):
    """Sixty messages of every kind a bubble renders: notes and replies by different agents, quotes,
    media with attachments, reactions, failed sends."""
    conversation = conversation_for(team=sales_team, assignee=agent, unread_count=2)
    senders = [agent, UserFactory(username="meera", role=Role.AGENT), UserFactory(username="kiran", role=Role.AGENT)]
    start = timezone.now() - datetime.timedelta(days=3)
    previous = None
    for i in range(60):
        at = start + datetime.timedelta(hours=i)
        if i % 6 == 0:
            message = message_in(conversation, f"photo {i}", type="image", content={"type": "image", "image": {"caption": f"photo {i}"}}, at=at)
            Attachment.objects.create(message=message, kind="image", provider_media_id=f"media-{i}")
        elif i % 6 == 1:
            message = message_in(conversation, f"reply {i}", direction="out", status="failed", sender=senders[i % 3], at=at, error_message="nope")
        elif i % 6 == 2:
            message = message_in(conversation, f"note {i}", direction="note", sender=senders[i % 3], provider_message_id=None, at=at)
        else:
            message = message_in(conversation, f"text {i}", at=at, reply_to=previous, reactions={"in": {"emoji": "👍"}})
        previous = message
    return conversation


def _count(client, url, **params):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200, response.content[:300]
    return len(captured), [q["sql"] for q in captured.captured_queries], response


def _counts_at_two_sizes(monkeypatch, client, url, *, setting, sizes=(3, 12), **params):
    counts = []
    for size in sizes:
        monkeypatch.setattr(views, setting, size)
        client.get(url, params)  # the first request of a session may touch more (e.g. session save)
        count, _, _ = _count(client, url, **params)
        counts.append(count)
    return counts


LIST_CASES = [
    ("inbox:index", {}),
    ("inbox:list", {"view": "mine"}),
    ("inbox:list", {"view": "unassigned"}),
    ("inbox:list", {"view": "all"}),
    ("inbox:list", {"status": "open"}),
    ("inbox:rows", {"page": 2}),
    ("inbox:list", {"q": "Customer"}),  # a search, with its snippets
    ("inbox:list", {"q": "preview"}),
]


@pytest.mark.parametrize("who", ["agent", "supervisor"])
@pytest.mark.parametrize("name,params", LIST_CASES)
def test_list_query_count_does_not_grow_with_page_size(request, monkeypatch, logged_in, busy_inbox, who, name, params):
    client = logged_in(request.getfixturevalue(who))
    small, large = _counts_at_two_sizes(monkeypatch, client, reverse(name), setting="PAGE_SIZE", sizes=(3, 8), **params)
    assert small == large


def test_label_filter_query_count_does_not_grow_with_page_size(monkeypatch, logged_in, supervisor, busy_inbox):
    label = busy_inbox[0].labels.first()
    client = logged_in(supervisor)
    small, large = _counts_at_two_sizes(monkeypatch, client, reverse("inbox:list"), setting="PAGE_SIZE", label=label.pk)
    assert small == large


def test_list_needs_no_count_over_all_conversations(monkeypatch, logged_in, supervisor, busy_inbox):
    monkeypatch.setattr(views, "PAGE_SIZE", 10)
    client = logged_in(supervisor)
    for name, params in LIST_CASES:
        _, queries, response = _count(client, reverse(name), **params)
        counts = [q for q in queries if "COUNT(" in q.upper()]
        # A whole page counts the open conversations of each tab (one aggregate); nothing else counts.
        assert len(counts) == (1 if name == "inbox:index" else 0), name
        assert not counts or ' AS "mine"' in counts[0]
    # "Load more" still knows whether more follow: 24 rows are pages 1–3 of 10.
    _, _, response = _count(client, reverse("inbox:rows"), page=2)
    assert response.content.decode().count('class="conv-name"') == 10 and "Load more" in response.content.decode()
    _, _, response = _count(client, reverse("inbox:rows"), page=3)
    assert response.content.decode().count('class="conv-name"') == 4 and "Load more" not in response.content.decode()


def test_load_more_reads_only_its_own_page(monkeypatch, logged_in, supervisor, busy_inbox):
    """It used to load (and throw away) the first page, and count every conversation, before its own."""
    client = logged_in(supervisor)
    _, queries, _ = _count(client, reverse("inbox:rows"), page=2)
    conversation_reads = [q for q in queries if q.lstrip().startswith("SELECT") and 'FROM "inbox_conversation"' in q]
    assert len(conversation_reads) == 1


def test_load_more_past_the_end_is_empty_not_a_repeat(logged_in, supervisor, busy_inbox):
    html = logged_in(supervisor).get(reverse("inbox:rows"), {"page": 9}).content.decode()
    assert 'class="conv-name"' not in html and "Load more" not in html


@pytest.mark.parametrize("who", ["agent", "supervisor"])
@pytest.mark.parametrize("name", ["inbox:thread", "inbox:conversation"])
def test_thread_query_count_does_not_grow_with_page_size(request, monkeypatch, logged_in, long_thread, who, name):
    client = logged_in(request.getfixturevalue(who))
    url = reverse(name, args=[long_thread.pk])
    small, large = _counts_at_two_sizes(monkeypatch, client, url, setting="THREAD_PAGE", sizes=(6, 30))
    assert small == large


def test_opening_a_conversation_reads_the_agents_teams_once(logged_in, agent, long_thread):
    """Visibility of the conversation, of its contact and the assignee choices all need the agent's
    teams; the user object keeps them for the request."""
    client = logged_in(agent)
    client.get(reverse("inbox:thread", args=[long_thread.pk]))
    _, queries, _ = _count(client, reverse("inbox:thread", args=[long_thread.pk]))
    assert sum('FROM "accounts_team" INNER JOIN "accounts_team_members"' in sql for sql in queries) == 1
    assert sum('FROM "accounts_user" INNER JOIN "accounts_team_members"' in sql for sql in queries) == 1


def test_a_page_without_media_reads_no_attachments(logged_in, agent, sales_team):
    conversation = conversation_for(team=sales_team, assignee=agent)
    for i in range(5):
        message_in(conversation, f"text {i}")
    client = logged_in(agent)
    client.get(reverse("inbox:thread", args=[conversation.pk]))
    _, queries, _ = _count(client, reverse("inbox:thread", args=[conversation.pk]))
    assert not any('FROM "inbox_attachment"' in sql for sql in queries)
    image = message_in(conversation, "photo", type="image", content={"type": "image", "image": {}})
    Attachment.objects.create(message=image, kind="image", provider_media_id="media-1")
    _, queries, response = _count(client, reverse("inbox:thread", args=[conversation.pk]))
    assert sum('FROM "inbox_attachment"' in sql for sql in queries) == 1
    assert "Downloading image" in response.content.decode()


def test_load_older_query_count_does_not_grow_with_page_size(monkeypatch, logged_in, agent, long_thread):
    newest = Message.objects.filter(conversation=long_thread).order_by("-timestamp").values_list("pk", flat=True)[5]
    client = logged_in(agent)
    url = reverse("inbox:older", args=[long_thread.pk])
    small, large = _counts_at_two_sizes(monkeypatch, client, url, setting="THREAD_PAGE", sizes=(6, 30), before=newest)
    assert small == large


@pytest.mark.parametrize("path", ["/api/conversations/", "/api/conversations/?view=all&status=open", "messages"])
def test_api_list_query_count_does_not_grow_with_page_size(monkeypatch, api, agent, busy_inbox, long_thread, path):
    if path == "messages":
        path = f"/api/conversations/{long_thread.pk}/messages/"
    client = api(agent)
    client.get(path)  # force_authenticate keeps one user object, which remembers its teams after this
    counts = []
    for size in (3, 12):
        monkeypatch.setattr(ConversationViewSet, "pagination_class", type("Sized", (PagesWithoutCount,), {"page_size": size}))
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        assert response.status_code == 200
        assert len(response.json()["results"]) == size
        counts.append(len(captured))
    assert counts[0] == counts[1]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner and its NULLS LAST indexes")
def test_newest_first_list_reads_an_index_instead_of_sorting_every_conversation(supervisor, agent, busy_inbox):
    """ORDER BY last_message_at DESC NULLS LAST needs an index that says NULLS LAST: a plain DESC index
    sorts NULLs first in PostgreSQL, so the planner would sort every visible row to show thirty."""
    from inbox import selectors

    for user in (supervisor, agent):
        queryset = selectors.conversation_list(user)[:5]
        with connection.cursor() as cursor:
            # A test table is tiny: take the cheap whole-table paths away, and ask for fewer rows than
            # the user sees, so the plan shows whether an index can deliver the order, as it must at
            # 100k rows. Statistics left by earlier tests would make the plan depend on test order,
            # so they describe this table first.
            cursor.execute("ANALYZE inbox_conversation")
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            sql, params = queryset.query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "conv_recent" in plan and "Sort" not in plan, plan


def test_list_reads_phones_only_when_a_contact_has_no_name(logged_in, supervisor):
    channel = make_channel()
    for i in range(3):
        conversation_for(channel, name=f"Named {i}").labels.add(LabelFactory(name=f"tag-{i}"))
    client = logged_in(supervisor)
    client.get(reverse("inbox:list"))
    _, queries, response = _count(client, reverse("inbox:list"))
    assert not any('FROM "contacts_contactphone"' in sql for sql in queries)
    assert response.content.decode().count('class="dot"') == 3
    nameless = conversation_for(channel, name="")
    nameless.contact.name = ""
    nameless.contact.save()
    _, queries, response = _count(client, reverse("inbox:list"))
    assert sum('FROM "contacts_contactphone"' in sql for sql in queries) == 1
    assert nameless.contact.phones.get().display in response.content.decode()
