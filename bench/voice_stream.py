"""Concurrent Smartflo voice streams on one daphne process, 20 ms frames both ways.

    .venv/bin/python bench/voice_stream.py [--levels 50,100,150,200] [--seconds 8] [--port 8216, or BENCH_PORT]

One daphne process serves config.asgi (DEBUG off, pooled PostgreSQL, Redis channel layer) on
127.0.0.1. For each level N the script places N automated calls (rows as `telephony.automated.place`
leaves them), then plays Smartflo over loopback with the sandbox's WebSocket client: N sockets to the
stream URL, each sending `connected`, `start` and a `media` frame every 20 ms (one shared ticker on
absolute deadlines), while Sampark plays a prompt longer than the run to each stream (telephony.streaming's
Pacer). After `--seconds` every stream sends `stop`.

Per level it prints:
- outbound jitter: |gap between consecutive media frames of a stream − 20 ms| at the client, p50 / p99 /
  max over every gap of every stream (the first 0.5 s skipped: the prompt starts at `start`);
- outbound short: frames a stream should have had over its measured window (its duration / 20 ms)
  minus the frames it got (a frame late by more than a frame counts as a gap, not a drop);
- inbound drops: frames sent minus frames the server counted (AutomatedCall.frames_in);
- daphne's CPU per stream-second while every stream plays and sends (its CPU per frame handled in the steady
  window, from 0.5 s to the last frame, times the 100 frames of a stream-second: what limits the count),
  and its CPU per stream for the rest (opening the socket, `start`,
  and `stop` with the recording saved); this client's CPU per stream-second (same machine, not the server's);
  the load average.
"Held" = the largest level with outbound jitter p99 < 20 ms and no frame dropped either way.
The ceiling line is the client's own timer: how late its 20 ms ticker wakes with the same number of
streams and no server — jitter the client itself adds to every figure above.

Env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/sampark_voice_stream, created if missing),
REDIS_URL (default redis://127.0.0.1:6379/16), BENCH_PORT (the server's port, default 8216).
"""

import argparse
import asyncio
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sampark_voice_stream")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/16")
os.environ.setdefault("CHANNELS_PREFIX", "bench-voice")
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("TELEPHONY_PROMPT_MAX_SECONDS", "600")

from bench.common import PRODUCTION_MODE, cpu_seconds, ensure_database, machine_reference, start_daphne, stop, wait_for_server  # noqa: E402

for name, value in PRODUCTION_MODE.items():
    os.environ.setdefault(name, value)

FRAME = 0.02
WARM_UP = 0.5


def prepare(seconds: float):
    import django

    django.setup()
    from django.core.files.base import ContentFile
    from django.core.management import call_command

    from telephony import audio
    from telephony.models import CallCampaign, TelephonyConnection

    call_command("migrate", verbosity=0)
    connection, _ = TelephonyConnection.objects.get_or_create(
        name="Bench voice", defaults={"provider": "tata_smartflo", "auth_token": "bench", "api_key": "bench", "base_url": "http://127.0.0.1:9/"})
    campaign = CallCampaign(name=f"bench {time.time():.0f}", connection=connection)
    campaign.prompt.save("prompt.ulaw", ContentFile(audio.tone(seconds + 4, (440.0, 660.0))), save=False)
    campaign.save()
    return connection, campaign


def place(campaign, count: int, level_tag: str) -> list[str]:
    """N automated calls as `place` leaves them (ringing, waiting for their stream); their identifiers."""
    from contacts.models import Contact
    from telephony.models import AutomatedCall, Call

    contacts = Contact.objects.bulk_create([Contact(name=f"bench {level_tag} {i}") for i in range(count)])
    identifiers = [f"sampark-auto-bench{level_tag}x{i}" for i in range(count)]
    calls = Call.objects.bulk_create([Call(connection=campaign.connection, direction="outbound", custom_identifier=identifier,
                                           customer_number=f"+9198{i:08d}", contact=contact)
                                      for i, (identifier, contact) in enumerate(zip(identifiers, contacts))])
    AutomatedCall.objects.bulk_create([AutomatedCall(campaign=campaign, contact=contact, number=call.customer_number, call=call,
                                                     status=AutomatedCall.Status.PLACED) for contact, call in zip(contacts, calls)])
    return identifiers


