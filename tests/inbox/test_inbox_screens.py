"""The inbox page around the thread: no flash banners made of messages, the first-message hint and
"Play the customer", the favicon, the contact panel's long emails."""

import datetime

from django.contrib import messages
from django.contrib.messages import get_messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.urls import reverse
from django.utils import timezone

from tests.inbox.ui_helpers import conversation_for, message_in


def test_a_conversation_by_url_shows_its_messages_as_bubbles_not_banners(logged_in, agent, sales_team):
    conversation = conversation_for(team=sales_team, last_inbound_at=timezone.now())
    for i in range(12):
        message_in(conversation, f"Message number {i}", at=timezone.now() - datetime.timedelta(minutes=20 - i))
    page = logged_in(agent).get(reverse("inbox:conversation", args=[conversation.pk]))
    html = page.content.decode()
    assert 'class="flash"' not in html and "Message number 11" in html
    assert html.count('class="bubble in') == 12
    assert len(page.context["thread_messages"]) == 12
    assert not list(get_messages(page.wsgi_request))


def test_a_real_flash_message_is_one_banner(logged_in, agent, sales_team):
    conversation = conversation_for(team=sales_team)
    message_in(conversation, "Hello")
    client = logged_in(agent)
    before = client.get(reverse("inbox:index"))
    storage = CookieStorage(before.wsgi_request)   # as "Message on WhatsApp…" leaves one before its redirect
    storage.add(messages.SUCCESS, "Template order_update queued to Meera.")
    storage.update(before)
    client.cookies.update(before.cookies)
    html = client.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()
    assert html.count('<li class="flash-success">') == 1 and "queued to Meera" in html


def test_admin_sees_play_the_customer_when_the_sandbox_is_on(logged_in, admin_user, agent, settings):
    settings.SANDBOX_ENABLED = True
    assert "Play the customer" in logged_in(admin_user).get(reverse("contacts:list")).content.decode()
    assert "Play the customer" not in logged_in(agent).get(reverse("contacts:list")).content.decode()
    settings.SANDBOX_ENABLED = False
    assert "Play the customer" not in logged_in(admin_user).get(reverse("contacts:list")).content.decode()


def test_empty_inbox_says_how_a_first_message_arrives(logged_in, admin_user, agent, settings):
    settings.SANDBOX_ENABLED = True
    admin_page = logged_in(admin_user).get(reverse("inbox:index")).content.decode()
    assert "No conversations yet." in admin_page and reverse("sandbox:customer") in admin_page
    agent_page = logged_in(agent).get(reverse("inbox:index")).content.decode()
    assert "No conversations yet." in agent_page and reverse("sandbox:customer") not in agent_page  # agents may not use it


def test_with_conversations_the_empty_thread_just_asks_to_choose(logged_in, agent, sales_team):
    conversation_for(team=sales_team)
    html = logged_in(agent).get(reverse("inbox:index")).content.decode()
    assert "Choose a conversation." in html and "No conversations yet." not in html


def test_favicon_is_linked_and_answered(client, logged_in, agent):
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301 and answer["Location"].endswith("favicon.svg")
    assert client.get(answer["Location"]).status_code == 200
    assert 'rel="icon"' in logged_in(agent).get(reverse("inbox:index")).content.decode()


def test_contact_panel_keeps_a_long_email_whole_in_its_title(logged_in, agent, sales_team):
    conversation = conversation_for(team=sales_team)
    conversation.contact.email = "a.very.long.address.for.testing@subdomain.example-company.co.in"
    conversation.contact.save()
    html = logged_in(agent).get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()
    assert 'title="a.very.long.address.for.testing@subdomain.example-company.co.in"' in html
