import re

import pytest
from django.urls import reverse

from inbox.models import Attachment, Conversation, Message
from tests.factories import LabelFactory
from tests.inbox.tata_payloads import fixture_json, make_channel
from tests.inbox.ui_helpers import conversation_for, days_ago, message_in

pytestmark = pytest.mark.django_db


def test_list_shows_only_visible_conversations_newest_first(logged_in, agent, sales_team, support_team):
    older = conversation_for(team=sales_team, name="Older Sales", last_message_at=days_ago(2))
    newer = conversation_for(team=sales_team, name="Newer Sales", last_message_at=days_ago(0))
    conversation_for(team=support_team, name="Support Only")
    html = logged_in(agent).get(reverse("inbox:index"), {"view": "all"}).content.decode()
    assert "Support Only" not in html
    assert html.index("Newer Sales") < html.index("Older Sales")
    assert f'id="conv-{older.pk}"' in html and f'id="conv-{newer.pk}"' in html


def test_list_filters_mine_unassigned_status_label(logged_in, agent, teammate, sales_team):
    mine = conversation_for(team=sales_team, assignee=agent, name="Mine")
    theirs = conversation_for(team=sales_team, assignee=teammate, name="Theirs")
    pool = conversation_for(team=sales_team, name="Pool", status=Conversation.Status.RESOLVED)
    vip = LabelFactory(name="vip")
    theirs.labels.add(vip)
    client = logged_in(agent)

    def names(**params):
        html = client.get(reverse("inbox:list"), params).content.decode()
        return set(re.findall(r'class="conv-name">([^<]+)<', html))

    assert names(view="mine") == {"Mine"}
    assert names(view="unassigned") == {"Pool"}
    assert names(view="all") == {"Mine", "Theirs", "Pool"}
    assert names(status="resolved") == {"Pool"}
    assert names(label=vip.pk) == {"Theirs"}
    assert mine and pool


def test_list_paginates_with_load_more(logged_in, supervisor):
    channel = make_channel()
    for i in range(35):
        conversation_for(channel, name=f"Person {i:02d}", last_message_at=days_ago(0, hour=0).replace(minute=i))
    client = logged_in(supervisor)
    first = client.get(reverse("inbox:list")).content.decode()
    assert first.count('class="conv-name"') == 30 and "Load more" in first
    more = client.get(reverse("inbox:rows"), {"page": 2}).content.decode()
    assert more.count('class="conv-name"') == 5 and "Load more" not in more
    # A live refetch keeps every page the agent has loaded.
    assert client.get(reverse("inbox:list"), {"pages": 2}).content.decode().count('class="conv-name"') == 35


def test_unread_count_shown_and_cleared_when_opened(logged_in, agent, sales_team):
    conversation = conversation_for(team=sales_team, unread_count=3)
    client = logged_in(agent)
    assert 'aria-label="3 unread"' in client.get(reverse("inbox:list")).content.decode()
    for url in (reverse("inbox:thread", args=[conversation.pk]), reverse("inbox:conversation", args=[conversation.pk])):
        page = client.get(url).content.decode()
        conversation.refresh_from_db()
        assert conversation.unread_count == 3  # a GET changes nothing (finding 20)
        assert f'hx-post="{reverse("inbox:read", args=[conversation.pk])}" hx-trigger="load"' in page  # the shown pane marks it read
    assert client.post(reverse("inbox:read", args=[conversation.pk])).status_code == 204
    conversation.refresh_from_db()
    assert conversation.unread_count == 0
    assert client.get(reverse("inbox:read", args=[conversation.pk])).status_code == 405


def test_other_teams_conversation_is_404(logged_in, other_agent, sales_team):
    conversation = conversation_for(team=sales_team)
    message = message_in(conversation)
    client = logged_in(other_agent)
    for name in ("conversation", "thread", "header", "panel"):
        assert client.get(reverse(f"inbox:{name}", args=[conversation.pk])).status_code == 404
    assert client.get(reverse("inbox:message", args=[message.pk])).status_code == 404
    assert client.post(reverse("inbox:assign", args=[conversation.pk]), {"assignee": "me"}).status_code == 404


