"""bench/history.py --webhook: a coexistence `history` webhook of N messages (see bench/history.py's
docstring). Run through bench/history.py, which sets up Django in production mode."""

import functools
import json
import multiprocessing
import os
import resource
import threading
import time

from django.db import connection, transaction

from bench.common import cpu_seconds, machine_reference, production_shape, send_until
from core import bulk_rows
from core.untrusted import loads_json
from imports import coexistence, services
from imports.models import ImportJob
from inbox.ingest.drain import process_event
from inbox.models import Channel, Conversation, Message, WebhookEvent
from inbox.providers import meta_coexistence as meta

PORT = int(os.environ.get("BENCH_PORT", 8767))
PARTNER_TOKEN = "bench-history-token"
BUSINESS = "+919876588888"
THREAD = 50
LIVE_RATE = 20  # live webhooks a second, paced (open loop), during and before the apply
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


def cpu() -> tuple[float, float]:
    """CPU seconds so far: (this process, its PostgreSQL backend). On a shared machine messages/s follows
    the CPU share the run got; CPU per message does not."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    return time.process_time(), cpu_seconds([backend])


def cpu_line(before: tuple[float, float], n: int) -> str:
    after = cpu()
    python, database = ((a - b) * 1e6 / n for a, b in zip(after, before))
    return f"CPU {python:.0f} µs/message in Python + {database:.0f} µs in PostgreSQL"


def history_body(n: int, run: str) -> bytes:
    threads = []
    for first in range(0, n, THREAD):
        customer = f"9198{(first // THREAD) % 100_000_000:08d}"
        threads.append({"id": customer, "messages": [
            {"from": BUSINESS.lstrip("+") if i % 3 == 0 else customer, "id": f"wamid.HB-{run}-{i}", "timestamp": str(1_740_000_000 + 11 * i),
             "type": "text", "text": {"body": f"history message {i} about order #{i % 9973}"}, "history_context": {"status": "READ"}}
            for i in range(first, min(n, first + THREAD))
        ]})  # fmt: skip
    payload = {"messaging_product": "whatsapp", "metadata": {"display_phone_number": BUSINESS.lstrip("+"), "phone_number_id": "1"},
               "history": [{"metadata": {"phase": 1, "chunk_order": 1, "progress": 100}, "threads": threads}],
               "businessPhoneNumber": BUSINESS, "id": f"bench-{run}"}  # fmt: skip
    return json.dumps(payload).encode()


def live_requests(token: str, count: int, run: str) -> list:
    from inbox.providers.tata_whatsapp import sign

    requests_ = []
    for i in range(count):
        body = json.dumps({"contacts": [{"profile": {"name": "Live"}, "wa_id": f"91977{i % 500:07d}"}],
                           "messages": {"from": f"91977{i % 500:07d}", "id": f"wamid.LIVE-{run}-{i}", "timestamp": str(int(time.time())),
                                        "type": "text", "text": {"body": "live"}},
                           "businessPhoneNumber": BUSINESS, "id": f"live-{run}-{i}"}).encode()  # fmt: skip
        requests_.append(("POST", f"/webhooks/tata/{token}/", body, {"x-hub-signature-256": sign(body, PARTNER_TOKEN)}))
    return requests_


def paced_live(token: str, seconds: float, run: str):
    """A sender process (its threads never share this process's GIL); set the event to stop it early."""
    context = multiprocessing.get_context("spawn")
    results, stop = context.Queue(), context.Event()
    process = context.Process(target=send_until, args=(PORT, live_requests(token, int(LIVE_RATE * seconds), run), LIVE_RATE, stop, results))
    process.start()
    return process, results, stop


def parse_only(body: bytes, business: str) -> float:
    started = time.perf_counter()
    count = sum(1 for chunk in meta.read(loads_json(body), business).history for _ in chunk.messages())
    return count / (time.perf_counter() - started)


def ceiling_rows(n: int, channel: Channel, conversation: Conversation) -> list[list[Message]]:
    """n rows as the ceilings insert them, in batches (built before the clock starts)."""
    at = conversation.created_at
    return [
        [Message(channel=channel, conversation=conversation, direction="in", source="import", body=f"message {i} about order #{i % 9973}",
                 timestamp=at, provider_message_id=f"ceiling-{i}", import_key=f"{i:064d}", content={"type": "text", "text": {"body": f"message {i}"}})
         for i in range(offset, min(n, offset + services.BATCH_SIZE))]
        for offset in range(0, n, services.BATCH_SIZE)
    ]  # fmt: skip


def ceilings(n: int, channel: Channel, conversation: Conversation) -> str:
    """The same run's ceilings, on min(n, 100,000) prepared rows: a bare bulk_create, and the writer's
    own insert alone (COPY into a temporary table, INSERT … ON CONFLICT DO NOTHING: what the table's
    indexes, the body's trigram index among them, let PostgreSQL take)."""
    n = min(n, 100_000)
    found = []
    for label, insert in (("bare bulk_create", Message.objects.bulk_create), ("insert alone (bulk_rows.copy_insert_new)", functools.partial(bulk_rows.copy_insert_new, Message))):
        batches = ceiling_rows(n, channel, conversation)
        before = cpu()
        started = time.perf_counter()
        for batch in batches:
            with transaction.atomic():
                insert(batch)
        rate = n / (time.perf_counter() - started)
        found.append(f"  ceiling, {label + ':':<45} {rate:>9,.0f} messages/s on {n:,}; {cpu_line(before, n)}")
        clear_messages(channel)
    return "\n".join(found)


def clear_messages(channel: Channel) -> None:
    """Raw DELETE: the ORM's delete would load every row (cascades) and blow up this process's memory."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM inbox_attachment WHERE message_id IN (SELECT id FROM inbox_message WHERE channel_id = %s)", [channel.pk])
        cursor.execute("DELETE FROM inbox_message WHERE channel_id = %s", [channel.pk])


def clear(channel: Channel) -> None:
    clear_messages(channel)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM imports_importjob WHERE channel_id = %s", [channel.pk])
        cursor.execute("DELETE FROM inbox_webhookevent WHERE channel_id = %s", [channel.pk])


def apply_history(channel: Channel, body: bytes) -> tuple[float, float, int, str]:
    """(seconds for the view's work, seconds to apply, peak resident growth in bytes, CPU per message)."""
    baseline, peak = rss(), [rss()]
    spent = cpu()
    started = time.perf_counter()
    loads_json(body)  # the view checks the body is JSON before it stores it
    event = WebhookEvent.objects.create(source="tata_whatsapp", channel=channel, headers={}, body=body)
    stored = time.perf_counter() - started
    queued = []
    coexistence.enqueue = lambda name, *args: queued.append(args)  # this process is the worker: run the job here, below
    started = time.perf_counter()
    with transaction.atomic():
        process_event(event)
    job = ImportJob.objects.get(webhook_event=event)
    job = services.run(job.pk, on_progress=lambda j: peak.__setitem__(0, max(peak[0], rss())))
    applied = time.perf_counter() - started
    assert job.status == ImportJob.Status.DONE, job.failure
    return stored, applied, max(peak[0], rss()) - baseline, cpu_line(spent, job.imported_count)


def main(argv: list[str]) -> None:
    if connection.vendor != "postgresql":
        raise SystemExit("Run on PostgreSQL: DATABASE_URL=postgres://postgres@127.0.0.1:5432/sampark_history_bench")
    n = int(argv[0]) if argv else 100_000
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    channel, _ = Channel.objects.update_or_create(
        kind="whatsapp", phone_number=BUSINESS,
        defaults={"name": "Bench history", "partner_token": PARTNER_TOKEN, "access_token": "bench", "api_base_url": "http://127.0.0.1:9"},
    )  # fmt: skip
    clear(channel)
    print(machine_reference())
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING", "CELERY_TASK_ALWAYS_EAGER": "true",
           "SANDBOX_ENABLED": "false", "CHANNELS_PREFIX": "bench-history"}  # fmt: skip
    shape = production_shape(env, PORT, name="history")
    shape.start()
    try:
        run = str(time.time_ns())
        sender, results, _ = paced_live(channel.webhook_token, 8, run + "-alone")
        alone = results.get()
        sender.join()
        body = history_body(n, run)
        print(f"\nhistory webhook: {n:,} messages, {len(body) / 1024 / 1024:.1f} MB body")
        print(f"  ceiling, parse only (JSON + records, no database): {parse_only(body, BUSINESS):>9,.0f} messages/s")
        sender, results, stop = paced_live(channel.webhook_token, 600, run + "-during")
        time.sleep(3)  # the sender process starts (it imports Django)
        load, sampling = [], threading.Event()
        sampler = threading.Thread(target=_sample_load, args=(load, sampling), daemon=True)
        sampler.start()
        stored, applied, growth, spent = apply_history(channel, body)
        sampling.set()
        stop.set()
        during = results.get()
        sender.join()
        print(f"  the view's work on this body (JSON check + insert):    {stored * 1000:>9,.0f} ms")
        print(f"  applied (drain + job, batches of {services.BATCH_SIZE}):       {n / applied:>9,.0f} messages/s ({applied:.1f} s), "
              f"peak memory growth {growth / 1024 / 1024:.0f} MB, process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")  # fmt: skip
        print(f"  {spent} (view's work and apply)")
        clear_messages(channel)
        print(ceilings(n, channel, Conversation.objects.filter(channel=channel).first()))
        print(f"  load average during the apply: {max(load, default=0):.1f} max")
        print(f"live webhooks, {LIVE_RATE}/s paced, ack: alone p50 {alone['p50']:.1f} ms p99 {alone['p99']:.1f} ms {alone['statuses']}")
        print(f"  during the apply: p50 {during['p50']:.1f} ms p99 {during['p99']:.1f} ms ({during['n']} webhooks) {during['statuses']}")
    finally:
        shape.stop()
        clear(channel)


def _sample_load(load: list, done: threading.Event) -> None:
    while not done.wait(2):
        load.append(os.getloadavg()[0])
