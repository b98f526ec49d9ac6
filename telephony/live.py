"""Calls as they happen: click-to-call, the live calls of each Smartflo account, and what agents and
supervisors do to a live call (monitor, whisper, barge, transfer, hang up), each audited as a CallAction.

A click-to-call's Call row exists from the click (status "requested", our `custom_identifier`),
before Smartflo is asked, so whatever comes first — live-calls data or the hangup webhook, both
carrying the identifier — finds it. It then moves requested → ringing → in progress → outcome
through `telephony.ingest.record`, which publishes every change.

Live calls are polled by one job per connection (`poll_due`), never per browser: the live page and a
pending click-to-call mark the connection as watched (a cache key that expires), the beat task (or,
on embedded defaults, the watching page's ping) runs a poll when one is due, at most one per
LIVE_POLL_SECONDS per connection, and the snapshot is pushed over the websocket."""

import datetime
import logging
import threading
import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connections as db_connections
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from accounts.selectors import STAFF_GROUP
from contacts.services import find_or_create_by_phone
from core import phones
from core.errors import ApplicationError, NotAllowed
from core.events import publish
from core.tasks import enqueue
from telephony import events, ingest
from telephony.agent_directory import AgentDirectory
from telephony.models import AgentLine, Call, CallAction, Provider, TelephonyConnection
from telephony.providers import smartflo
from telephony.services import client_for

logger = logging.getLogger(__name__)

LIVE_STATES = (Call.Status.REQUESTED, Call.Status.RINGING, Call.Status.IN_PROGRESS)
WATCH_SECONDS = 45  # a live page pings well within this; a click-to-call watches its call this long
PENDING_CALL_MINUTES = 30  # a click-to-call still "live" after this long is not polled for any more


def poll_seconds() -> float:
    return settings.TELEPHONY_LIVE_POLL_SECONDS


def calling_connection() -> TelephonyConnection | None:
    """The connection click-to-call and live calls go through: the default, if it is Smartflo; else
    the first active Smartflo one. None when there is none (the button is not offered)."""
    smartflo_connections = TelephonyConnection.objects.filter(provider=Provider.TATA_SMARTFLO).exclude(
        status=TelephonyConnection.Status.PENDING
    )
    return smartflo_connections.order_by("-is_default", "name").first()


def admins_to_ask() -> str:
    names = [str(u) for u in User.objects.filter(role=Role.ADMIN, is_active=True)[:3]]
    return ", ".join(names) or "an admin"


def no_line_message() -> str:
    return (f"You have no phone line on Smartflo yet, so there is no phone to ring first. Ask {admins_to_ask()} to "
            "import the agents from Smartflo, or set your agent id on your profile.")


REFUSAL_WORDS = (
    (smartflo.AgentBusy, "Your phone is busy on another call. Finish it, then call again."),
    (smartflo.InvalidNumber, "Smartflo says this number is not valid."),
    (smartflo.NoBalance, "The Smartflo account has no balance left. Ask an admin to recharge it."),
    (smartflo.RateLimited, "Smartflo is getting too many requests right now. Wait a minute and try again."),
    (smartflo.AuthFailed, "Smartflo refused the account's token. Ask an admin to test the telephony connection."),
    (smartflo.NoPermission, "The account's token may not place calls. Ask an admin to check its permissions on Smartflo."),
    (smartflo.Unreachable, "Smartflo could not be reached. Try again in a moment."),
)


def in_words(exc: smartflo.SmartfloError) -> str:
    for error, words in REFUSAL_WORDS:
        if isinstance(exc, error):
            return f"{words} ({exc.message})" if exc.message and error in (smartflo.InvalidNumber, smartflo.AgentBusy) else words
    return f"Smartflo refused: {exc.message}"


def _audit(call: Call, kind: str, by, *, target: str = "", ok: bool, result: str) -> CallAction:
    action = CallAction.objects.create(call=call, kind=kind, by=by, target=target[:64], ok=ok, result=result[:300])
    events.call_updated(call)
    return action


# ---------------------------------------------------------------- click-to-call


