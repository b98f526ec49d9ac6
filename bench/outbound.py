"""Outbound sending through real Celery workers against the sandbox provider, loopback only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sampark_outbound_bench REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/outbound.py [--messages 2000] [--concurrency 16] [--rate 80] [--kill-worker] [--kinds whatsapp,rcs]

Starts the production shape on 127.0.0.1:8400 (deploy/serve.py: nginx → gunicorn, serving the
sandbox's fake Tata API and the webhook its status callbacks go to) and a Celery worker (prefork, --concurrency processes, Redis broker). Creates N conversations
whose customers wrote a minute ago, then queues one text reply to each through inbox.outbound (the
same service the composer calls; each send enqueues inbox.deliver_message on commit) from 4 producer
threads. Waits until every message has left `queued`/`sending`.

Prints messages/s (first queued → last accepted by Tata), p50/p99 queue-to-sent latency (message
created → its send attempt recorded as accepted), and duplicate sends: messages the sandbox received
more than once for the same custom_callback_data (must be 0). With --kill-worker one worker process
is SIGKILLed mid-run: its in-flight message is redelivered, found in doubt, and never resent.
Throughput is capped by the per-number token bucket (--rate, Meta's default is 80/s).

--kinds runs the same load on a WhatsApp number (POST /whatsapp-cloud/messages) and an RCS number
(POST /rcs/messages), one after the other against the same server and workers, and prints both
reports side by side. RCS duplicates are counted by content (each reply's text is unique), since an
RCS send carries no callback data. The kind `rcs-rich` sends a two-card carousel with suggestions (the
composer's Carousel builder, inbox.rich.service.send_rich) instead of text; its duplicates are counted
by the whole content (each carousel names its conversation).
"""

import argparse
import collections
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import PRODUCTION_MODE, machine_reference, production_shape, require_postgres, server_line  # noqa: E402
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

HOST, PORT = "127.0.0.1", int(os.environ.get("BENCH_PORT", 8400))
TOKEN = "bench-outbound-token"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16, help="Celery worker processes")
    parser.add_argument("--rate", type=float, default=80, help="token bucket per number, messages/s")
    parser.add_argument("--kill-worker", action="store_true", help="SIGKILL one worker process mid-run")
    parser.add_argument("--kinds", default="whatsapp,rcs", help="channel kinds to run, in order (whatsapp, rcs, rcs-rich)")
    parser.add_argument("--no-callbacks", action="store_true",
                        help="the sandbox holds its status callbacks back (measures sending alone; bench/ingest.py measures callbacks)")
    args = parser.parse_args()
    require_postgres()
    if not os.environ.get("REDIS_URL"):
        sys.exit("Set REDIS_URL: the Celery broker.")

    env = {**os.environ, **PRODUCTION_MODE,
           "ALLOWED_HOSTS": HOST, "LOG_LEVEL": "WARNING", "CONN_MAX_AGE": "300", "SANDBOX_ENABLED": "true",
           "CHANNELS_PREFIX": "bench-outbound", "OUTBOUND_RATE_PER_SECOND": str(args.rate), "PUBLIC_BASE_URL": f"http://{HOST}:{PORT}",
           "OUTBOUND_STALE_AFTER": "5", "OUTBOUND_IN_DOUBT_GRACE": "15"}
    if args.no_callbacks:
        env["DJANGO_SETTINGS_MODULE"] = "outbound_settings"
        env["PYTHONPATH"] = f"{ROOT / 'bench'}:{ROOT}"
    os.environ.update({k: env[k] for k in ("DEBUG", "SECRET_KEY", "FIELD_ENCRYPTION_KEY", "ALLOWED_HOSTS", "SANDBOX_ENABLED",
                                            "OUTBOUND_RATE_PER_SECOND", "CHANNELS_PREFIX", "PUBLIC_BASE_URL")})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    _flush_broker()
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    conversations = {kind: prepare(args.messages, kind) for kind in kinds}

    shape = production_shape(env, PORT, name="outbound")  # its own worker below: --kill-worker kills one of its children
    shape.start()
    worker = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "celery"), "-A", "config", "worker", "--loglevel=WARNING", f"--concurrency={args.concurrency}",
         "--pool=prefork", "--without-gossip", "--without-mingle", "--without-heartbeat", "--prefetch-multiplier=1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open("/tmp/outbound-bench-worker.log", "w"))
    try:
        time.sleep(3)  # let the worker processes connect
        print(machine_reference())
        for kind in kinds:
            started = time.perf_counter()
            produce(conversations[kind], kind)
            produced = time.perf_counter() - started
            killer = threading.Thread(target=kill_one_worker, args=(worker.pid,), daemon=True) if args.kill_worker else None
            if killer:
                killer.start()
            wait_until_settled(BENCH_NUMBERS[kind], timeout=600)
            if killer:
                killer.join()
            report(args, produced, kind)
        print(server_line(shape))
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
        shape.stop()