def test_html_in_a_message_is_shown_as_text_and_links_are_clickable(logged_in, agent, sales_team):
    conversation = conversation_for(team=sales_team)
    message_in(conversation, '<script>alert(1)</script><b>hi</b> see https://example.com/a?b=1&c=2')
    html = logged_in(agent).get(reverse("inbox:thread", args=[conversation.pk])).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;hi&lt;/b&gt;" in html
    assert '<a href="https://example.com/a?b=1&amp;c=2" target="_blank" rel="nofollow noopener noreferrer">' in html


def test_day_separators_and_load_older(logged_in, agent, sales_team):
    conversation = conversation_for(team=sales_team)
    for i in range(45):
        message_in(conversation, f"message {i:02d}", at=days_ago(2 if i < 20 else 0, hour=8).replace(minute=i))
    client = logged_in(agent)
    html = client.get(reverse("inbox:thread", args=[conversation.pk])).content.decode()
    assert "message 44" in html and "message 04" not in html and "message 05" in html
    assert html.count('class="day"') == 2 and "Today" in html
    oldest = Message.objects.filter(conversation=conversation, body="message 05").get()
    older = client.get(reverse("inbox:older", args=[conversation.pk]), {"before": oldest.pk}).content.decode()
    assert "message 00" in older and "message 04" in older and "message 05" not in older
    assert "Load older messages" not in older


@pytest.mark.parametrize(
    "fixture, expected",
    [
        ("wa_in_location.json", ["Andheri East Office", "https://www.google.com/maps/search/?api=1&amp;query=19.076%2C72.8777"]),
        ("wa_in_contacts.json", ["Ravi Kumar", "Manager, Example Traders", "+91 98123 45699", "Meera"]),
        ("wa_in_interactive_button_reply.json", ["tap-choice", "Track order", "Tapped a button"]),
        ("wa_in_interactive_list_reply.json", ["10 Apr, 3:00 PM", "Andheri West branch"]),
        ("wa_in_interactive_nfm_reply.json", ["Preferred date", "2025-04-12", "Ring the bell twice"]),
        ("wa_in_button_template_quick_reply.json", ["Stop promotions", "Tapped a template button"]),
        ("wa_in_order.json", ["🛒 Order", "SKU-TSHIRT-RED-M", "₹1,297.50", "Please deliver after 6 pm"]),
        ("wa_in_text_referral_ctwa.json", ["From ad:", "Summer Sale is live"]),
        ("wa_in_text_forwarded.json", ["↪ Forwarded"]),
        ("wa_in_text_product_inquiry.json", ["Asked about product SKU-TSHIRT-RED-M"]),
        ("wa_in_unsupported.json", ["This poll message cannot be shown here", "Message type unknown"]),
        ("wa_in_system_user_changed_number.json", ["Asha Verma changed from 919812345670 to 919812345671"]),
        ("wa_in_interactive_call_permission_reply.json", ["Allowed WhatsApp calls until"]),
        ("rcs_in_suggestion_action.json", ["View offer", "Tapped an action"]),
    ],
)
def test_every_message_type_is_readable(logged_in, agent, sales_team, fixture, expected):
    conversation = conversation_for(team=sales_team)
    payload = fixture_json(fixture)
    content = payload.get("messages") or payload.get("entity")
    kind = content.get("type") or ("text" if not content.get("location") else "location")
    message_in(conversation, "body text", type=kind, content=content)
    html = logged_in(agent).get(reverse("inbox:thread", args=[conversation.pk])).content.decode()
    for text in expected:
        assert text in html, text


