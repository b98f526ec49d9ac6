"""What the benchmarks share: production mode, the production shape they measure, and the ceiling.

Every bench that reports a ratio serves both sides from the production shape (deploy/serve.py: nginx in
front of gunicorn's WSGI workers, one per core, and daphne for /ws/) in the same run: the ceiling is the
bare view on the best server this machine has, not on the server being measured.
"""

import http.client
import statistics
import threading
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent

# DEBUG off, as in production. The secrets only ever serve benchmark databases.
PRODUCTION_MODE = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnop",
    "FIELD_ENCRYPTION_KEY": "c2FtcGFyay1iZW5jaC1vbmx5LWtleS1ub3QtcHJvZCE=",  # not the development key, which DEBUG off refuses
}


# Celery workers run below the web servers' CPU priority, as `make worker` and `make serve` run them (WORKER_NICE).
WORKER_NICE = 10


CORES = multiprocessing.cpu_count()


def production_shape(env: dict, port: int, celery: bool = False, name: str = "bench"):
    """The production shape (not yet started) on 127.0.0.1:`port` for `env`, logs in a temporary run directory.

    gunicorn runs one sync worker per core (gunicorn.conf.py's default); Celery workers only with `celery`."""
    sys.path.insert(0, str(ROOT))
    from deploy.serve import Shape

    run_dir = Path(tempfile.mkdtemp(prefix=f"sampark-{name}-shape-"))
    return Shape({**env, "WEB_CONCURRENCY": str(CORES)}, port=port, run_dir=run_dir, web_workers=CORES,
                 celery=celery, beat=False, logs_to_files=True)


def start_daphne(env: dict, port: int, name: str = "bench") -> subprocess.Popen:
    """What served every HTTP request before the production shape: one daphne process, pooled connections."""
    log = open(Path(tempfile.gettempdir()) / f"sampark-{name}-daphne.log", "w")  # a pipe nobody reads would stall it
    return subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "daphne"), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=ROOT, env={**env, "DATABASE_POOL": "true"}, stdout=subprocess.DEVNULL, stderr=log,
    )


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def server_line(shape) -> str:
    return (f"production shape: nginx → gunicorn ({shape.web_workers} sync workers = cores) + daphne (/ws/)"
            f"{' + Celery' if shape.celery else ''}, DEBUG off")


def wait_for_server(host: str, port: int, timeout: float = 30) -> None:
    """Until the server answers /healthz with 200; exits the benchmark if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection(host, port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not start on {host}:{port}")


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


def wrk(url: str, seconds: float = 8, connections: int = 8, headers: dict | None = None) -> dict:
    """Closed-loop GET load by wrk (Debian's `wrk`): req/s, p50/p99 in ms, and answers that were not 2xx/3xx."""
    import re
    import shutil

    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency", "--timeout", "10s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 30).stdout

    def ms(label):
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: .*", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50": ms("50%"), "p99": ms("99%"),
            "failed": int(failed.group(1)) if failed else 0, "socket_errors": errors.group(0) if errors else ""}


