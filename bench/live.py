"""Webhook-to-browser latency: 50 agent websockets on the Redis channel layer.

    .venv/bin/python bench/live.py [--agents 50] [--messages 200] [--port 8201]

The production shape on 127.0.0.1 (deploy/serve.py), everything through its front door: nginx passing
the webhooks to gunicorn and /ws/ to daphne, a Celery worker (Redis broker) running ingest, PostgreSQL.
The script creates a team of N agents and a channel, logs every agent in (session cookie), opens N
websockets to /ws/events/, then posts signed Tata webhooks (a text from a different customer each)
one after another. For every webhook it records, on every socket, the time from just before the POST
to the arrival of its `message.created` event, and prints p50 / p90 / p99 / max over all of them.

Env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/sampark_inboxui_bench, created if
missing), REDIS_URL (default redis://127.0.0.1:6379/7 — a database of its own, so no other worker
takes the bench's tasks). Goal: p50 < 20 ms, p99 < 60 ms.
"""

import argparse
import asyncio
import base64
import json
import os
import secrets
import statistics
import struct
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sampark_inboxui_bench")
REDIS_URL = os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/7")
os.environ.setdefault("CHANNELS_PREFIX", "bench-live")
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from bench.common import PRODUCTION_MODE, WORKER_NICE, ensure_database, machine_reference, production_shape, server_line  # noqa: E402

for name, value in PRODUCTION_MODE.items():  # production mode, as the other benchmarks run it
    os.environ.setdefault(name, value)




def prepare(agent_count: int):
    """Rows for the run: a team of agents with sessions, and a channel owned by the team."""
    import django

    django.setup()
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer
    from django.core.management import call_command
    from django.test import Client

    from accounts.models import Role, Team, User
    from inbox.models import Channel

    call_command("migrate", verbosity=0)
    # The sockets of earlier runs (their daphne was killed) would still be in the groups until their
    # memberships lapse, and every event would be pushed to them too.
    async_to_sync(get_channel_layer().flush)()
    team, _ = Team.objects.get_or_create(name="Bench live")
    cookies = []
    for i in range(agent_count):
        user, _ = User.objects.get_or_create(username=f"bench-agent-{i:03d}", defaults={"role": Role.AGENT})
        team.members.add(user)
        client = Client()
        client.force_login(user)
        cookies.append(client.cookies["sessionid"].value)
    channel, _ = Channel.objects.get_or_create(
        kind=Channel.Kind.WHATSAPP,
        phone_number="+919876599999",
        defaults={"name": "Bench live", "partner_token": "bench-partner-token", "access_token": "bench", "team": team},
    )
    return channel, cookies


# ---------------------------------------------------------------- a small websocket client (RFC 6455)


