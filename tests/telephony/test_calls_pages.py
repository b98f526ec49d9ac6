"""The calls page (filters, phone search in any format, per-agent counts, chart, CSV), the call page
with notes, the recording view (who may hear it), and calls on the contact's timeline."""

import datetime

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from tests.factories import ContactFactory, ContactPhoneFactory, UserFactory
from tests.telephony.factories import CallFactory

pytestmark = pytest.mark.django_db


def now():
    return timezone.now()


@pytest.fixture
def calls(agent, teammate, other_agent):
    owned_by_other_team = ContactFactory(owner=other_agent)
    ContactPhoneFactory(contact=owned_by_other_team, number="+919800000003")
    open_contact = ContactPhoneFactory(number="+919812345678").contact
    return {
        "mine": CallFactory(agent=agent, contact=open_contact, status="answered", talk_time=60, started_at=now()),
        "missed": CallFactory(agent=None, contact=open_contact, status="missed", started_at=now() - datetime.timedelta(days=1)),
        "teammate": CallFactory(agent=teammate, contact=open_contact, status="answered", talk_time=30, started_at=now(),
                                direction="outbound", customer_number="+919812345678"),
        "hidden": CallFactory(agent=other_agent, contact=owned_by_other_team, customer_number="+919800000003", started_at=now()),
    }


def test_calls_nav_entry_and_page(logged_in, agent, calls):
    page = logged_in(agent).get("/telephony/calls/")
    html = page.content.decode()
    assert page.status_code == 200 and 'href="/telephony/calls/"' in html and ">Calls<" in html
    assert f'id="call-{calls["mine"].pk}"' in html and f'id="call-{calls["missed"].pk}"' in html
    assert f'id="call-{calls["hidden"].pk}"' not in html  # another team's contact, another agent's call


def test_supervisor_sees_every_call(logged_in, supervisor, calls):
    html = logged_in(supervisor).get("/telephony/calls/").content.decode()
    assert all(f'id="call-{call.pk}"' in html for call in calls.values())


@pytest.mark.parametrize("typed", ["9812345678", "+91 98123 45678", "09812345678", "919812345678", "45678"])
def test_phone_search_in_any_format(logged_in, supervisor, calls, typed):
    html = logged_in(supervisor).get("/telephony/calls/", {"number": typed}).content.decode()
    assert f'id="call-{calls["mine"].pk}"' in html and f'id="call-{calls["hidden"].pk}"' not in html


def test_filters(logged_in, supervisor, calls, agent):
    client = logged_in(supervisor)
    html = client.get("/telephony/calls/", {"status": "missed"}).content.decode()
    assert f'id="call-{calls["missed"].pk}"' in html and f'id="call-{calls["mine"].pk}"' not in html
    html = client.get("/telephony/calls/", {"direction": "outbound"}).content.decode()
    assert f'id="call-{calls["teammate"].pk}"' in html and f'id="call-{calls["mine"].pk}"' not in html
    html = client.get("/telephony/calls/", {"agent": agent.pk}).content.decode()
    assert f'id="call-{calls["mine"].pk}"' in html and f'id="call-{calls["teammate"].pk}"' not in html
    today = timezone.localdate().isoformat()
    html = client.get("/telephony/calls/", {"date_from": today, "date_to": today}).content.decode()
    assert f'id="call-{calls["missed"].pk}"' not in html and f'id="call-{calls["mine"].pk}"' in html


def test_agent_counts_and_chart(logged_in, supervisor, calls, agent):
    html = logged_in(supervisor).get("/telephony/calls/").content.decode()
    assert f"<td>{agent}</td><td>1</td><td>0</td><td>60 s</td>" in html
    assert "<td>No agent</td><td>0</td><td>1</td>" in html
    today, yesterday = timezone.localdate(), timezone.localdate() - datetime.timedelta(days=1)
    assert f'data-day="{today.isoformat()}" data-answered="3" data-missed="0"' in html
    assert f'data-day="{yesterday.isoformat()}" data-answered="0" data-missed="1"' in html


def test_csv_export_applies_visibility_and_filters(logged_in, agent, calls):
    response = logged_in(agent).get("/telephony/calls/export.csv", {"status": "answered"})
    body = b"".join(response.streaming_content).decode()
    assert response["Content-Type"].startswith("text/csv")
    lines = body.strip().splitlines()
    assert lines[0].startswith("started (local),direction,status") and len(lines) == 3  # mine + teammate's
    assert "+919800000003" not in body


