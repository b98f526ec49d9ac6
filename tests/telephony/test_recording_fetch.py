"""Recording links come from webhooks and call records: they are fetched through core.safe_http, so a
link to a private or loopback address is refused (and recorded as a failure), while the connection's
own API base (the sandbox Smartflo on 127.0.0.1 in development) is trusted."""

import pytest
from django.utils.timezone import now

from sandbox import smartflo as sandbox_smartflo
from sandbox.models import SandboxCall
from telephony import recordings
from tests.telephony.factories import CallFactory, ConnectionFactory


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/recordings/r.wav",  # loopback
    "http://10.0.0.8/recordings/r.wav",  # our private network
    "http://169.254.169.254/latest/meta-data/",  # the cloud's metadata service
    "file:///etc/passwd",  # not http(s)
])
def test_a_recording_link_to_a_private_address_is_refused_and_recorded(db, url):
    call = CallFactory(connection=ConnectionFactory(base_url="https://smartflo.test"), recording_url="https://x.test/r",
                       recording_status="pending", started_at=now())
    call.__class__.objects.filter(pk=call.pk).update(recording_url=url)  # as a webhook could store it
    recordings.fetch(call.pk)  # a refusal is final: no retry is scheduled
    call.refresh_from_db()
    assert call.recording_status == "failed" and not call.recording
    assert "refused" in call.recording_error and call.recording_attempts == 1


def test_loopback_on_another_port_than_the_trusted_api_base_is_refused(db):
    connection = ConnectionFactory(base_url="http://127.0.0.1:8000/sandbox/api/smartflo")
    call = CallFactory(connection=connection, recording_url="http://127.0.0.1:6379/r.wav", recording_status="pending", started_at=now())
    recordings.fetch(call.pk)
    call.refresh_from_db()
    assert call.recording_status == "failed" and "private or reserved" in call.recording_error


@pytest.mark.django_db(transaction=True)
def test_the_sandbox_recording_on_the_trusted_api_base_still_downloads(live_server, settings, tmp_path):
    settings.SANDBOX_ENABLED, settings.MEDIA_ROOT = True, tmp_path
    connection = ConnectionFactory(base_url=live_server.url + sandbox_smartflo.SMARTFLO_PATH, auth_token="sandbox-token")
    sandbox_call = SandboxCall.objects.create(connection=connection, call_id="sb-1", uuid="sb-u-1", customer_number="+919812345678",
                                              did_number="+918069000000", started_at=now(), has_recording=True)
    link = f"{live_server.url}/sandbox/api/smartflo/recordings/{sandbox_smartflo.recording_token(sandbox_call)}.wav"
    call = CallFactory(connection=connection, recording_url=link, recording_status="pending", started_at=now())
    recordings.fetch(call.pk)
    call.refresh_from_db()
    assert call.recording_status == "ready", call.recording_error
    assert call.recording_mime == "audio/wav" and call.recording.read()[:4] == b"RIFF"
