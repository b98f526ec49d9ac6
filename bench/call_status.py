"""Smartflo Status URL ingest and call-record backfill, against a bare-insert ceiling in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sampark_call_bench REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/call_status.py [--calls 3000] [--concurrency 8] [--workers 2] [--records 20000]

Serves both sides from the production shape (bench/common.py, deploy/serve.py: nginx → gunicorn, one
sync worker per core, and daphne for /ws/) on 127.0.0.1:8101 with BENCH_ENDPOINTS=true and the sandbox
on, and, with --workers > 0, that many Celery worker processes; --workers 0 applies events on
in-process threads instead. Then, over loopback only:

1. bare: POSTs N bodies to /webhooks/bench-bare/, a Django view that only inserts the raw body (the
   ceiling for "a Django view that stores a webhook"), as bench/ingest.py does;
2. status: N hangup webhooks as Smartflo sends them (GET, query string; 500 customers, answered and
   missed, agent numbers) to the connection's Status URL, then waits until every event is applied.
   Prints requests/s and ack p50/p99, sustained calls/s (first GET → last call stored) and the ratio
   status/bare. Goal: ratio ≥ 0.5.
3. ack latency at a steady offered load (--rate, open loop), for the bare view and the Status URL,
   with the workers applying in parallel. Goal: ack p99 < 50 ms.
4. backfill: the sandbox Smartflo holds --records past calls; `services.run_import` reads them through
   the real client from the sandbox's /sandbox/api/smartflo/v1/call/records (200 a page) and applies them.
   Prints records/s. Goal: ≥ 2,000 records/s. Its ceiling, measured first: the same pages read through
   the same client without applying them (the pretend provider alone).

Next to every rate it prints the CPU time per item (the served processes, this process where it does the
work, and this database's PostgreSQL backends): on a shared machine a rate follows the CPU share it got,
the CPU time per item does not, so before/after comparisons use that.
"""

import argparse
import datetime
import os
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    PRODUCTION_MODE, WORKER_NICE, CpuMeter, machine_reference, production_shape, require_postgres, send_all, server_line,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

HOST, PORT = "127.0.0.1", int(os.environ.get("BENCH_PORT", 8101))


def run(requests_: list, concurrency: int, rate: float | None = None) -> dict:
    return send_all(PORT, requests_, concurrency, rate, host=HOST)