def _flush_broker():
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter("celery*"):  # the queue and any priority lists kombu keeps beside it
        client.delete(key)
    for key in client.scan_iter("bench-outbound:ratelimit:*"):
        client.delete(key)


BENCH_NUMBERS = {"whatsapp": "+919876508888", "rcs": "+919876508889", "rcs-rich": "+919876508890"}
CUSTOMER_PREFIX = {"whatsapp": "+9197", "rcs": "+9196", "rcs-rich": "+9195"}
CHANNEL_KINDS = {"whatsapp": "whatsapp", "rcs": "rcs", "rcs-rich": "rcs"}


def prepare(count: int, kind: str):
    from django.utils import timezone

    from contacts.models import Contact, ContactPhone
    from inbox.models import Channel, Conversation, Message
    from sandbox.models import SandboxMessage

    number, prefix = BENCH_NUMBERS[kind], CUSTOMER_PREFIX[kind]
    Channel.objects.filter(phone_number=number).delete()
    Contact.objects.filter(name__startswith=f"Outbound bench {kind} ").delete()
    channel = Channel.objects.create(
        kind=CHANNEL_KINDS[kind], phone_number=number, name=f"Outbound bench {kind}", access_token=f"{TOKEN}-{kind}", partner_token="bench-partner",
        api_base_url=f"http://{HOST}:{PORT}/sandbox/api/tata",
    )
    now = timezone.now()
    contacts = Contact.objects.bulk_create([Contact(name=f"Outbound bench {kind} {i}") for i in range(count)])
    ContactPhone.objects.bulk_create([ContactPhone(contact=c, number=f"{prefix}{i:08d}", is_primary=True) for i, c in enumerate(contacts)])
    conversations = Conversation.objects.bulk_create([Conversation(channel=channel, contact=c, last_inbound_at=now) for c in contacts])
    # The sandbox refuses free-form text to customers who have not written: they all did, a minute ago.
    SandboxMessage.objects.bulk_create([
        SandboxMessage(channel=channel, customer=f"{prefix}{i:08d}", direction="in", provider_message_id=f"wamid.BENCHIN{kind}{i}-{time.time_ns()}", type="text")
        for i in range(count)
    ])
    assert not Message.objects.filter(channel=channel).exists()
    return [c.pk for c in conversations]


def rich_spec(conversation_pk: int) -> dict:
    """The carousel the rcs-rich kind sends: two cards with media and suggestions, unique per conversation."""
    return {"kind": "carousel", "cards": [
        {"title": f"Goa, 3 nights (#{conversation_pk})", "description": "Beach stay", "media_url": f"http://{HOST}:{PORT}/rcs-cards/benchmedia0001",
         "suggestions": [{"type": "reply", "text": "Book Goa"}, {"type": "url", "text": "Details", "url": "https://travel.example/goa"}]},
        {"title": "Manali, 4 nights", "description": "Snow",
         "suggestions": [{"type": "reply", "text": "Book Manali"}, {"type": "dial", "text": "Call us", "phone": "+919090909090"}]},
    ]}