def test_call_page_notes_and_access(logged_in, agent, other_agent, calls):
    call = calls["mine"]
    client = logged_in(agent)
    assert client.get(f"/telephony/calls/{call.pk}/").status_code == 200
    client.post(f"/telephony/calls/{call.pk}/notes/", {"body": "Wants a callback after 5"})
    assert call.notes.get().body == "Wants a callback after 5"
    assert "Wants a callback after 5" in client.get(f"/telephony/calls/{call.pk}/").content.decode()
    assert client.get(f"/telephony/calls/{calls['hidden'].pk}/").status_code == 404
    assert client.post(f"/telephony/calls/{calls['hidden'].pk}/notes/", {"body": "x"}).status_code == 404


def test_recording_is_served_as_audio_to_those_who_may_see_the_call(logged_in, agent, other_agent, calls):
    call = calls["hidden"]  # another team's contact, taken by another team's agent
    call.recording.save("r.wav", ContentFile(b"RIFF0000WAVEfmt "), save=False)
    call.recording_status, call.recording_mime = "ready", "audio/wav"
    call.save()
    response = logged_in(other_agent).get(f"/telephony/calls/{call.pk}/recording/")
    assert response.status_code == 200 and response["Content-Type"] == "audio/wav"
    assert response["X-Content-Type-Options"] == "nosniff" and "sandbox" in response["Content-Security-Policy"]
    assert logged_in(agent).get(f"/telephony/calls/{call.pk}/recording/").status_code == 404


def test_recording_that_is_not_audio_is_refused(monkeypatch, calls):
    from telephony import recordings

    call = calls["mine"]
    call.recording_url = "https://x.test/r"
    call.save()
    monkeypatch.setattr(recordings, "download", lambda url, **kw: (b"<svg onload=alert(1)>", "audio/mpeg"))
    recordings.fetch(call.pk)
    call.refresh_from_db()
    assert call.recording_status == "failed" and "did not return audio" in call.recording_error and not call.recording


def test_recording_temporary_failure_retries_later(monkeypatch, calls):
    from telephony import recordings

    call = calls["mine"]
    call.recording_url = "https://x.test/r"
    call.save()

    def broken(url, **kw):
        raise recordings.FetchError("HTTP 503", retryable=True)

    monkeypatch.setattr(recordings, "download", broken)
    with pytest.raises(recordings.RetryLater):
        recordings.fetch(call.pk)
    call.refresh_from_db()
    assert call.recording_status == "pending" and call.recording_attempts == 1


def test_calls_on_the_contact_timeline_with_player_and_note_form(logged_in, agent, calls):
    call = calls["mine"]
    call.recording.save("r.wav", ContentFile(b"RIFF0000WAVEfmt "), save=False)
    call.recording_status, call.recording_mime = "ready", "audio/wav"
    call.hangup_cause, call.hangup_cause_code = "NORMAL_CLEARING", 16
    call.save()
    html = logged_in(agent).get(f"/contacts/{call.contact_id}/").content.decode()
    assert f'src="/telephony/calls/{call.pk}/recording/"' in html and "Normal call clearing" in html
    assert f'action="/telephony/calls/{call.pk}/notes/"' in html
    assert "Message on WhatsApp" in html  # the missed call of the same contact


def test_an_agent_may_open_the_contact_of_a_call_they_took(logged_in, other_agent, calls, agent):
    hidden = calls["hidden"]
    hidden.agent = agent
    hidden.save()
    assert logged_in(agent).get(f"/contacts/{hidden.contact_id}/").status_code == 200


def test_message_on_whatsapp_goes_to_start_a_conversation(logged_in, agent, calls):
    response = logged_in(agent).get(f"/telephony/calls/{calls['missed'].pk}/whatsapp/")
    assert response.status_code == 302 and response["Location"] == f"/outbound/contacts/{calls['missed'].contact_id}/start/"


def test_csv_cells_that_look_like_formulas_are_defused(logged_in, supervisor):
    call = CallFactory(contact=ContactFactory(name="=HYPERLINK(\"x\")"), started_at=now())
    body = b"".join(logged_in(supervisor).get("/telephony/calls/export.csv").streaming_content).decode()
    assert "'=HYPERLINK" in body and call.pk


def test_connections_pages_are_admin_only(logged_in, agent, supervisor):
    for user in (agent, supervisor):
        assert logged_in(user).get("/telephony/connections/").status_code == 403
        assert logged_in(user).get("/telephony/connections/new/").status_code == 403