def test_media_states_ready_downloading_failed(logged_in, agent, sales_team):
    conversation = conversation_for(team=sales_team)
    image = message_in(conversation, "This is the damaged box", type="image", content=fixture_json("wa_in_image.json")["messages"])
    Attachment.objects.create(message=image, kind="image", status=Attachment.Status.READY, file="attachments/x.jpg", mime_type="image/jpeg")
    doc = message_in(conversation, "Invoice", type="document", content=fixture_json("wa_in_document.json")["messages"])
    Attachment.objects.create(message=doc, kind="document", status=Attachment.Status.DOWNLOADING, file_name="invoice-4521.pdf")
    video = message_in(conversation, "", type="video", content=fixture_json("wa_in_video.json")["messages"])
    broken = Attachment.objects.create(message=video, kind="video", status=Attachment.Status.FAILED, error="Media id expired")
    html = logged_in(agent).get(reverse("inbox:thread", args=[conversation.pk])).content.decode()
    assert '<img src="/inbox/attachments/' in html
    assert "Downloading document “invoice-4521.pdf”…" in html
    assert "could not be downloaded: Media id expired" in html
    assert reverse("inbox:attachment_retry", args=[broken.pk]) in html


def test_ticks_notes_reactions_and_quotes(logged_in, agent, sales_team):
    conversation = conversation_for(team=sales_team)
    first = message_in(conversation, "Where is my order?", provider_message_id="wamid.first")
    statuses = {}
    for status in ("queued", "sent", "delivered", "read"):
        statuses[status] = message_in(conversation, f"reply {status}", direction=Message.Direction.OUTBOUND, status=status, sender=agent)
    message_in(conversation, "nope", direction=Message.Direction.OUTBOUND, status="failed", error_code="131047",
               error_message="More than 24 hours have passed since the customer last replied")
    message_in(conversation, "Check the courier first", direction=Message.Direction.NOTE, sender=agent)
    message_in(conversation, "Any update?", reply_to=first, reply_to_provider_id="wamid.first")
    Message.objects.filter(pk=first.pk).update(reactions={"in": {"emoji": "👍", "at": "2026-01-01T00:00:00"}})
    html = logged_in(agent).get(reverse("inbox:thread", args=[conversation.pk])).content.decode()
    assert 'class="tick tick-clock"' in html and 'class="tick tick-sent"' in html
    assert 'class="tick tick-delivered"' in html and 'class="tick tick-read"' in html
    assert "Not delivered: More than 24 hours have passed" in html
    assert 'class="bubble note' in html and "Private note" in html
    assert '<blockquote class="quoted">Where is my order?</blockquote>' in html
    assert '<span class="reaction" title="Reaction">👍</span>' in html


def test_message_fragment_for_a_reaction_renders_its_target(logged_in, agent, sales_team):
    conversation = conversation_for(team=sales_team)
    target = message_in(conversation, "Your parcel is out", direction=Message.Direction.OUTBOUND, status="read")
    reaction = message_in(conversation, "👍", type="reaction", content={"reaction": {"emoji": "👍"}}, reply_to=target)
    html = logged_in(agent).get(reverse("inbox:message", args=[reaction.pk])).content.decode()
    assert f'id="msg-{target.pk}"' in html and "Your parcel is out" in html


def test_assign_to_me_wins_over_the_select_sent_with_it(logged_in, agent, sales_team):
    conversation = conversation_for(team=sales_team)
    logged_in(agent).post(reverse("inbox:assign", args=[conversation.pk]), {"assignee": ["me", ""]}, HTTP_HX_REQUEST="true")
    conversation.refresh_from_db()
    assert conversation.assignee == agent


