"""What people and the system do with telephony: test a Smartflo account, import its previous calls,
note a call. Connections themselves are written by telephony.connections."""

import datetime
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from django.db import IntegrityError, OperationalError, transaction
from django.db import connections as db_connections
from django.utils import timezone

from core.errors import ApplicationError, NotAllowed
from core.tasks import enqueue
from core.untrusted import clean_text
from telephony import events, ingest
from telephony.models import Call, CallImport, CallNote, TelephonyConnection
from telephony.providers import smartflo

logger = logging.getLogger(__name__)

SYNC_WINDOW = datetime.timedelta(hours=3)  # the periodic sync re-reads this much (overlap is harmless)
IMPORT_MAX_DAYS = 366


def client_for(connection: TelephonyConnection, **kwargs) -> smartflo.SmartfloClient:
    """A Smartflo client for the connection: the API token if there is one, else the panel login,
    whose token is cached on the connection (encrypted) until shortly before it expires."""
    if not connection.is_smartflo:
        raise ApplicationError(f"{connection.get_provider_display()} connections are stored only; Sampark talks to Tata Smartflo.")
    cached = None
    if connection.access_token and connection.access_token_expires_at:
        cached = smartflo.LoginToken(connection.access_token, connection.access_token_expires_at)

    def keep(token: smartflo.LoginToken) -> None:
        connection.access_token, connection.access_token_expires_at = token.access_token, token.expires_at
        TelephonyConnection.objects.filter(pk=connection.pk).update(
            access_token=token.access_token,
            access_token_expires_at=token.expires_at,
        )

    return smartflo.SmartfloClient(
        base_url=connection.base_url, token=connection.auth_token, email=connection.email, password=connection.password,
        cached=cached, on_token=keep, account_key=str(connection.pk), **kwargs,
    )


# ---------------------------------------------------------------- Test connection


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def test_connection(connection: TelephonyConnection) -> dict:
    """Probe what the account's credentials may do, and list its numbers. Stored as `last_test`.

    Each check says plainly what works and what is wrong: a masked token, an expired or wrong one, a
    token without permission for call records, the rate limit."""
    checks: list[Check] = []
    numbers: list[str] = []
    try:
        client = client_for(connection)
    except smartflo.SmartfloError as exc:
        checks.append(Check("Sign in", False, exc.message))
        client = None
    if client is not None and connection.email and connection.password:
        try:
            client.login()
            checks.append(Check("Panel login (email and password)", True, "Signed in."))
        except smartflo.SmartfloError as exc:
            checks.append(Check("Panel login (email and password)", False, explain(exc, "login")))
    if client is not None:
        try:
            found = client.my_numbers()
            numbers = [n["number"] for n in found if n["number"]]
            checks.append(Check("Numbers (/v1/my_number)", True, f"{len(numbers)} number(s): {', '.join(numbers) or 'none'}."))
        except smartflo.SmartfloError as exc:
            checks.append(Check("Numbers (/v1/my_number)", False, explain(exc, "numbers")))
        try:
            agents = client.users()
            checks.append(Check("Agents (/v1/users)", True, f"{len(agents)} agent(s) on the account."))
        except smartflo.SmartfloError as exc:
            checks.append(Check("Agents (/v1/users)", False, explain(exc, "agents")))
        try:
            now = timezone.now()
            count, _ = client.call_records(now - datetime.timedelta(days=1), now, page=1, limit=1)
            checks.append(Check("Call records (/v1/call/records)", True, f"Readable ({count if count is not None else 'some'} call(s) in the last day)."))
        except smartflo.SmartfloError as exc:
            checks.append(Check("Call records (/v1/call/records)", False, explain(exc, "call records")))
    ok = bool(checks) and all(c.ok for c in checks)
    result = {"ok": ok, "at": timezone.now().isoformat(), "checks": [asdict(c) for c in checks], "numbers": numbers}
    connection.last_test = result
    update = ["last_test", "updated_at"]
    if numbers:
        connection.phone_numbers = numbers
        update.append("phone_numbers")
    connection.status = TelephonyConnection.Status.ACTIVE if ok else TelephonyConnection.Status.ERROR
    update.append("status")
    connection.save(update_fields=update)
    return result


def explain(exc: smartflo.SmartfloError, what: str) -> str:
    if isinstance(exc, smartflo.MaskedToken):
        return exc.message
    if isinstance(exc, smartflo.AuthFailed):
        if what == "login":
            return f"Smartflo refused the email and password ({exc.message})."
        return f"Smartflo refused the token: it is wrong or has expired. Generate a new one in Settings › API Connect › API Tokens. ({exc.message})"
    if isinstance(exc, smartflo.NoPermission):
        return f"The token works but has no permission for {what}. ({exc.message})"
    if isinstance(exc, smartflo.RateLimited):
        return "Smartflo's rate limit was hit (429); wait a minute and test again."
    if isinstance(exc, smartflo.Unreachable):
        return f"Smartflo could not be reached: {exc.message}"
    return exc.message


# ---------------------------------------------------------------- previous calls (backfill) and the periodic sync


def start_import(connection: TelephonyConnection, *, by, from_date: datetime.datetime, to_date: datetime.datetime) -> CallImport:
    if by is not None and not by.is_admin_role:
        raise NotAllowed("Only admins import previous calls.")
    if not connection.is_smartflo:
        raise ApplicationError("Previous calls can be imported from Tata Smartflo connections only.")
    if from_date >= to_date:
        raise ApplicationError("The start of the range must be before its end.")
    if to_date - from_date > datetime.timedelta(days=IMPORT_MAX_DAYS):
        raise ApplicationError(f"Import at most {IMPORT_MAX_DAYS} days at a time.")
    job = CallImport.objects.create(connection=connection, from_date=from_date, to_date=to_date, created_by=by)
    enqueue("telephony.run_import", job.pk)
    return job