class Stream:
    def __init__(self, index: int, identifier: str):
        self.index, self.identifier, self.sid = index, identifier, f"MZbench{index:05d}"
        self.arrivals: list[float] = []
        self.sent, self.socket, self.closed_with = 0, None, None

    async def listen(self):
        from sandbox.ws_client import Closed

        loop = asyncio.get_running_loop()
        while True:
            try:
                text = await self.socket.recv()
            except Closed as closed:
                self.closed_with = closed.code
                return
            if text.startswith('{"event":"media"'):
                self.arrivals.append(loop.time())


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of one process: one read of /proc, cheap enough to take between two ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_level(url: str, identifiers: list[str], seconds: float, server_pid: int) -> tuple[list[Stream], float, float, int]:
    """The streams; the server's CPU seconds per frame (inbound and outbound) over the steady window,
    from WARM_UP to the last frame: per frame handled, so a server short of CPU on a busy machine (which
    sends fewer frames) is not flattered; its CPU seconds in that window; the frames handled outside it."""
    from sandbox.ws_client import WebSocket
    from telephony import audio
    from telephony.providers import smartflo_stream as protocol

    streams = [Stream(i, identifier) for i, identifier in enumerate(identifiers)]
    semaphore = asyncio.Semaphore(20)

    async def open_one(stream):
        async with semaphore:
            stream.socket = await WebSocket.connect(f"{url}?call={stream.identifier}", timeout=30)
            await stream.socket.send(protocol.connected_text())

    await asyncio.gather(*(open_one(s) for s in streams))
    listeners = [asyncio.get_running_loop().create_task(s.listen()) for s in streams]
    for stream in streams:  # every stream starts within the same moment, then 20 ms frames from all
        await stream.socket.send(protocol.start_text(stream.sid, f"call-{stream.index}", custom={"custom_identifier": stream.identifier}))
    payload = protocol.payloads([audio.SILENCE])[0]
    loop = asyncio.get_running_loop()
    deadline = started = loop.time()
    chunk, steady = 0, None
    while loop.time() - started < seconds:
        chunk += 1
        if steady is None and loop.time() - started >= WARM_UP:
            steady = (loop.time(), process_cpu(server_pid), sum(s.sent for s in streams))
        for stream in streams:
            await stream.socket.send(protocol.inbound_media_text(stream.sid, chunk + 1, chunk, payload))
            stream.sent += 1
        deadline += FRAME
        await asyncio.sleep(max(0.0, deadline - loop.time()))
    steady_cpu, steady_end = process_cpu(server_pid) - steady[1], loop.time()
    frames_out = sum(steady[0] <= t <= steady_end for stream in streams for t in stream.arrivals)
    frames_in = sum(s.sent for s in streams) - steady[2]
    for stream in streams:
        await stream.socket.send(protocol.stop_text(stream.sid, f"call-{stream.index}"))
    await asyncio.wait(listeners, timeout=15)
    outside = sum(s.sent + len(s.arrivals) for s in streams) - frames_in - frames_out
    return streams, steady_cpu / (frames_in + frames_out), steady_cpu, outside


async def timer_ceiling(count: int, seconds: float) -> list[float]:
    """The client's ticker alone: how late each 20 ms wake-up is, with `count` streams' worth of sends stubbed out."""
    loop = asyncio.get_running_loop()
    deadline = started = loop.time()
    late = []
    while loop.time() - started < seconds:
        for _ in range(count):
            await asyncio.sleep(0)
        deadline += FRAME
        await asyncio.sleep(max(0.0, deadline - loop.time()))
        late.append(max(0.0, loop.time() - deadline) * 1000)
    return late