def cpu_seconds(root_pids: list[int]) -> float:
    """CPU time (user + system) used so far by these processes and all their descendants.

    On a shared machine a server's req/s follows its share of the CPU; CPU time per request does not,
    so the benches print both."""
    parents, times = {}, {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    wanted, total = set(root_pids), 0.0
    for pid in sorted(times):  # children have higher pids than their parents, mostly: walk up instead
        node = pid
        while node and node not in wanted:
            node = parents.get(node, 0)
        if node:
            total += times[pid]
    return total


def send_all(port: int, requests_: list, concurrency: int, rate: float | None = None, host: str = "127.0.0.1",
             stop: threading.Event | None = None) -> dict:
    """Send every (method, path, body, headers) over `concurrency` keep-alive connections; latencies in ms.

    Closed loop without `rate` (each connection sends as soon as its last answer came: saturation).
    With `rate`, open loop: request i is due at start + i/rate and its latency counts from then, so a
    stall is not hidden by the sender waiting for it. Setting `stop` ends the load early (a probe
    that runs while something else is measured).
    """
    latencies, statuses, lock = [], {}, threading.Lock()
    start = time.perf_counter() + 0.2
    queue = [(start + index / rate if rate else None, request) for index, request in enumerate(requests_)][::-1]

    def worker():
        connection = http.client.HTTPConnection(host, port, timeout=30)
        while True:
            with lock:
                if not queue or (stop is not None and stop.is_set()):
                    break
                due, (method, path, body, headers) = queue.pop()
            if due is None:
                due = time.perf_counter()
            elif (delay := due - time.perf_counter()) > 0:
                if stop is not None:
                    if stop.wait(delay):
                        break
                else:
                    time.sleep(delay)
            if method == "POST":
                headers = {"Content-Type": "application/json", **headers}
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            response.read()
            took = (time.perf_counter() - due) * 1000
            with lock:
                latencies.append(took)
                statuses[response.status] = statuses.get(response.status, 0) + 1
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    latencies.sort()
    if not latencies:
        return {"n": 0, "rps": 0.0, "p50": 0.0, "p99": 0.0, "statuses": statuses, "elapsed": elapsed}
    return {
        "n": len(latencies), "rps": len(latencies) / elapsed, "p50": statistics.median(latencies),
        "p99": latencies[max(0, int(len(latencies) * 0.99) - 1)], "statuses": statuses, "elapsed": elapsed, "latencies": latencies,
    }


def require_postgres() -> None:
    """Exit unless DATABASE_URL names PostgreSQL; create that database if it is missing."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (it is written to).")
    ensure_database(url)


def ensure_database(url: str) -> None:
    """Create the bench's own PostgreSQL database if it is missing (the benches never touch another)."""
    if not url.startswith("postgres"):
        return
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def send_until(port: int, requests_: list, rate: float, stop, results) -> None:
    """In a process of its own (multiprocessing, spawn): send `requests_` paced at `rate` a second, a
    second's worth at a time, until `stop` (an Event) is set or they run out; put {p50, p99, n, statuses}."""
    latencies, statuses = [], {}
    per_round = max(1, int(rate))
    for first in range(0, len(requests_), per_round):
        if stop.is_set():
            break
        result = send_all(port, requests_[first:first + per_round], 8, rate)
        latencies += result["latencies"]
        for status, count in result["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    latencies.sort()
    results.put({"n": len(latencies), "p50": statistics.median(latencies) if latencies else 0.0,
                 "p99": latencies[max(0, int(len(latencies) * 0.99) - 1)] if latencies else 0.0, "statuses": statuses})


class CpuMeter:
    """CPU seconds spent between start() and per_item(): the served processes (nginx, gunicorn, daphne,
    Celery), this database's PostgreSQL backends and, where it does the work, this process."""

    def __init__(self, shape):
        self.pids = [process.pid for _, process in shape.processes]
        self.this_process = False
        self.began = (0.0, {}, 0.0)

    def sample(self) -> tuple[float, dict[int, float], float]:
        served = cpu_seconds(self.pids) + reaped_cpu_seconds(self.pids)
        return served, postgres_cpu_seconds(), time.process_time() if self.this_process else 0.0

    def start(self, this_process: bool = False) -> None:
        self.this_process = this_process
        self.began = self.sample()

    def per_item(self, items: int, polling: bool = False) -> str:
        now = self.sample()
        served, here = now[0] - self.began[0], now[2] - self.began[2]
        # Per backend: one that ended meanwhile is missing from the end (its CPU since the start is lost).
        database = sum(cpu - self.began[1].get(pid, 0.0) for pid, cpu in now[1].items())
        items = max(1, items)
        total = served + database + here
        parts = f"servers {served / items * 1000:.2f} + PostgreSQL {database / items * 1000:.2f}"
        if self.this_process:
            parts += f" + this process {here / items * 1000:.2f}"
        note = " (includes this bench's polling queries)" if polling else ""
        return f"{total / items * 1000:.2f} ms ({parts}){note}"


def reaped_cpu_seconds(pids: list[int]) -> float:
    """CPU seconds of these processes' children that exited (a recycled gunicorn or Celery worker)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[13]) + int(fields[14])) / tick
    return total


def postgres_cpu_seconds() -> dict[int, float]:
    """CPU seconds of each of this database's live PostgreSQL backends (the server runs on this machine)."""
    from django.db import connection as db

    with db.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        pids = [pid for (pid,) in cursor.fetchall()]
    tick, seconds = os.sysconf("SC_CLK_TCK"), {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / tick
    return seconds