def click_to_call(user: User, number: str, *, caller_id: str = "", connection: TelephonyConnection | None = None) -> Call:
    """Ring the user's phone, then `number` (Smartflo's agent-first click-to-call). The Call row is
    saved first; a refusal leaves it "failed" with Smartflo's words, and raises them."""
    connection = connection or calling_connection()
    if connection is None or not connection.is_smartflo:
        raise ApplicationError("No Tata Smartflo account is connected, so calls cannot be placed from Sampark.")
    line = AgentLine.objects.filter(user=user).select_related("user").first()
    if line is None or not line.dial_number:
        raise ApplicationError(no_line_message(), code="no_line")
    customer = phones.try_e164(number or "")
    if not customer:
        raise ApplicationError(f"“{number}” is not a phone number.", code="invalid_number")
    if caller_id and caller_id not in connection.phone_numbers:
        raise ApplicationError("Choose one of the account's numbers as the caller id.")
    caller_id = caller_id or (connection.phone_numbers[0] if connection.phone_numbers else "")
    with transaction.atomic():
        contact, _ = find_or_create_by_phone(customer)
        call = Call.objects.create(
            connection=connection, direction=Call.Direction.OUTBOUND, status=Call.Status.REQUESTED,
            custom_identifier=f"sampark-{uuid.uuid4().hex[:20]}", customer_number=customer, did_number=caller_id,
            agent=user, agent_number=line.dial_number, agent_name=str(user), contact=contact, started_at=timezone.now(),
        )
    watch(connection)
    try:
        answer = client_for(connection).click_to_call(
            agent_number=line.dial_number, destination_number=customer, caller_id=caller_id, custom_identifier=call.custom_identifier,
        )
    except smartflo.SmartfloError as exc:
        words = in_words(exc)
        Call.objects.filter(pk=call.pk).update(status=Call.Status.FAILED, hangup_description=words[:200], ended_at=timezone.now())
        call.refresh_from_db()
        _audit(call, CallAction.Kind.CLICK_TO_CALL, user, target=customer, ok=False, result=words)
        raise ApplicationError(words, code="refused") from exc
    call.ref_id = answer["ref_id"][:128]
    call.raw = {**call.raw, **{f"click_to_call.{k}": smartflo._text(v) for k, v in answer["raw"].items()}}
    call.save(update_fields=["ref_id", "raw", "updated_at"])
    _audit(call, CallAction.Kind.CLICK_TO_CALL, user, target=customer, ok=True, result=answer["raw"].get("message", "") or "Ringing your phone")
    return call


# ---------------------------------------------------------------- live calls: one poll per connection


def watch_key(connection_id) -> str:
    return f"telephony:live:watched:{connection_id}"


def snapshot_key(connection_id) -> str:
    return f"telephony:live:snapshot:{connection_id}"


def watch(connection: TelephonyConnection) -> None:
    """Someone wants this connection's live calls (the live page's ping, a click-to-call)."""
    cache.set(watch_key(connection.pk), 1, WATCH_SECONDS)


def is_watched(connection: TelephonyConnection) -> bool:
    if cache.get(watch_key(connection.pk)):
        return True
    recent = timezone.now() - datetime.timedelta(minutes=PENDING_CALL_MINUTES)
    return Call.objects.filter(connection=connection, status__in=LIVE_STATES, created_at__gte=recent).exists()


def poll_due(*, force: bool = False) -> list[str]:
    """The periodic job: each watched Smartflo connection whose last poll is older than the poll
    interval is polled once (cache.add is the per-connection gate, across processes)."""
    polled = []
    for connection in TelephonyConnection.objects.filter(provider=Provider.TATA_SMARTFLO, status=TelephonyConnection.Status.ACTIVE):
        if not force and not is_watched(connection):
            continue
        if not cache.add(f"telephony:live:gate:{connection.pk}", 1, poll_seconds()):
            continue
        try:
            poll(connection)
            polled.append(str(connection.pk))
        except smartflo.SmartfloError as exc:
            logger.warning("live calls of %s: %s", connection.pk, exc.message)
            cache.set(snapshot_key(connection.pk), {"at": timezone.now().isoformat(), "error": in_words(exc), "calls": []}, 300)
    return polled


def ping(connection: TelephonyConnection) -> None:
    """A watching page's ping. With Celery beat the periodic job polls. On embedded defaults (no
    beat) the ping starts this process's poller thread, which runs the same job every interval until
    nobody has watched for a while; tests (TASKS_INLINE) run one poll inline instead."""
    watch(connection)
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        return
    if settings.TASKS_INLINE:
        enqueue("telephony.poll_live_calls")
    else:
        transaction.on_commit(_start_embedded_poller, robust=True)


_poller: threading.Thread | None = None
_poller_lock = threading.Lock()
_last_ping = 0.0
EMBEDDED_IDLE_ROUNDS = 3


def _start_embedded_poller() -> None:
    global _poller, _last_ping
    with _poller_lock:
        _last_ping = time.monotonic()
        if _poller is not None and _poller.is_alive():
            return
        _poller = threading.Thread(target=_embedded_poller, name="telephony-live-poller", daemon=True)
        _poller.start()


def _embedded_poller() -> None:
    global _poller
    idle = 0
    try:
        while True:
            try:
                watched = any(is_watched(c) for c in TelephonyConnection.objects.filter(provider=Provider.TATA_SMARTFLO))
                poll_due()
            except Exception:  # one bad round (a locked database) counts as idle
                logger.warning("live calls poller: a round failed", exc_info=True)
                watched = False
            idle = 0 if watched else idle + 1
            if idle >= EMBEDDED_IDLE_ROUNDS:
                # Stop under the lock, unless a ping came meanwhile: a ping never finds a poller that
                # is about to stop without polling for it.
                with _poller_lock:
                    if time.monotonic() - _last_ping > poll_seconds() * EMBEDDED_IDLE_ROUNDS:
                        _poller = None
                        return
                idle = 0
            time.sleep(poll_seconds())
    finally:
        db_connections.close_all()


