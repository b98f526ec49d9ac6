"""A supervisor imports a zipped WhatsApp export: the progress bar finishes, the old messages (with
their photo) sit above the live one in the customer's thread, the conversation list keeps its order,
and the imported conversation is answered with a template (its window is closed: the import opened none)."""

import base64
import datetime
import re
import threading

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from contacts.models import Contact, ContactPhone
from inbox.models import Channel, Conversation, Message, Template
from tests.imports.helpers import export_zip
from tests.inbox.tata_payloads import PARTNER_TOKEN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
CHAT = (
    "12/01/2024, 10:15 - Sharma Store: Namaste! How can we help?\n"
    "12/01/2024, 10:16 - +91 98123 45678: Is the blue kurta in stock?\n"
    "13/01/2024, 09:02 - Sharma Store: IMG-20240113-WA0003.jpg (file attached)\n"
    "This one?\n"
)


def _conversation(channel, phone, name, minutes_ago, text):
    contact = Contact.objects.create(name=name)
    ContactPhone.objects.create(contact=contact, number=phone, is_primary=True)
    at = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    conversation = Conversation.objects.create(channel=channel, contact=contact, last_message_at=at, last_message_preview=text, last_inbound_at=at)
    Message.objects.create(channel=channel, conversation=conversation, direction="in", body=text, timestamp=at)
    return conversation


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 390, "height": 844}], ids=["desktop", "phone"])
def test_import_a_zip_export_and_see_it_above_the_live_messages(asgi_login_page, asgi_live_server, supervisor, password, sales_team, tmp_path, viewport):
    channel = Channel.objects.create(
        kind=Channel.Kind.WHATSAPP, name="Shop WhatsApp", phone_number="+919876500001",
        api_base_url=asgi_live_server.url + "/sandbox/api/tata", access_token="t", partner_token=PARTNER_TOKEN, team=sales_team,
    )  # fmt: skip
    asha = _conversation(channel, "+919812345678", "Asha Verma", 30 * 60, "Live hello")  # wrote 30 h ago: the window is closed
    Template.objects.create(
        channel=channel, name="pickup_ready", language="en", category="UTILITY", status="APPROVED",
        components=[{"type": "BODY", "text": "Your order is ready for pickup."}],
    )
    _conversation(channel, "+919812300000", "Ravi Kumar", 5, "Newest live message")
    page = asgi_login_page(supervisor, password, viewport)
    page.goto(f"{asgi_live_server.url}/inbox/?view=all")
    rows = page.locator("#conv-list .conv")
    expect(rows).to_have_count(2)
    order_before = rows.all_inner_texts()

    page.goto(f"{asgi_live_server.url}/contacts/")
    page.get_by_role("link", name="Import history").click()
    upload = export_zip(CHAT, {"IMG-20240113-WA0003.jpg": PNG})
    path = tmp_path / upload.name
    path.write_bytes(upload.read())
    page.get_by_label("Chat export").set_input_files(str(path))
    page.get_by_role("button", name="Upload").click()
    page.get_by_label("Sharma Store").check()
    page.get_by_label("Which of your numbers was this chat on?").select_option(label=str(channel))
    page.get_by_role("button", name="Import").click()

    expect(page.get_by_test_id("import-status")).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("import-bar")).to_have_attribute("value", "100")
    expect(page.get_by_test_id("import-counts")).to_contain_text("3 imported")

    page.goto(f"{asgi_live_server.url}/inbox/{asha.pk}/")
    bubbles = page.locator(".bubble")
    expect(bubbles.filter(has_text="Live hello")).to_be_visible()
    texts = bubbles.all_inner_texts()
    positions = [next(i for i, t in enumerate(texts) if needle in t) for needle in ("Namaste", "blue kurta", "This one?", "Live hello")]
    assert positions == sorted(positions)
    expect(bubbles.filter(has_text="This one?").locator("img")).to_be_visible()

    page.goto(f"{asgi_live_server.url}/inbox/?view=all")
    expect(rows).to_have_count(2)
    assert rows.all_inner_texts() == order_before

    # Reply from the imported conversation: no free text (the imported messages opened no window), a template.
    page.goto(f"{asgi_live_server.url}/inbox/{asha.pk}/")
    expect(page.locator("#composer-window")).to_contain_text("more than 24 hours ago")
    page.get_by_label("Approved template").select_option(label="pickup_ready (en, utility)")
    page.get_by_role("button", name="Send template").click()
    expect(page.locator("#messages .bubble.out").filter(has_text="Your order is ready for pickup.")).to_be_visible()
    expect(page.locator("#composer-error")).to_be_empty()
    reply = Message.objects.filter(conversation=asha, direction="out").exclude(source="import").get()
    assert reply.body == "Your order is ready for pickup." and reply.sender_id == supervisor.pk


def test_the_progress_bar_follows_the_worker_over_the_websocket(asgi_login_page, asgi_live_server, supervisor, password, sales_team, monkeypatch):
    """The job page is open while the worker runs: the bar and counts move without a reload."""
    from imports import services

    channel = Channel.objects.create(kind=Channel.Kind.WHATSAPP, name="Shop", phone_number="+919876500001", team=sales_team)
    monkeypatch.setattr(services, "enqueue", lambda *args, **kwargs: None)  # the test plays the worker
    monkeypatch.setattr(services, "BATCH_SIZE", 50)
    chat = "".join(f"13/01/2024, {10 + i // 60}:{i % 60:02d} - +91 98123 45678: message {i}\n" for i in range(200))
    job = services.create_whatsapp_job(by=supervisor, upload=export_zip(chat + "13/01/2024, 14:00 - Sharma Store: ok\n"))
    services.start(job, services.Answers(channel=channel, business_sender="Sharma Store"), by=supervisor)

    page = asgi_login_page(supervisor, password)
    page.goto(f"{asgi_live_server.url}/history-import/{job.pk}/")
    expect(page.get_by_test_id("import-status")).to_have_attribute("data-status", "queued")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    worker = threading.Thread(target=_work, args=(job.pk,))  # a worker, off the browser's event loop
    worker.start()
    worker.join(30)
    # Well inside the page's 5-second fallback refresh: this is the websocket.
    expect(page.get_by_test_id("import-status")).to_have_attribute("data-status", "done", timeout=3000)
    expect(page.get_by_test_id("import-bar")).to_have_attribute("value", "100")
    expect(page.get_by_test_id("import-counts")).to_contain_text("201 imported")
    expect(page.get_by_role("link", name=re.compile(r"^Open "))).to_be_visible()  # the refreshed card, once finished


def _work(job_id):
    from django.db import connection

    from imports import services

    try:
        services.run(job_id)
    finally:
        connection.close()