def run_import(job_id: int, *, client: smartflo.SmartfloClient | None = None, max_pages: int | None = None) -> CallImport:
    """Import the job's range page by page from where it stopped (resumable: `next_page` is saved
    after every page; pages already applied are applied again harmlessly if a crash interrupted)."""
    with transaction.atomic():
        job = CallImport.objects.select_for_update().select_related("connection").get(pk=job_id)
        if job.status == CallImport.Status.DONE:
            return job
        job.status, job.error = CallImport.Status.RUNNING, ""
        job.save(update_fields=["status", "error"])
    events.import_progress(job)
    pages = 0
    reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="call-records")
    try:
        client = client or client_for(job.connection)

        def fetch(page: int) -> tuple[int | None, list[dict]]:
            return client.call_records(job.from_date, job.to_date, page=page, limit=smartflo.RECORDS_PAGE_LIMIT)

        def fetch_ahead(page: int) -> tuple[int | None, list[dict]]:
            try:
                return fetch(page)
            finally:
                db_connections.close_all()  # this thread's own, if a token refresh wrote one

        # The next page is fetched while this one is applied (Smartflo's answer and our writes overlap);
        # `next_page` still moves only after a page is applied, so a crash resumes where it stopped.
        upcoming = None
        while max_pages is None or pages < max_pages:
            count, rows = upcoming.result() if upcoming is not None else fetch(job.next_page)
            pages += 1
            full = len(rows) >= smartflo.RECORDS_PAGE_LIMIT and (count is None or job.fetched + len(rows) < count)
            upcoming = reader.submit(fetch_ahead, job.next_page + 1) if full and (max_pages is None or pages < max_pages) else None
            created, updated = _record_page_with_retries(job.connection, rows, follow_ups=job.is_sync)
            job.total = count if count is not None else job.total
            job.fetched += len(rows)
            job.created += created
            job.updated += updated
            job.next_page += 1
            last = len(rows) < smartflo.RECORDS_PAGE_LIMIT or (job.total is not None and job.fetched >= job.total)
            if last:
                job.status, job.finished_at = CallImport.Status.DONE, timezone.now()
                job.total = job.total if job.total is not None else job.fetched
            job.save(update_fields=["total", "fetched", "created", "updated", "next_page", "status", "finished_at"])
            events.import_progress(job)
            if last or upcoming is None:
                break
    except (smartflo.SmartfloError, ApplicationError, OperationalError) as exc:
        job.status = CallImport.Status.FAILED
        job.error = explain(exc, "call records") if isinstance(exc, smartflo.SmartfloError) else str(getattr(exc, "message", exc))
        job.save(update_fields=["status", "error"])
        events.import_progress(job)
        logger.warning("call import %s stopped at page %s: %s", job.pk, job.next_page, job.error)
    finally:
        reader.shutdown(wait=True, cancel_futures=True)
    if job.status == CallImport.Status.DONE and job.is_sync:
        TelephonyConnection.objects.filter(pk=job.connection_id).update(last_synced_at=job.to_date)
    return job


PAGE_ATTEMPTS = 8


def _record_page_with_retries(connection, rows, *, follow_ups: bool) -> tuple[int, int]:
    """A page lost to a lock (SQLite's single writer, a PostgreSQL deadlock with a webhook on the same
    call) or to a unique conflict (a webhook stored one of its new calls first) is applied again: the
    page is idempotent, and the retry finds that call and merges into it."""
    for attempt in range(1, PAGE_ATTEMPTS + 1):
        try:
            return ingest.record_page(connection, rows, follow_ups=follow_ups)
        except (OperationalError, IntegrityError):
            if attempt == PAGE_ATTEMPTS:
                raise
            time.sleep(0.25 * attempt)
    raise AssertionError("unreachable")


def resume_import(job: CallImport, *, by) -> CallImport:
    if by is not None and not by.is_admin_role:
        raise NotAllowed("Only admins import previous calls.")
    CallImport.objects.filter(pk=job.pk).update(status=CallImport.Status.PENDING, error="")
    enqueue("telephony.run_import", job.pk)
    return job


def sync_recent(now: datetime.datetime | None = None) -> list[int]:
    """The periodic catch-up: every working Smartflo connection re-reads its recent call records, so a
    call whose webhook never came still lands (with its missed-call follow-up)."""
    now = now or timezone.now()
    started = []
    for connection in TelephonyConnection.objects.filter(provider="tata_smartflo", status=TelephonyConnection.Status.ACTIVE):
        if CallImport.objects.filter(connection=connection, is_sync=True, status__in=["pending", "running"]).exists():
            continue
        since = min(connection.last_synced_at or now - SYNC_WINDOW, now - datetime.timedelta(minutes=15))
        since = max(since - datetime.timedelta(minutes=15), now - datetime.timedelta(days=2))
        job = CallImport.objects.create(connection=connection, from_date=since, to_date=now, is_sync=True)
        run_import(job.pk)
        started.append(job.pk)
    return started


# ---------------------------------------------------------------- notes


def add_note(call: Call, *, by, body: str) -> CallNote:
    body = clean_text((body or "").strip())
    if not body:
        raise ApplicationError("Write the note first.")
    if len(body) > 4000:
        raise ApplicationError("A note is at most 4,000 characters.")
    return CallNote.objects.create(call=call, author=by, body=body)