def poll(connection: TelephonyConnection, *, client: smartflo.SmartfloClient | None = None) -> list[dict]:
    """Read the account's live calls, fold each into its Call (created for calls we have not seen,
    e.g. inbound ones ringing now), store the snapshot and push it to supervisors."""
    rows = (client or client_for(connection)).live_calls()
    calls = []
    agents = AgentDirectory()
    for row in rows:
        if not row.call_id:
            continue
        event = smartflo.CallEvent(
            call_id=row.call_id, ref_id=row.ref_id, custom_identifier=row.custom_identifier, direction=row.direction,
            status=row.state, customer_number=row.customer_number, did_number=row.did_number, agent_number=row.agent_number,
            agent_name=row.agent_name, started_at=row.started_at, raw={f"live.{k}": v for k, v in row.raw.items()},
        )
        call, _ = ingest.record(connection, event, follow_ups=False, agents=agents)
        calls.append(call.pk)
    snapshot = {"at": timezone.now().isoformat(), "error": "", "calls": calls}
    cache.set(snapshot_key(connection.pk), snapshot, 300)
    publish("calls.live", {"connection": str(connection.pk), "calls": calls}, {STAFF_GROUP})
    return calls


def live_calls(connection: TelephonyConnection) -> tuple[list[Call], dict]:
    """What the live page shows: the calls of the last snapshot still live, newest first."""
    snapshot = cache.get(snapshot_key(connection.pk)) or {"at": "", "error": "", "calls": []}
    calls = list(
        Call.objects.filter(pk__in=snapshot["calls"], status__in=LIVE_STATES)
        .select_related("agent", "contact").prefetch_related("actions__by").order_by("started_at")
    )
    for call in calls:
        actions = list(call.actions.all())
        call.last_action = actions[-1] if actions else None
    return calls, snapshot


# ---------------------------------------------------------------- actions on a live call


ACTION_VERBS = {
    CallAction.Kind.MONITOR: "monitor", CallAction.Kind.WHISPER: "whisper", CallAction.Kind.BARGE: "barge",
}


def can_act_on_calls(user: User) -> bool:
    return user.is_active and user.sees_everything


def act(call: Call, kind: str, *, by: User, target: str = "") -> CallAction:
    """Monitor, whisper or barge (as `by`'s own Smartflo agent id), transfer (to `target`: an agent's
    mobile, an extension or a department intercom) or hang up. Audited whatever Smartflo answers."""
    if not can_act_on_calls(by) and not (kind == CallAction.Kind.HANGUP and call.agent_id == by.pk):
        raise NotAllowed("Only supervisors and admins act on other people's calls.")
    if call.status not in LIVE_STATES:
        raise ApplicationError("This call is not live any more.")
    if not call.provider_call_id:
        raise ApplicationError("Smartflo has not given this call its live id yet; wait a second and try again.")
    if call.connection is None or not call.connection.is_smartflo:
        raise ApplicationError("This call is not on a Tata Smartflo account.")
    client = client_for(call.connection)
    try:
        if kind in ACTION_VERBS:
            line = AgentLine.objects.filter(user=by).first()
            if line is None or not line.agent_id:
                raise ApplicationError(f"You need your own Smartflo agent id to {ACTION_VERBS[kind]}. "
                                       f"Set it on your profile or ask {admins_to_ask()}.")
            target = line.agent_id
            answer = getattr(client, ACTION_VERBS[kind])(call.provider_call_id, target)
        elif kind == CallAction.Kind.TRANSFER:
            target = "".join(c for c in (target or "") if c.isdigit())
            if not target:
                raise ApplicationError("Choose where to transfer the call.")
            answer = client.transfer(call.provider_call_id, target)
        elif kind == CallAction.Kind.HANGUP:
            answer = client.hangup(call.provider_call_id)
        else:
            raise ApplicationError(f"Unknown action “{kind}”.")
    except smartflo.SmartfloError as exc:
        action = _audit(call, kind, by, target=target, ok=False, result=in_words(exc))
        raise ApplicationError(action.result, code="refused") from exc
    return _audit(call, kind, by, target=target, ok=True, result=str(answer.get("message") or "Done"))


def transfer_targets() -> list[tuple[str, str]]:
    """(intercom, label) choices: each agent's mobile and extension. Departments are typed in."""
    choices = []
    for line in AgentLine.objects.select_related("user").order_by("user__first_name"):
        if line.mobile:
            choices.append((line.transfer_number, f"{line.user} · mobile"))
        if line.extension:
            choices.append((line.extension, f"{line.user} · extension {line.extension}"))
    return choices
