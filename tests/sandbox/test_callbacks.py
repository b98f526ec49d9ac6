"""The sandbox's courier: a few threads post every send's callbacks over kept-alive sessions, in order per send."""

import threading

import pytest
import responses
from django.urls import reverse

from inbox.models import Channel
from inbox.providers import tata_whatsapp
from sandbox import callbacks, omni
from tests.inbox.tata_payloads import PARTNER_TOKEN

pytestmark = pytest.mark.django_db


def courier_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("sandbox-callbacks")]


def test_many_sends_share_a_few_threads_and_each_sends_callbacks_stay_in_order():
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, "http://hooks.test/x", status=200)
        plans = [
            omni.deliver_later("http://hooks.test/x", "secret", [omni.Callback(delay, f"{send}:{step}".encode())
                                                                 for step, delay in enumerate((0.2, 0.21, 0.22))])
            for send in range(30)
        ]
        assert len(courier_threads()) <= callbacks.COURIER_THREADS  # not a thread per send
        assert all(plan.join(timeout=10) for plan in plans)
        posted = [call.request.body.decode().split(":") for call in mock.calls]
        assert len(posted) == 90
        for send in range(30):
            assert [step for s, step in posted if s == str(send)] == ["0", "1", "2"]


def test_a_send_without_callbacks_is_done_at_once():
    assert omni.deliver_later("http://hooks.test/x", "secret", []).join(timeout=0)


def test_status_callbacks_can_be_held_back(client, settings, monkeypatch):
    settings.SANDBOX_STATUS_CALLBACKS = False
    planned = []
    monkeypatch.setattr(omni, "deliver_later", lambda *args: planned.append(args))
    Channel.objects.create(kind=Channel.Kind.WHATSAPP, name="Sandbox", phone_number="+919876500001",
                           api_base_url="http://testserver/sandbox/api/tata", access_token="sandbox-token", partner_token=PARTNER_TOKEN)
    payload = tata_whatsapp.message_payload("+919812345678", tata_whatsapp.template_content("offer", "en", []), callback_data="sampark-msg-x")
    response = client.post(reverse("sandbox:wa_messages"), payload, content_type="application/json", HTTP_AUTHORIZATION="Bearer sandbox-token")
    assert response.status_code == 200 and planned == []
    settings.SANDBOX_STATUS_CALLBACKS = True
    client.post(reverse("sandbox:wa_messages"), payload, content_type="application/json", HTTP_AUTHORIZATION="Bearer sandbox-token")
    assert len(planned) == 1
