"""Demo inbox for `make run`: a WhatsApp number with a few hundred messages, fed through the real
webhook ingest (stored events → process_event), so the demo looks exactly like live traffic.

Idempotent: message ids are deterministic ("wamid.DEMO-…"); a second run finds them and stops.
With the sandbox on (embedded defaults) the channel is the sandbox's WhatsApp number, pointed at
PUBLIC_BASE_URL + /sandbox/api/tata, so replies from the demo go through the sandbox too.
"""

import datetime
import json
import secrets

from django.conf import settings
from django.utils import timezone

from accounts.models import Role, Team, User
from contacts.models import Contact
from core import phones
from inbox.ingest.drain import process_event
from inbox.models import TATA_OMNI_BASE_URL, CannedResponse, Channel, Conversation, Message, WebhookEvent

DEMO_NUMBER = "+919876500001"  # the sandbox's WhatsApp number too (sandbox/demo.py)
CONVERSATIONS = 120

OPENERS = [
    "Hi, I want to know the status of my order #{n}",
    "Is the store in Andheri open on Sunday?",
    "My delivery was supposed to come yesterday, still waiting 😟",
    "Can I change the delivery address for order #{n}?",
    "Do you have this in size M? https://shop.example.in/p/{n}",
    "Please send me the invoice for last month",
    "The product arrived damaged. What should I do?",
    "Namaste, is cash on delivery available in Jaipur?",
    "I want to upgrade to the annual plan",
    "How do I return an item?",
]
FOLLOW_UPS = ["Thank you!", "Ok, waiting for your reply", "Any update on this?", "Great, that works 👍", "Can you call me after 6 pm?"]
AGENT_REPLIES = [
    "Hello! Let me check that for you.",
    "Your order is out for delivery and should reach you today.",
    "Sorry about that — I've raised a replacement request.",
    "Yes, we are open 10 am to 9 pm on Sundays.",
    "I've shared the invoice on your registered email.",
]
PLACES = [("Andheri East Office", "Andheri East, Mumbai", 19.1136, 72.8697), ("Koramangala store", "Koramangala, Bengaluru", 12.9352, 77.6245)]


# Canned replies (`/shortcut` in the composer): shared ones, and a few of the agents' own.
SHARED_REPLIES = {
    "greet": "Namaste! Thank you for writing to us. How can I help you today?",
    "hours": "We are open 10 am to 9 pm, Monday to Sunday. Our stores are closed on national holidays.",
    "order-number": "Could you share your order number? It starts with # and is in your confirmation message.",
    "thanks": "Thank you for your patience! Is there anything else I can help you with?",
}
OWN_REPLIES = {
    "rahul": {"upgrade": "The annual plan costs ₹4,999 and saves you two months. Shall I upgrade your account?"},
    "fatima": {"refund": "Your refund has been started. It reaches your account in 5–7 working days."},
}


def seed_canned_replies() -> None:
    for shortcut, body in SHARED_REPLIES.items():
        CannedResponse.objects.get_or_create(shortcut=shortcut, owner=None, defaults={"body": body})
    for username, replies in OWN_REPLIES.items():
        owner = User.objects.filter(username=username).first()
        for shortcut, body in replies.items() if owner else ():
            CannedResponse.objects.get_or_create(shortcut=shortcut, owner=owner, defaults={"body": body})


def seed(*, rng, stdout, **_):
    seed_canned_replies()
    channel = _demo_channel()
    if Message.objects.filter(channel=channel, provider_message_id__startswith="wamid.DEMO-").exists():
        stdout.write(f"Inbox: demo messages already on {channel.name}.")
        return
    agents = list(User.objects.filter(role=Role.AGENT, teams__name="Sales")) or list(User.objects.filter(role=Role.AGENT))
    contacts = list(Contact.objects.filter(phones__isnull=False).order_by("pk").distinct()[:CONVERSATIONS])
    now = timezone.now()
    count = 0
    for index, contact in enumerate(contacts):
        number = contact.primary_phone
        if not phones.try_e164(number):
            continue
        started = now - datetime.timedelta(minutes=rng.randrange(5, 3 * 24 * 60))
        count += _conversation(channel, contact, number, index, started, rng, agents, now)
    stdout.write(f"Inbox: {count} demo messages in {len(contacts)} conversations on {channel.name}.")


