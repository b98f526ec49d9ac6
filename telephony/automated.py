"""Automated calls a business runs — order/COD confirmations and payment reminders — and their campaigns.

A campaign stores one AutomatedCall per contact of a contacts filter (the message campaigns' filter),
then `place_next` (a task that re-enqueues itself `60 / calls_per_minute` seconds later) places one
call at a time with Smartflo's click-to-call-support: the customer's phone rings and, once answered,
Smartflo streams the call to us (the Outbound Voice URL → our WebSocket, telephony.streaming). The
stream plays the campaign's prompt and collects the keypad: 1 confirmed, 2 cancelled, 3 asked for an
agent (transferred to `transfer_to`). The answer lands on the contact's timeline as a note on the
call, and the customer's audio of the stream is kept as the call's recording.

The functions the stream calls (`begin_stream`, `answer`, `end_stream`, `hang_up`) are synchronous:
the stream (telephony.streaming) runs them on a worker thread (database_sync_to_async).
"""

import datetime
import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import User
from accounts.selectors import STAFF_GROUP, can_manage_contacts_in_bulk, user_group
from campaigns.services import audience_chosen, recipients_of
from contacts.models import ContactPhone
from core.errors import ApplicationError, NotAllowed
from core.events import publish
from core.tasks import enqueue, enqueue_later
from telephony import audio, events
from telephony.models import AgentLine, AutomatedCall, Call, CallAction, CallCampaign, CallNote, TelephonyConnection
from telephony.providers import smartflo

IDENTIFIER_PREFIX = "sampark-auto-"
ANSWERS = {"1": AutomatedCall.Outcome.CONFIRMED, "2": AutomatedCall.Outcome.CANCELLED, "3": AutomatedCall.Outcome.AGENT}
DEFAULT_PROMPT_TONES = (660.0, 880.0, 660.0)  # played when a campaign has no recording of its own


# ---------------------------------------------------------------- starting a campaign


def prompt_from_upload(upload) -> bytes:
    """An uploaded WAV → μ-law 8 kHz (raises ApplicationError in words)."""
    if upload.size > settings.TELEPHONY_PROMPT_MAX_BYTES:
        raise ApplicationError(f"The recording is larger than {settings.TELEPHONY_PROMPT_MAX_BYTES // 1_000_000} MB.")
    try:
        return audio.to_ulaw(upload.read(), max_seconds=settings.TELEPHONY_PROMPT_MAX_SECONDS)
    except audio.NotAudio as exc:
        raise ApplicationError(str(exc)) from None


def check(*, by: User, connection: TelephonyConnection | None, caller_id: str, filters: dict) -> list[int]:
    if not can_manage_contacts_in_bulk(by):
        raise NotAllowed("Only supervisors and admins run automated calls.")
    if connection is None or not connection.is_smartflo:
        raise ApplicationError("Automated calls need a Tata Smartflo account.")
    if not connection.api_key:
        raise ApplicationError("The account has no Click to Call Support API key (the setup's phase 4). Ask an admin to add it.")
    if caller_id and caller_id not in connection.phone_numbers:
        raise ApplicationError("Choose one of the account's numbers as the caller id.")
    if not audience_chosen(filters):
        raise ApplicationError("Choose whom to call: a search, a label or an owner, or tick “Every contact”.")
    contacts = recipients_of(by, filters)
    if not contacts:
        raise ApplicationError("The filter selects no contacts with a phone number.")
    return contacts