def produce(conversation_ids, kind, threads=4):
    from django.db import connections

    from inbox.outbound import send
    from inbox.models import Conversation
    from inbox.rich import service as rich

    def work(ids):
        try:
            for conversation in Conversation.objects.filter(pk__in=ids).select_related("channel", "contact"):
                if kind == "rcs-rich":
                    rich.send_rich(conversation, by=None, spec=rich_spec(conversation.pk))
                else:
                    send.send_text(conversation, by=None, body=f"Your order ships today (#{conversation.pk})")
        finally:
            connections.close_all()

    chunks = [conversation_ids[i::threads] for i in range(threads)]
    workers = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
    for t in workers:
        t.start()
    for t in workers:
        t.join()


def kill_one_worker(parent_pid: int):
    """SIGKILL one prefork child while messages are in flight (it dies mid-send)."""
    time.sleep(2)
    children = subprocess.run(["pgrep", "-P", str(parent_pid)], capture_output=True, text=True).stdout.split()
    if children:
        os.kill(int(children[0]), signal.SIGKILL)
        print(f"killed worker process {children[0]}")


def wait_until_settled(number: str, timeout: float):
    from inbox.models import Message

    deadline = time.time() + timeout
    pending = Message.objects.filter(channel__phone_number=number, status__in=["queued", "sending"])
    while pending.exists() and time.time() < deadline:
        time.sleep(0.2)


def report(args, produced: float, kind: str):
    from inbox.models import Message, SendAttempt
    from sandbox.models import SandboxMessage

    number = BENCH_NUMBERS[kind]
    messages = Message.objects.filter(channel__phone_number=number)
    created = dict(messages.values_list("pk", "created_at"))
    accepted = dict(
        SendAttempt.objects.filter(message__in=messages, outcome="accepted").values_list("message_id", "finished_at")
    )
    latencies = sorted((accepted[pk] - created[pk]).total_seconds() for pk in accepted)
    first, last = min(created.values()), max(accepted.values()) if accepted else None
    def identity(payload):  # what makes one of our messages unique on the wire
        if kind == "rcs":
            return (payload.get("to"), (payload.get("content") or {}).get("plainText"))
        if kind == "rcs-rich":
            return (payload.get("to"), json.dumps(payload.get("content"), sort_keys=True))
        return (payload.get("metaData") or {}).get("custom_callback_data")

    sends = collections.Counter(
        identity(m.payload) for m in SandboxMessage.objects.filter(channel__phone_number=number, direction="out").only("payload")
    )
    duplicates = sum(n - 1 for n in sends.values() if n > 1)
    statuses = collections.Counter(messages.values_list("status", flat=True))
    print(f"---- {kind}: {'POST /rcs/messages' if kind.startswith('rcs') else 'POST /whatsapp-cloud/messages'}")
    print(f"messages queued:        {len(created)} (producers took {produced:.1f} s)")
    print(f"accepted by Tata:       {len(accepted)}   final statuses: {dict(statuses)}")
    if last:
        span = (last - first).total_seconds()
        print(f"throughput:             {len(accepted) / span:.1f} messages/s (first queued → last sent, {span:.1f} s)")
        print(f"queue→sent latency:     p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {latencies[int(0.99 * (len(latencies) - 1))] * 1000:.0f} ms")
    print(f"requests Tata received: {sum(sends.values())}")
    print(f"duplicate sends:        {duplicates}")
    print(f"token bucket:           {args.rate:g}/s per number; worker processes: {args.concurrency}; "
          f"status callbacks {'held back' if args.no_callbacks else 'on (ingested by the same workers)'}")


if __name__ == "__main__":
    main()