def test_actions_assign_team_status_label_note(logged_in, agent, teammate, sales_team, support_team):
    conversation = conversation_for(team=sales_team)
    client = logged_in(agent)
    client.post(reverse("inbox:assign", args=[conversation.pk]), {"assignee": "me"}, HTTP_HX_REQUEST="true")
    conversation.refresh_from_db()
    assert conversation.assignee == agent
    client.post(reverse("inbox:assign", args=[conversation.pk]), {"assignee": teammate.pk})
    conversation.refresh_from_db()
    assert conversation.assignee == teammate

    response = client.post(reverse("inbox:status", args=[conversation.pk]), {"status": "snoozed", "snooze": "1h"}, HTTP_HX_REQUEST="true")
    conversation.refresh_from_db()
    assert conversation.status == "snoozed" and conversation.snoozed_until is not None
    assert "Snoozed" in response.content.decode()
    label = LabelFactory(name="refund")
    client.post(reverse("inbox:label", args=[conversation.pk, label.pk]), HTTP_HX_REQUEST="true")
    assert list(conversation.labels.all()) == [label]
    response = client.post(reverse("inbox:note", args=[conversation.pk]), {"body": "Call her after 5"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert Message.objects.filter(conversation=conversation, direction="note", body="Call her after 5", sender=agent).exists()

    client.post(reverse("inbox:team", args=[conversation.pk]), {"team": support_team.pk})
    conversation.refresh_from_db()
    assert conversation.team == support_team and conversation.assignee is None


def test_action_errors_are_shown(logged_in, agent, other_agent, sales_team):
    conversation = conversation_for(team=sales_team)
    client = logged_in(agent)
    response = client.post(reverse("inbox:assign", args=[conversation.pk]), {"assignee": other_agent.pk}, HTTP_HX_REQUEST="true")
    assert 'role="alert"' in response.content.decode()
    response = client.post(reverse("inbox:status", args=[conversation.pk]), {"status": "snoozed", "snooze": "custom"}, HTTP_HX_REQUEST="true")
    assert "Choose until when to snooze." in response.content.decode()
    response = client.post(reverse("inbox:note", args=[conversation.pk]), {"body": "   "}, HTTP_HX_REQUEST="true")
    assert 'role="alert"' in response.content.decode()


def test_catch_up_lists_conversations_changed_since(logged_in, agent, sales_team, support_team):
    since = days_ago(1)
    changed = conversation_for(team=sales_team)
    hidden = conversation_for(team=support_team)
    message_in(hidden, "not for rahul")
    response = logged_in(agent).get(reverse("inbox:catch_up"), {"since": since.isoformat()})
    assert response.json()["conversations"] == [changed.pk]
    assert logged_in(agent).get(reverse("inbox:catch_up"), {"since": "yesterday"}).status_code == 400


def test_attachment_download_checks_visibility(logged_in, agent, other_agent, sales_team, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    conversation = conversation_for(team=sales_team)
    message = message_in(conversation, "photo", type="image")
    (tmp_path / "attachments").mkdir()
    (tmp_path / "attachments" / "p.jpg").write_bytes(b"\xff\xd8jpeg")
    attachment = Attachment.objects.create(message=message, kind="image", status="ready", file="attachments/p.jpg", mime_type="image/jpeg")
    response = logged_in(agent).get(reverse("inbox:attachment", args=[attachment.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"\xff\xd8jpeg"
    assert logged_in(other_agent).get(reverse("inbox:attachment", args=[attachment.pk])).status_code == 404


def test_list_rows_show_status_owner_labels_and_unread_with_every_value_escaped(logged_in, agent, sales_team):
    conversation = conversation_for(team=sales_team, assignee=agent, name="<b>Ravi</b> & co", status=Conversation.Status.PENDING)
    Conversation.objects.filter(pk=conversation.pk).update(unread_count=3, last_message_preview="<script>x()</script>")
    conversation.labels.add(LabelFactory(name='"VIP"', color="#e11d48"))
    html = logged_in(agent).get(reverse("inbox:list")).content.decode()
    row = html[html.index(f'id="conv-{conversation.pk}"'):]
    row = row[: row.index("</li>")]
    assert '<span class="conv-name">&lt;b&gt;Ravi&lt;/b&gt; &amp; co</span>' in row
    assert "&lt;script&gt;x()&lt;/script&gt;" in row and "<script>" not in row
    assert '<span class="pill pill-pending">Pending</span>' in row
    assert f'data-role="assignee">{agent}</span>' in row
    assert 'style="--label: #e11d48" title="&quot;VIP&quot;"' in row
    assert '<span class="badge" aria-label="3 unread">3</span>' in row
    assert f'href="/inbox/{conversation.pk}/?view=all" hx-get="/inbox/{conversation.pk}/thread/"' in row


def test_list_filters_show_what_is_chosen(logged_in, agent):
    label = LabelFactory(name="vip")
    html = logged_in(agent).get(reverse("inbox:list"), {"status": "pending", "label": label.pk}).content.decode()
    assert '<option value="pending" selected>Pending</option>' in html
    assert f'<option value="{label.pk}" selected>vip</option>' in html
    assert '<option value="">All numbers</option>' in html