CONNECTION_NAME = "Bench Smartflo"
DID = "+918069099999"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes (needs REDIS_URL); 0 = in-process")
    parser.add_argument("--rate", type=float, default=50, help="offered requests/s for the steady-load ack phase")
    parser.add_argument("--paced-seconds", type=float, default=10)
    parser.add_argument("--records", type=int, default=20000, help="past calls the sandbox lists for the backfill")
    args = parser.parse_args()
    require_postgres()
    if args.workers and not os.environ.get("REDIS_URL"):
        sys.exit("--workers needs REDIS_URL (the Celery broker); use --workers 0 without it.")

    env = {**os.environ, **PRODUCTION_MODE,
           "ALLOWED_HOSTS": HOST, "BENCH_ENDPOINTS": "true", "LOG_LEVEL": "WARNING", "CELERY_CONCURRENCY": str(args.workers),
           "SANDBOX_ENABLED": "true", "CHANNELS_PREFIX": "bench-calls", "PUBLIC_BASE_URL": f"http://{HOST}:{PORT}",
           "SANDBOX_SMARTFLO_RATE": "1000"}
    if not args.workers:
        env["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ.update({k: env[k] for k in ("DEBUG", "SECRET_KEY", "FIELD_ENCRYPTION_KEY", "ALLOWED_HOSTS", "SANDBOX_ENABLED", "PUBLIC_BASE_URL")})

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    connection = prepare(args.records)

    shape = production_shape(env, PORT, celery=bool(args.workers), name="calls")
    shape.start()
    try:
        from inbox.models import WebhookEvent
        from telephony.models import Call

        rng = random.Random(11)
        cpu = CpuMeter(shape)
        run([("POST", "/webhooks/bench-bare/", b"{}", {})] * 200, args.concurrency)  # warm up
        cpu.start()
        bare = run([("POST", "/webhooks/bench-bare/", hangup_query(rng, i, "bare").encode(), {}) for i in range(args.calls)], args.concurrency)
        bare_cpu = cpu.per_item(args.calls)

        status_path = f"/telephony/status/{connection.status_token}/"
        started = time.perf_counter()
        cpu.start()
        status = run([("GET", f"{status_path}?{hangup_query(rng, i, 'status')}", b"", {}) for i in range(args.calls)], args.concurrency)
        pending = WebhookEvent.objects.filter(source="smartflo", status="received")
        deadline = time.perf_counter() + 300
        while pending.exists() and time.perf_counter() < deadline:
            time.sleep(0.05)
        applied = time.perf_counter() - started
        status_cpu = cpu.per_item(args.calls, polling=True)
        stored = Call.objects.filter(connection=connection, provider_call_id__startswith="bench-status-").count()
        outcomes = dict(WebhookEvent.objects.filter(source="smartflo").values_list("status").annotate(n=__import__("django.db.models", fromlist=["Count"]).Count("id")))

        count = int(args.rate * args.paced_seconds)
        paced_bare = run([("POST", "/webhooks/bench-bare/", hangup_query(rng, i, "paced-bare").encode(), {}) for i in range(count)], 16, args.rate)
        paced_status = run([("GET", f"{status_path}?{hangup_query(rng, i, 'paced')}", b"", {}) for i in range(count)], 16, args.rate)
        deadline = time.perf_counter() + 120
        while pending.exists() and time.perf_counter() < deadline:
            time.sleep(0.05)
        late = pending.count()

        cpu.start(this_process=True)
        ceiling = read_all_pages(connection)
        ceiling_cpu = cpu.per_item(ceiling["records"])
        cpu.start(this_process=True)
        backfill = run_backfill(connection)
        backfill_cpu = cpu.per_item(backfill["records"])

        mode = f"{args.workers} Celery worker process(es) at nice {WORKER_NICE}" if args.workers else "in-process threads"
        print(machine_reference())
        print(server_line(shape))
        print(f"call status bench: {args.calls} hangup webhooks, {args.concurrency} concurrent connections, {mode}, PostgreSQL")
        print(f"  bare insert : {bare['rps']:7.0f} req/s   ack p50 {bare['p50']:5.1f} ms   p99 {bare['p99']:5.1f} ms   {bare['statuses']}")
        print(f"                CPU {bare_cpu}")
        print(f"  status ack  : {status['rps']:7.0f} req/s   ack p50 {status['p50']:5.1f} ms   p99 {status['p99']:5.1f} ms   {status['statuses']}")
        print(f"  status applied: {stored}/{args.calls} calls stored in {applied:.2f} s → sustained {stored / applied:.0f} calls/s  events {outcomes}")
        print(f"                CPU per call, stored and applied {status_cpu}")
        print(f"  ratio (sustained status ingest / bare insert): {stored / applied / bare['rps']:.2f}   goal ≥ 0.50")
        print(f"  steady load, {args.rate:.0f} req/s offered for {args.paced_seconds:.0f} s (open loop):")
        for name, result in (("bare insert", paced_bare), ("status ack", paced_status)):
            print(f"    {name:<12}: ack p50 {result['p50']:5.1f} ms   p99 {result['p99']:5.1f} ms   {result['statuses']}   goal p99 < 50 ms")
        print(f"    every paced webhook applied: {'yes' if not late else f'no, {late} still received'}")
        print(f"  sandbox call records alone (the ceiling): {ceiling['records']} records read in {ceiling['seconds']:.2f} s "
              f"→ {ceiling['records'] / ceiling['seconds']:.0f} records/s")
        print(f"                CPU per record {ceiling_cpu}")
        print(f"  backfill: {backfill['records']} call records from the sandbox in {backfill['seconds']:.2f} s "
              f"→ {backfill['records'] / backfill['seconds']:.0f} records/s ({backfill['created']} new, status {backfill['status']})   goal ≥ 2,000/s")
        print(f"                CPU per record {backfill_cpu}")
        print(f"  load average during the run: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        shape.stop()


def prepare(records: int):
    from django.db import connection as db

    from contacts.models import Contact
    from inbox.models import Channel, WebhookEvent
    from sandbox.models import SandboxCall
    from sandbox.smartflo import SMARTFLO_PATH, seed_history
    from telephony.models import AgentLine, Call, CallImport, TelephonyConnection

    connection, _ = TelephonyConnection.objects.update_or_create(
        name=CONNECTION_NAME, provider="tata_smartflo",
        defaults={"auth_token": "bench-smartflo-token", "base_url": f"http://{HOST}:{PORT}{SMARTFLO_PATH}", "phone_numbers": [DID]},
    )
    Call.objects.filter(connection=connection).delete()
    CallImport.objects.filter(connection=connection).delete()
    WebhookEvent.objects.filter(source__in=["smartflo", "bench"]).delete()
    Channel.objects.filter(kind="voice", phone_number=DID).delete()
    Contact.objects.filter(name="", phones__number__startswith="+9197").delete()
    from accounts.models import Role, User

    for i in range(20):
        user, _ = User.objects.get_or_create(username=f"bench-call-agent-{i}", defaults={"role": Role.AGENT})
        AgentLine.objects.get_or_create(user=user, defaults={"agent_id": f"0599{i:04d}"})
    if SandboxCall.objects.filter(connection=connection).count() != records:
        SandboxCall.objects.filter(connection=connection).delete()
        seed_history(connection, count=records, days=20, rng=random.Random(5))
    SandboxCall.objects.filter(connection=connection).update(has_recording=False)  # the backfill measures records, not downloads
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE inbox_webhookevent")
            cursor.execute("VACUUM ANALYZE telephony_call")
            cursor.execute("VACUUM ANALYZE sandbox_sandboxcall")  # just seeded: autovacuum would get to it a minute later
    return connection


def hangup_query(rng: random.Random, index: int, run_name: str) -> str:
    answered = rng.random() < 0.7
    start = datetime.datetime.now() - datetime.timedelta(minutes=rng.randrange(600))
    talk = rng.randint(10, 400) if answered else 0
    return urlencode({
        "uuid": f"bench-{run_name}-{time.time_ns()}-{index}", "call_id": f"bench-{run_name}-{index}-{time.time_ns()}",
        "direction": "inbound", "call_status": "answered" if answered else "missed",
        "caller_id_number": f"9197{rng.randrange(500):08d}", "call_to_number": DID[1:],
        "answered_agent_number": f"0599{rng.randrange(20):04d}" if answered else "",
        "start_stamp": start.strftime("%Y-%m-%d %H:%M:%S"),
        "end_stamp": (start + datetime.timedelta(seconds=talk + 8)).strftime("%Y-%m-%d %H:%M:%S"),
        "duration": talk + 8, "billsec": talk, "hangup_cause": "NORMAL_CLEARING" if answered else "ORIGINATOR_CANCEL",
    })


def read_all_pages(connection) -> dict:
    """The backfill's ceiling: every page of the same range read through the same client, not applied."""
    from django.utils import timezone

    from telephony import services
    from telephony.providers import smartflo

    now = timezone.now()
    client = services.client_for(connection)
    records, page, started = 0, 1, time.perf_counter()
    while True:
        count, rows = client.call_records(now - datetime.timedelta(days=21), now, page=page, limit=smartflo.RECORDS_PAGE_LIMIT)
        records += len(rows)
        if len(rows) < smartflo.RECORDS_PAGE_LIMIT or (count is not None and records >= count):
            break
        page += 1
    return {"records": records, "seconds": time.perf_counter() - started}


def run_backfill(connection) -> dict:
    from django.utils import timezone

    from telephony import services
    from telephony.models import CallImport

    now = timezone.now()
    job = CallImport.objects.create(connection=connection, from_date=now - datetime.timedelta(days=21), to_date=now)
    started = time.perf_counter()
    job = services.run_import(job.pk)
    return {"records": job.fetched, "created": job.created, "seconds": time.perf_counter() - started, "status": job.status}


if __name__ == "__main__":
    main()
