"""What the benchmarks share: production mode for the processes they run, and waiting for daphne."""

import http.client
import time

# DEBUG off, as in production. The secrets only ever serve benchmark databases.
PRODUCTION_MODE = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnop",
    "FIELD_ENCRYPTION_KEY": "c2FtcGFyay1kZXYta2V5LW5vdC1mb3ItcHJvZHVjdGk=",
}


# Celery workers run below daphne's CPU priority, as `make worker` runs them (WORKER_NICE).
WORKER_NICE = 10
WORKER_PRIORITY = ["nice", "-n", str(WORKER_NICE)]


def wait_for_server(host: str, port: int, timeout: float = 30) -> None:
    """Until daphne answers /healthz with 200; exits the benchmark if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection(host, port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"daphne did not start on {host}:{port}")


def machine_reference() -> str:
    """One line naming how fast this machine is, printed by every benchmark.

    The machines these run on differ from day to day (the same code measured 3–4x apart), so a
    figure only compares with another next to this line. Two workloads, best of five each: a plain
    Python loop, and a Django template render (dictionary lookups, allocation, escaping: the kind of
    work a request does, which suffered more than the loop on slower machines)."""
    from django.template import Context, Engine

    template = Engine().from_string('{% for row in rows %}<li class="{{ row.kind }}">{{ row.name|upper }} {{ row.n }}</li>{% endfor %}')
    context = Context({"rows": [{"kind": "a", "name": f"row {i}", "n": i} for i in range(2000)]})
    loop = min(_timed(_count_up) for _ in range(5))
    render = min(_timed(lambda: template.render(context)) for _ in range(5))
    return f"machine reference (lower is faster): a 2M-step Python loop {loop * 1000:.0f} ms, a 2000-row Django template {render * 1000:.0f} ms"


def _count_up() -> None:
    total = 0
    for step in range(2_000_000):
        total += step


def _timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started
