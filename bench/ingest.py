"""Webhook ingest throughput and ack latency, against a bare-insert ceiling measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sampark_ingest_bench REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/ingest.py [--messages 3000] [--concurrency 8] [--workers 2]

Starts the production shape (deploy/serve.py: nginx on 127.0.0.1:8100 in front of gunicorn's sync
workers, one per core) with BENCH_ENDPOINTS=true and, with --workers > 0, a Celery worker of that many
processes; --workers 0 processes events on in-process threads instead. Then, through the front door:

1. bare: POSTs N bodies to /webhooks/bench-bare/, a Django view that only inserts the raw body
   (the ceiling for "a Django view that stores a webhook");
2. ingest: POSTs N signed WhatsApp payloads (the shared fixtures' inbound shapes with fresh ids,
   from 500 customers) to the channel's real webhook URL, then waits until every event is applied.

Prints requests/s and ack p50/p99 for both, sustained ingest messages/s (first POST → last event
applied, every message stored), and the ratios to the bare insert. Goals: webhook ack ≥ 0.8 of the bare
insert, ingest (applied) ≥ 0.5 of it sustained.

3. ack latency at a steady offered load (--rate requests/s, default half the sustained ingest rate just
   measured; open loop: each request has a scheduled
   send time and its latency counts from then, so a stall is not hidden by the sender waiting). At
   saturation (phases 1–2) latency is only concurrency ÷ throughput (Little's law), so the ack goal is
   judged here (goal: p99 < 50 ms), for both the bare view and the real webhook, with the workers
   applying in parallel.
"""

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import PRODUCTION_MODE, WORKER_NICE, CpuMeter, cpu_seconds, machine_reference, production_shape, require_postgres, send_all, server_line  # noqa: E402
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

HOST, PORT = "127.0.0.1", int(os.environ.get("BENCH_PORT", 8100))


def run(requests_: list, concurrency: int, rate: float | None = None) -> dict:
    return send_all(PORT, requests_, concurrency, rate, host=HOST)
FIXTURES = ROOT / "tests" / "fixtures"
SHAPES = ["wa_in_text.json", "wa_in_text_referral_ctwa.json", "wa_in_location.json", "wa_in_interactive_button_reply.json",
          "wa_in_interactive_list_reply.json", "wa_in_button_template_quick_reply.json", "wa_in_contacts.json", "wa_in_order.json",
          "wa_in_reply_context.json"]