def start(*, by: User, name: str, kind: str, connection: TelephonyConnection, caller_id: str = "", prompt: bytes = b"",
          prompt_name: str = "", transfer_to: str = "", filters: dict, calls_per_minute: int = 10) -> CallCampaign:
    contacts = check(by=by, connection=connection, caller_id=caller_id, filters=filters)
    numbers = _primary_numbers(contacts)
    with transaction.atomic():
        campaign = CallCampaign(
            name=name.strip()[:200] or f"{CallCampaign.Kind(kind).label} — {timezone.localtime():%d %b %H:%M}", kind=kind,
            connection=connection, caller_id=caller_id or (connection.phone_numbers[0] if connection.phone_numbers else ""),
            transfer_to="".join(c for c in transfer_to if c.isdigit())[:32], prompt_name=prompt_name[:200],
            filters={k: v for k, v in filters.items() if v}, calls_per_minute=max(1, min(int(calls_per_minute), 60)), created_by=by,
        )
        if prompt:
            campaign.prompt.save("prompt.ulaw", ContentFile(prompt), save=False)
        campaign.save()
        AutomatedCall.objects.bulk_create([
            AutomatedCall(campaign=campaign, contact_id=pk, number=numbers.get(pk, "")) for pk in contacts
        ], batch_size=1000)
        enqueue("telephony.place_automated_call", campaign.pk)
        _announce(campaign)
    return campaign


def _primary_numbers(contact_ids: list[int]) -> dict[int, str]:
    numbers = {}
    rows = ContactPhone.objects.filter(contact_id__in=contact_ids).order_by("contact_id", "-is_primary", "pk")
    for contact_id, number in rows.values_list("contact_id", "number"):
        numbers.setdefault(contact_id, number)
    return numbers


# ---------------------------------------------------------------- placing the calls, rate-limited


def place_next(campaign_id: int) -> AutomatedCall | None:
    """Place the campaign's next waiting call, then come back after the campaign's interval."""
    campaign = CallCampaign.objects.select_related("connection").filter(pk=campaign_id).first()
    if campaign is None or campaign.status != CallCampaign.Status.RUNNING:
        return None
    with transaction.atomic():
        automated = (AutomatedCall.objects.select_for_update(skip_locked=True, of=("self",))
                     .filter(campaign=campaign, status=AutomatedCall.Status.PENDING).select_related("contact").first())
        if automated is not None:
            automated.status = AutomatedCall.Status.PLACED  # claimed: a second runner skips it
            automated.save(update_fields=["status"])
    if automated is not None:
        place(campaign, automated)
    if AutomatedCall.objects.filter(campaign=campaign, status=AutomatedCall.Status.PENDING).exists():
        enqueue_later("telephony.place_automated_call", (campaign.pk,), 60.0 / campaign.calls_per_minute)
    elif not finish_if_settled(campaign):  # calls still ringing: look again when they may be given up
        enqueue_later("telephony.place_automated_call", (campaign.pk,), settings.TELEPHONY_AUTOMATED_GIVE_UP_SECONDS + 1)
    return automated


def place(campaign: CallCampaign, automated: AutomatedCall) -> AutomatedCall:
    """Click-to-call-support to the customer: the Call exists first (our custom_identifier), so the
    stream and the hangup webhook find it."""
    from telephony.services import client_for

    if not automated.number:
        return _settle(automated, AutomatedCall.Status.SKIPPED, "The contact has no phone number.")
    connection = campaign.connection
    call = Call.objects.create(
        connection=connection, direction=Call.Direction.OUTBOUND, status=Call.Status.REQUESTED,
        custom_identifier=f"{IDENTIFIER_PREFIX}{uuid.uuid4().hex[:20]}", customer_number=automated.number,
        did_number=campaign.caller_id, agent_name=f"Automated: {campaign.get_kind_display()}", contact=automated.contact,
        started_at=timezone.now(),
    )
    automated.call, automated.placed_at = call, timezone.now()
    automated.save(update_fields=["call", "placed_at"])
    try:
        answer = client_for(connection).click_to_call_support(
            api_key=connection.api_key, customer_number=automated.number, caller_id=campaign.caller_id,
            custom_identifier=call.custom_identifier, customer_ring_timeout=settings.TELEPHONY_AUTOMATED_RING_SECONDS,
        )
    except smartflo.SmartfloError as exc:
        from telephony.live import in_words

        words = in_words(exc)
        Call.objects.filter(pk=call.pk).update(status=Call.Status.FAILED, hangup_description=words[:200], ended_at=timezone.now())
        return _settle(automated, AutomatedCall.Status.FAILED, words)
    Call.objects.filter(pk=call.pk).update(ref_id=answer["ref_id"][:128])
    _announce(campaign)
    return automated