def measure(streams: list[Stream], seconds: float) -> dict:
    gaps, missing = [], 0
    for stream in streams:
        times = stream.arrivals
        if not times:
            missing += int(seconds / FRAME)
            continue
        window = [t for t in times if t - times[0] >= WARM_UP]
        gaps += [abs((b - a) - FRAME) * 1000 for a, b in zip(window, window[1:])]
        if window:
            expected = round((window[-1] - window[0]) / FRAME) + 1
            missing += max(0, expected - len(window))
    gaps.sort()
    pick = lambda q: gaps[min(len(gaps) - 1, int(q * len(gaps)))] if gaps else float("nan")  # noqa: E731
    return {"p50": pick(0.5), "p99": pick(0.99), "max": gaps[-1] if gaps else float("nan"), "out_missing": missing}


def inbound_missing(identifiers: list[str], sent: dict[str, int]) -> tuple[int, int]:
    from telephony.models import AutomatedCall

    counted = dict(AutomatedCall.objects.filter(call__custom_identifier__in=identifiers).values_list("call__custom_identifier", "frames_in"))
    ended = AutomatedCall.objects.filter(call__custom_identifier__in=identifiers, status="ended").count()
    return sum(max(0, sent[i] - counted.get(i, 0)) for i in identifiers), ended


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", default="50,100,150,200")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", 8216)))
    args = parser.parse_args()
    ensure_database(os.environ["DATABASE_URL"])
    connection, campaign = prepare(args.seconds)
    from telephony.automated import stream_token

    print(machine_reference())
    daphne = start_daphne(dict(os.environ), args.port, name="voice-stream")
    try:
        wait_for_server("127.0.0.1", args.port)
        url = f"ws://127.0.0.1:{args.port}/ws/telephony/stream/{stream_token(connection)}/"
        print(f"one daphne process (pid {daphne.pid}), DEBUG off, PostgreSQL pooled, Redis layer; {args.seconds:g} s per level")
        print(f"{'streams':>7} | {'jitter p50':>10} {'p99':>7} {'max':>7} ms | {'out short':>9} {'in drop':>7} {'ended':>6} | "
              f"daphne cpu {'streaming':>9} ms/stream-s {'open+end':>8} ms/stream | client cpu ms/stream-s | {'timer p99':>9} ms | load")
        held = 0
        for level in [int(x) for x in args.levels.split(",")]:
            identifiers = place(campaign, level, f"{level}t{int(time.time())}")
            cpu_before, client_before = cpu_seconds([daphne.pid]), resource.getrusage(resource.RUSAGE_SELF)
            streams, per_frame, steady_cpu, outside = asyncio.run(run_level(url, identifiers, args.seconds, daphne.pid))
            wait_until = time.monotonic() + 30  # the streams' end_stream writes (one database thread in daphne)
            while inbound_missing(identifiers, {s.identifier: s.sent for s in streams})[1] < level and time.monotonic() < wait_until:
                time.sleep(0.5)
            cpu_after, client_after = cpu_seconds([daphne.pid]), resource.getrusage(resource.RUSAGE_SELF)
            figures = measure(streams, args.seconds)
            in_missing, ended = inbound_missing(identifiers, {s.identifier: s.sent for s in streams})
            ceiling = sorted(asyncio.run(timer_ceiling(level, 3.0)))
            stream_seconds = level * args.seconds
            client_cpu = (client_after.ru_utime + client_after.ru_stime - client_before.ru_utime - client_before.ru_stime)
            ok = figures["p99"] < 20 and not figures["out_missing"] and not in_missing and ended == level
            held = level if ok else held
            print(f"{level:>7} | {figures['p50']:>10.2f} {figures['p99']:>7.2f} {figures['max']:>7.1f}    | {figures['out_missing']:>9} "
                  f"{in_missing:>7} {ended:>6} | {'':>10} {per_frame * 2 / FRAME * 1000:>9.2f} {'':>11} "
                  f"{(cpu_after - cpu_before - steady_cpu - per_frame * outside) * 1000 / level:>8.1f} {'':>9} | {client_cpu * 1000 / stream_seconds:>10.2f} {'':>11} | "
                  f"{ceiling[int(0.99 * len(ceiling))]:>9.2f}    | "
                  f"{os.getloadavg()[0]:.1f}{'' if ok else '  ✗'}")
        print(f"held: {held} concurrent streams with outbound jitter p99 < 20 ms and no dropped frames (goal ≥ 100)")
    finally:
        stop(daphne)


if __name__ == "__main__":
    main()