def _demo_channel() -> Channel:
    sandbox = settings.SANDBOX_ENABLED
    base = settings.PUBLIC_BASE_URL + "/sandbox/api/tata" if sandbox else TATA_OMNI_BASE_URL
    channel, _ = Channel.objects.get_or_create(
        kind=Channel.Kind.WHATSAPP,
        phone_number=DEMO_NUMBER,
        defaults={
            "name": "Sandbox WhatsApp" if sandbox else "Demo WhatsApp",
            "api_base_url": base,
            "access_token": secrets.token_urlsafe(24),
            "partner_token": secrets.token_urlsafe(24),
            "team": Team.objects.filter(name="Sales").first(),
        },
    )
    return channel


def _conversation(channel, contact, number, index, started, rng, agents, now) -> int:
    digits = phones.provider_digits(number)
    name = contact.name or "Customer"
    at = started
    messages = [("text", {"body": rng.choice(OPENERS).format(n=4500 + index)})]
    if index % 7 == 0:
        messages.append(("location", dict(zip(("name", "address", "latitude", "longitude"), rng.choice(PLACES)))))
    if index % 5 == 0:
        messages.append(("interactive", {"type": "button_reply", "button_reply": {"id": "track_order", "title": "Track order"}}))
    if index % 11 == 0:
        messages.append(("order", {"catalog_id": "1098765432109876", "text": "Please deliver after 6 pm", "product_items": [
            {"product_retailer_id": "SKU-TSHIRT-RED-M", "quantity": 2, "item_price": 499, "currency": "INR"}]}))
    sent = 0
    for position, (kind, body) in enumerate(messages):
        payload = {"from": digits, "id": f"wamid.DEMO-{index}-{position}", "timestamp": str(int(at.timestamp())), "type": kind, kind: body}
        if index % 9 == 0 and position == 0:
            payload["referral"] = {"source_type": "ad", "source_id": "120215550000000001", "headline": "Summer Sale is live",
                                   "body": "Flat 20% off on your first order.", "source_url": "https://fb.me/2ZxQk8Lm1"}
        _ingest(channel, {"contacts": [{"profile": {"name": name}, "wa_id": digits}], "messages": payload})
        sent += 1
        at += datetime.timedelta(minutes=rng.randrange(1, 20))

    conversation = Conversation.objects.get(channel=channel, contact=contact)
    if index % 3 != 2 and agents:  # about two thirds got an answer from an agent
        agent = rng.choice(agents)
        reply_at = min(at + datetime.timedelta(minutes=rng.randrange(2, 30)), now)
        reply = Message.objects.create(
            channel=channel, conversation=conversation, direction=Message.Direction.OUTBOUND, source=Message.Source.AGENT,
            type="text", body=rng.choice(AGENT_REPLIES), content={"type": "text"}, status=Message.Status.QUEUED,
            provider_message_id=f"wamid.DEMO-{index}-reply", sender=agent, timestamp=reply_at,
        )
        for status in ("sent", "delivered", "read")[: rng.randrange(1, 4)]:
            _ingest(channel, {"statuses": [{"id": reply.provider_message_id, "status": status, "recipient_id": digits,
                                            "timestamp": str(int(reply_at.timestamp()) + 2), "custom_callback_data": reply.callback_data}]})
        Conversation.objects.filter(pk=conversation.pk).update(
            last_message_at=reply_at, last_message_preview=reply.body, unread_count=0,
            assignee=agent if index % 2 == 0 else None,
        )
        sent += 1
        if index % 4 == 0:
            follow = {"from": digits, "id": f"wamid.DEMO-{index}-follow", "timestamp": str(int(reply_at.timestamp()) + 60)}
            if index % 8 == 0:
                follow.update(type="reaction", reaction={"message_id": reply.provider_message_id, "emoji": "🙏"})
            else:
                follow.update(type="text", text={"body": rng.choice(FOLLOW_UPS)}, context={"from": channel.phone_number[1:], "id": reply.provider_message_id})
            _ingest(channel, {"contacts": [{"profile": {"name": name}, "wa_id": digits}], "messages": follow})
            sent += 1
        elif index % 6 == 1:
            Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.RESOLVED)
    return sent


def _ingest(channel: Channel, payload: dict) -> None:
    event = WebhookEvent.objects.create(source=f"tata_{channel.kind}", channel=channel, headers={"User-Agent": "sampark-demo"},
                                        body=json.dumps(payload).encode())
    process_event(event)