def _settle(automated: AutomatedCall, status: str, reason: str) -> AutomatedCall:
    automated.status, automated.reason, automated.ended_at = status, reason[:300], timezone.now()
    automated.save(update_fields=["status", "reason", "ended_at"])
    _announce(automated.campaign)
    return automated


# ---------------------------------------------------------------- the stream (called by telephony.streaming)


STREAM_TOKEN_SALT = "telephony.stream"


def stream_token(connection: TelephonyConnection) -> str:
    """The stream socket's credential: signed, expiring, naming the connection — not its Status URL
    token, which the Outbound Voice URL's answer would otherwise repeat."""
    return signing.dumps(str(connection.pk), salt=STREAM_TOKEN_SALT)


def connection_of_stream_token(token: str):
    """The connection id a stream token names, or None (forged, expired)."""
    try:
        return signing.loads(token, salt=STREAM_TOKEN_SALT, max_age=settings.TELEPHONY_STREAM_TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None


def stream_url(connection: TelephonyConnection, identifier: str = "") -> str:
    """The WebSocket Smartflo streams a call to (what the Outbound Voice URL answers)."""
    base = settings.PUBLIC_BASE_URL.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    url = f"{base}/ws/telephony/stream/{stream_token(connection)}/"
    return url + (f"?{urlencode({'call': identifier})}" if identifier else "")


def find_for_stream(connection_id, *, identifier: str, call_id: str) -> AutomatedCall | None:
    calls = AutomatedCall.objects.select_related("campaign", "call").filter(
        campaign__connection_id=connection_id, status__in=[AutomatedCall.Status.PLACED, AutomatedCall.Status.STREAMING])
    if identifier.startswith(IDENTIFIER_PREFIX):
        found = calls.filter(call__custom_identifier=identifier).first()
        if found:
            return found
    if call_id:
        return calls.filter(Q(call__provider_call_id=call_id) | Q(call__ref_id=call_id)).first()
    return None


def begin_stream(connection_id, *, identifier: str, call_id: str, stream_id: str) -> tuple[int, bytes] | None:
    """`start`: the automated call this stream carries → (its id, the prompt's μ-law). None: unknown."""
    automated = find_for_stream(connection_id, identifier=identifier, call_id=call_id)
    if automated is None:
        return None
    automated.status, automated.stream_id = AutomatedCall.Status.STREAMING, stream_id[:128]
    automated.save(update_fields=["status", "stream_id"])
    call = automated.call
    call.status = Call.Status.IN_PROGRESS
    call.answered_at = call.answered_at or timezone.now()
    fields = ["status", "answered_at", "updated_at"]
    if call_id and not call.provider_call_id and not Call.objects.filter(connection_id=connection_id, provider_call_id=call_id).exists():
        call.provider_call_id = call_id[:128]
        fields.append("provider_call_id")
    call.save(update_fields=fields)
    events.call_updated(call)
    _announce(automated.campaign)
    return automated.pk, prompt_of(automated.campaign)


def prompt_of(campaign: CallCampaign) -> bytes:
    if campaign.prompt:
        with campaign.prompt.open("rb") as source:
            return source.read()
    return audio.tone(1.5, DEFAULT_PROMPT_TONES)


OUTCOME_NOTES = {
    AutomatedCall.Outcome.CONFIRMED: "confirmed (pressed 1)",
    AutomatedCall.Outcome.CANCELLED: "cancelled (pressed 2)",
    AutomatedCall.Outcome.AGENT: "asked for an agent (pressed 3)",
    AutomatedCall.Outcome.NO_ANSWER: "no answer on the keypad",
    AutomatedCall.Outcome.DROPPED: "the line dropped before an answer",
}


def answer(automated_id: int, digit: str) -> str:
    """A key pressed: the first 1, 2 or 3 is the answer (noted on the call; 3 transfers). Returns the
    outcome it set, or "" (another key, or an answer already given)."""
    with transaction.atomic():
        automated = AutomatedCall.objects.select_for_update(of=("self",)).select_related("campaign", "call").get(pk=automated_id)
        automated.digits = (automated.digits + digit)[-32:]
        outcome = ANSWERS.get(digit, "") if not automated.outcome else ""
        if outcome:
            automated.outcome = outcome
            _note(automated, outcome)
        automated.save(update_fields=["digits", "outcome"])
    if outcome == AutomatedCall.Outcome.AGENT:  # a request to Smartflo: off the stream's database thread
        enqueue("telephony.transfer_automated_call", automated.pk)
    if outcome:
        events.call_updated(automated.call)
        _announce(automated.campaign)
    return outcome


def _note(automated: AutomatedCall, outcome: str) -> None:
    if automated.call_id:
        CallNote.objects.create(call_id=automated.call_id, author=None,
                                body=f"{automated.campaign.get_kind_display()} ({automated.campaign.name}): {OUTCOME_NOTES[outcome]}")


def transfer_to_agent(automated_id: int) -> CallAction:
    """“3”: Smartflo's transfer (call operation 4) to the campaign's target, else the first agent's line."""
    from telephony.live import in_words
    from telephony.services import client_for

    automated = AutomatedCall.objects.select_related("campaign", "call__connection").get(pk=automated_id)
    call = automated.call
    target = automated.campaign.transfer_to or next(
        (line.transfer_number for line in AgentLine.objects.order_by("pk") if line.transfer_number), "")
    if not target or not call.provider_call_id:
        return CallAction.objects.create(call=call, kind=CallAction.Kind.TRANSFER, target=target, ok=False,
                                         result="Nowhere to transfer to: set the campaign's transfer target or an agent's line.")
    try:
        result = client_for(call.connection).transfer(call.provider_call_id, target)
    except smartflo.SmartfloError as exc:
        return CallAction.objects.create(call=call, kind=CallAction.Kind.TRANSFER, target=target, ok=False, result=in_words(exc)[:300])
    return CallAction.objects.create(call=call, kind=CallAction.Kind.TRANSFER, target=target, ok=True,
                                     result=str(result.get("message") or "Transferred")[:300])


def end_stream(automated_id: int, recording: bytes, *, frames_in: int, dropped: bool) -> None:
    """`stop`, or the socket went away: keep the customer's audio as the call's recording and settle."""
    automated = AutomatedCall.objects.select_related("campaign", "call").get(pk=automated_id)
    if not automated.outcome:
        automated.outcome = AutomatedCall.Outcome.DROPPED if dropped else AutomatedCall.Outcome.NO_ANSWER
        _note(automated, automated.outcome)
    automated.status, automated.frames_in, automated.ended_at = AutomatedCall.Status.ENDED, frames_in, timezone.now()
    automated.save(update_fields=["status", "outcome", "frames_in", "ended_at"])
    call = automated.call
    if call is not None:
        if recording:
            call.recording.save(f"stream-{call.pk}.wav", ContentFile(audio.to_wav(recording)), save=False)
            call.recording_status, call.recording_mime = Call.Recording.READY, "audio/wav"
        call.status = Call.Status.ANSWERED
        call.talk_time = max(call.talk_time or 0, frames_in // 50)
        call.ended_at = call.ended_at or timezone.now()
        call.save(update_fields=["recording", "recording_status", "recording_mime", "status", "talk_time", "ended_at", "updated_at"])
        events.call_updated(call)
    finish_if_settled(automated.campaign)
    _announce(automated.campaign)


def request_hang_up(automated_id: int) -> None:
    """The stream asks to end the call: a task, so the request to Smartflo leaves the stream's database thread."""
    enqueue("telephony.hang_up_automated_call", automated_id)


def hang_up(automated_id: int) -> None:
    """After the answer's acknowledgement has played: end the call (best effort; the customer may have)."""
    from telephony.services import client_for

    automated = AutomatedCall.objects.select_related("call__connection").get(pk=automated_id)
    call = automated.call
    if call is None or not call.provider_call_id or automated.outcome == AutomatedCall.Outcome.AGENT:
        return
    try:
        client_for(call.connection).hangup(call.provider_call_id)
    except smartflo.SmartfloError:
        pass  # already ended, or Smartflo ends it when the stream closes


# ---------------------------------------------------------------- progress


def finish_if_settled(campaign: CallCampaign) -> bool:
    """Done when no call waits, rings or streams (a call placed long ago without a stream is given up)."""
    open_calls = [AutomatedCall.Status.PENDING, AutomatedCall.Status.PLACED, AutomatedCall.Status.STREAMING]
    stale = timezone.now() - datetime.timedelta(seconds=settings.TELEPHONY_AUTOMATED_GIVE_UP_SECONDS)
    # A placed call that never streamed (not answered, or no webhook) stops holding the campaign open.
    AutomatedCall.objects.filter(campaign=campaign, status=AutomatedCall.Status.PLACED, placed_at__lt=stale).update(
        status=AutomatedCall.Status.ENDED, reason="Not answered", ended_at=timezone.now())
    if AutomatedCall.objects.filter(campaign=campaign, status__in=open_calls).exists():
        return False
    CallCampaign.objects.filter(pk=campaign.pk, status=CallCampaign.Status.RUNNING).update(
        status=CallCampaign.Status.DONE, finished_at=timezone.now())
    return True


RESULTS = ("waiting", "calling", "confirmed", "cancelled", "agent", "no_answer", "dropped", "not_answered", "failed", "skipped")
RESULT_WORDS = {"waiting": "waiting", "calling": "calling", "confirmed": "confirmed", "cancelled": "cancelled",
                "agent": "asked for an agent", "no_answer": "no key pressed", "dropped": "line dropped",
                "not_answered": "not answered", "failed": "could not call", "skipped": "skipped"}


def result_of(automated: AutomatedCall) -> str:
    if automated.status == AutomatedCall.Status.PENDING:
        return "waiting"
    if automated.status in (AutomatedCall.Status.PLACED, AutomatedCall.Status.STREAMING):
        return "calling"
    if automated.status in (AutomatedCall.Status.FAILED, AutomatedCall.Status.SKIPPED):
        return automated.status
    return automated.outcome or "not_answered"


def progress(campaign: CallCampaign) -> dict:
    counts = dict.fromkeys(RESULTS, 0)
    for row in campaign.calls.values("status", "outcome").annotate(n=Count("pk")):
        counts[result_of(AutomatedCall(status=row["status"], outcome=row["outcome"]))] += row["n"]
    total = sum(counts.values())
    done = total - counts["waiting"] - counts["calling"]
    return {**counts, "total": total, "done": done, "percent": int(100 * done / total) if total else 100}


def cancel(campaign: CallCampaign, *, by: User) -> CallCampaign:
    if not can_manage_contacts_in_bulk(by):
        raise NotAllowed("Only supervisors and admins manage automated calls.")
    with transaction.atomic():
        CallCampaign.objects.filter(pk=campaign.pk, status=CallCampaign.Status.RUNNING).update(
            status=CallCampaign.Status.CANCELLED, finished_at=timezone.now())
        campaign.calls.filter(status=AutomatedCall.Status.PENDING).update(status=AutomatedCall.Status.SKIPPED, reason="Campaign stopped")
        campaign.refresh_from_db()
        _announce(campaign)
    return campaign


def _announce(campaign: CallCampaign) -> None:
    groups = {STAFF_GROUP}
    if campaign.created_by_id:
        groups.add(user_group(campaign.created_by_id))
    publish("call_campaign.updated", {"campaign": campaign.pk, "status": campaign.status}, groups)