PARTNER_TOKEN = "bench-partner-token"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes (needs REDIS_URL); 0 = in-process")
    parser.add_argument("--rate", type=float, help="offered requests/s for the steady-load ack phase (default: half the sustained ingest rate)")
    parser.add_argument("--paced-seconds", type=float, default=10)
    args = parser.parse_args()
    require_postgres()
    if args.workers and not os.environ.get("REDIS_URL"):
        sys.exit("--workers needs REDIS_URL (the Celery broker); use --workers 0 without it.")

    env = {**os.environ, **PRODUCTION_MODE,
           "ALLOWED_HOSTS": HOST, "BENCH_ENDPOINTS": "true", "LOG_LEVEL": "WARNING", "CELERY_CONCURRENCY": str(args.workers),
           "SANDBOX_ENABLED": "false", "CHANNELS_PREFIX": "bench-ingest",
           }
    if not args.workers:
        env["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ.update({k: env[k] for k in ("DEBUG", "SECRET_KEY", "FIELD_ENCRYPTION_KEY", "ALLOWED_HOSTS", "SANDBOX_ENABLED")})

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    token = prepare_channel()

    _flush_broker(env)
    shape = production_shape(env, PORT, celery=bool(args.workers), name="ingest")
    shape.start()
    try:
        rng = random.Random(7)
        warm = [("POST", "/webhooks/bench-bare/", b"{}", {})] * 200
        run(warm, args.concurrency)

        bare_bodies = [payload(rng, i, "bare") for i in range(args.messages)]
        cpu = CpuMeter(shape)
        web_pids = [process.pid for name, process in shape.processes if name in ("gunicorn", "nginx")]
        cpu.start()
        web = cpu_seconds(web_pids)
        bare = run([("POST", "/webhooks/bench-bare/", body, {}) for body in bare_bodies], args.concurrency)
        bare["web_cpu"] = (cpu_seconds(web_pids) - web) / args.messages * 1000
        bare["cpu"] = cpu.per_item(args.messages)

        from inbox.models import WebhookEvent
        from inbox.providers.tata_whatsapp import sign

        bodies = [payload(rng, i, "ingest") for i in range(args.messages)]
        requests_ = [("POST", f"/webhooks/tata/{token}/", body, {"x-hub-signature-256": sign(body, PARTNER_TOKEN)}) for body in bodies]
        started = time.perf_counter()
        cpu.start()
        web = cpu_seconds(web_pids)
        ingest = run(requests_, args.concurrency)
        ingest["web_cpu"] = (cpu_seconds(web_pids) - web) / args.messages * 1000
        pending = WebhookEvent.objects.filter(source="tata_whatsapp", status="received")
        deadline = time.perf_counter() + 300
        while pending.exists() and time.perf_counter() < deadline:
            time.sleep(0.05)
        applied = time.perf_counter() - started
        ingest["cpu"] = cpu.per_item(args.messages, polling=True)
        sustained = report(args, shape, bare, ingest, applied)

        rate = args.rate or max(1.0, sustained / 2)
        count = int(rate * args.paced_seconds)
        paced_bare = run([("POST", "/webhooks/bench-bare/", payload(rng, i, "paced-bare"), {}) for i in range(count)], 16, rate)
        paced_bodies = [payload(rng, i, "paced") for i in range(count)]
        paced_ingest = run(
            [("POST", f"/webhooks/tata/{token}/", b, {"x-hub-signature-256": sign(b, PARTNER_TOKEN)}) for b in paced_bodies], 16, rate
        )
        deadline = time.perf_counter() + 120
        while pending.exists() and time.perf_counter() < deadline:
            time.sleep(0.05)
        print(f"  steady load, {rate:.0f} req/s offered (half the sustained ingest rate) for {args.paced_seconds:.0f} s (open loop):")
        for name, result in (("bare insert", paced_bare), ("ingest ack", paced_ingest)):
            print(f"    {name:<12}: ack p50 {result['p50']:5.1f} ms   p99 {result['p99']:5.1f} ms   {result['statuses']}")
        late = pending.count()
        print(f"    every paced message applied: {'yes' if not late else f'no, {late} still received'}")
    finally:
        shape.stop()


def _flush_broker(env: dict) -> None:
    """Tasks an interrupted run left in the broker would be applied during this one."""
    if env.get("REDIS_URL"):
        import redis

        redis.Redis.from_url(env["REDIS_URL"]).delete("celery")


def prepare_channel() -> str:
    from contacts.models import Contact
    from inbox.models import Channel, Conversation, WebhookEvent

    channel, _ = Channel.objects.update_or_create(
        kind="whatsapp", phone_number="+919876509999",
        defaults={"name": "Bench", "partner_token": PARTNER_TOKEN, "access_token": "bench", "api_base_url": "http://127.0.0.1:9"},
    )
    Conversation.objects.filter(channel=channel).delete()
    Contact.objects.filter(name__startswith="Bench customer").delete()
    WebhookEvent.objects.filter(source__in=["tata_whatsapp", "bench"]).delete()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE inbox_webhookevent") if connection.vendor == "postgresql" else None
    return channel.webhook_token


def payload(rng: random.Random, index: int, run_name: str) -> bytes:
    data = json.loads((FIXTURES / rng.choice(SHAPES)).read_bytes())
    customer = 919800000000 + rng.randrange(500)
    data["contacts"][0].update(wa_id=str(customer), profile={"name": f"Bench customer {customer}"})
    data["messages"].update({"from": str(customer), "id": f"wamid.BENCH-{run_name}-{time.time_ns()}-{index}",
                             "timestamp": str(int(time.time()))})
    return json.dumps(data).encode()


def report(args, shape, bare, ingest, applied) -> float:
    from inbox.models import Message, WebhookEvent

    stored = Message.objects.filter(channel__phone_number="+919876509999", provider_message_id__startswith="wamid.BENCH-ingest").count()
    outcomes = dict(WebhookEvent.objects.filter(source="tata_whatsapp").values_list("status").annotate(n=__import__("django.db.models", fromlist=["Count"]).Count("id")))
    sustained = stored / applied
    mode = f"{args.workers} Celery worker process(es) at nice {WORKER_NICE}" if args.workers else "in-process threads"
    print(machine_reference())
    print(server_line(shape))
    print(f"ingest bench: {args.messages} messages, {args.concurrency} concurrent connections, {mode}, PostgreSQL")
    print(f"  bare insert : {bare['rps']:7.0f} req/s   ack p50 {bare['p50']:5.1f} ms   p99 {bare['p99']:5.1f} ms   {bare['statuses']}")
    print(f"                CPU per request {bare['cpu']}")
    print(f"  ingest ack  : {ingest['rps']:7.0f} req/s   ack p50 {ingest['p50']:5.1f} ms   p99 {ingest['p99']:5.1f} ms   {ingest['statuses']}")
    print(f"  ingest applied: {stored}/{args.messages} messages stored in {applied:.2f} s → sustained {sustained:.0f} messages/s  events {outcomes}")
    print(f"                CPU per message, stored and applied {ingest['cpu']}")
    print(f"  the answer alone (nginx + gunicorn CPU per request): bare insert {bare['web_cpu']:.2f} ms, webhook {ingest['web_cpu']:.2f} ms")
    print(f"  ratio webhook ack / bare insert: {ingest['rps'] / bare['rps']:.2f}   goal ≥ 0.80")
    print(f"  ratio sustained ingest / bare insert: {sustained / bare['rps']:.2f}   goal ≥ 0.50")
    return sustained


if __name__ == "__main__":
    main()