class Socket:
    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host, port, path, cookie):
        reader, writer = await asyncio.open_connection(host, port)
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        writer.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://{host}:{port}\r\n"
                f"Cookie: sessionid={cookie}\r\n\r\n"
            ).encode()
        )
        status = await reader.readline()
        if b" 101 " not in status:
            raise RuntimeError(f"websocket refused: {status!r}")
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        return cls(reader, writer)

    async def receive(self) -> dict:
        while True:
            head = await self.reader.readexactly(2)
            opcode, length = head[0] & 0x0F, head[1] & 0x7F
            if length == 126:
                length = struct.unpack("!H", await self.reader.readexactly(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", await self.reader.readexactly(8))[0]
            data = await self.reader.readexactly(length)
            if opcode == 1:
                return json.loads(data)
            if opcode == 8:
                raise ConnectionError("closed by server")

    def close(self):
        self.writer.close()


# ---------------------------------------------------------------- the run


def webhook_body(i: int) -> bytes:
    digits = f"9198{(10_000_000 + i * 7919) % 100_000_000:08d}"
    return json.dumps(
        {
            "contacts": [{"profile": {"name": f"Bench customer {i}"}, "wa_id": digits}],
            "messages": {"from": digits, "id": f"wamid.BENCH{time.time_ns()}{i}", "timestamp": str(int(time.time())),
                         "text": {"body": f"bench message {i}"}, "type": "text"},
            "businessPhoneNumber": "+919876599999",
            "id": f"bench-{i}",
        }
    ).encode()


async def run(args, channel, cookies):
    import requests

    from inbox.providers.tata_whatsapp import SIGNATURE_HEADER, sign

    sockets = [await Socket.open("127.0.0.1", args.port, "/ws/events/", cookie) for cookie in cookies]
    for sock in sockets:
        assert (await sock.receive())["event"] == "hello"
    url = f"http://127.0.0.1:{args.port}/webhooks/tata/{channel.webhook_token}/"
    session = requests.Session()
    loop = asyncio.get_running_loop()
    latencies, missed, answered = [], 0, []

    # One reader per socket, never cancelled mid-frame: arrivals of message.created go to its queue.
    queues = [asyncio.Queue() for _ in sockets]

    async def read(sock, queue):
        while True:
            event = await sock.receive()
            if event["event"] == "message.created":
                await queue.put((time.perf_counter(), event["payload"]["message"]))

    readers = [asyncio.ensure_future(read(s, q)) for s, q in zip(sockets, queues)]

    async def arrival(queue, after):
        while True:
            at, _ = await queue.get()
            if at >= after:
                return at

    from channels.layers import get_channel_layer

    from accounts.selectors import team_group

    layer = get_channel_layer()
    for i in range(args.warmup + args.messages):
        started = time.perf_counter()
        if args.direct:  # only the fan-out: what publish() hands the channel layer after commit
            event_id = secrets.token_hex(16)
            text = json.dumps({"id": event_id, "event": "message.created", "ts": str(time.time()), "payload": {"message": i, "conversation": 0}})
            group = team_group(channel.team_id)
            await layer.group_send(group, {"type": "event.message", "id": event_id, "event": "message.created", "text": text, "groups": [group]})
            done, pending = await asyncio.wait([asyncio.ensure_future(arrival(q, started)) for q in queues], timeout=5)
            if i >= args.warmup:
                latencies += [(task.result() - started) * 1000 for task in done]
                missed += len(pending)
            for task in pending:
                task.cancel()
            await asyncio.sleep(args.gap / 1000)
            continue
        body = webhook_body(i)
        headers = {SIGNATURE_HEADER: sign(body, channel.partner_token), "Content-Type": "application/json"}
        response = await loop.run_in_executor(None, lambda: session.post(url, data=body, headers=headers, timeout=10))
        if response.status_code != 200:
            raise RuntimeError(f"webhook answered {response.status_code}: {response.text}")
        if i >= args.warmup:
            answered.append((time.perf_counter() - started) * 1000)
        waiters = [asyncio.ensure_future(arrival(q, started)) for q in queues]
        done, pending = await asyncio.wait(waiters, timeout=5)
        for task in pending:
            task.cancel()
        if i >= args.warmup:
            latencies += [(task.result() - started) * 1000 for task in done]
            missed += len(pending)
        await asyncio.sleep(args.gap / 1000)
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    for sock in sockets:
        sock.close()
    return latencies, missed, answered


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--gap", type=float, default=20, help="ms between webhooks")
    parser.add_argument("--port", type=int, default=8201)
    parser.add_argument("--direct", action="store_true", help="skip webhook and ingest: time publish → browser only")
    args = parser.parse_args()

    ensure_database(DATABASE_URL)
    channel, cookies = prepare(args.agents)
    shape = production_shape({**os.environ, "CELERY_CONCURRENCY": "4"}, args.port, celery=True, name="live")
    shape.start()
    try:
        time.sleep(2)  # let the worker connect to the broker
        latencies, missed, answered = asyncio.run(run(args, channel, cookies))
    finally:
        shape.stop()

    print(machine_reference())
    print(f"{'publish' if args.direct else 'webhook'} → browser event, {args.agents} websockets, {args.messages} {'events' if args.direct else 'webhooks'} ({len(latencies)} deliveries, {missed} missed)")
    print(f"  {server_line(shape)}; Celery worker: 4 processes at nice {WORKER_NICE}; Redis channel layer; {DATABASE_URL.split('://')[0]}")
    print(
        f"  p50 {statistics.median(latencies):.1f} ms   p90 {percentile(latencies, 90):.1f} ms   "
        f"p99 {percentile(latencies, 99):.1f} ms   max {max(latencies):.1f} ms"
    )
    if answered:
        print(f"  (the webhook's own HTTP answer: p50 {statistics.median(answered):.1f} ms, p99 {percentile(answered, 99):.1f} ms)")


if __name__ == "__main__":
    main()
