"""The production shape on one machine, in one command: `make serve` (or `.venv/bin/python deploy/serve.py`).

    nginx (the front door, :8080)  ─┬─ /ws/      → daphne (config.asgi: websockets)
                                    ├─ /static/  → files collected into STATIC_ROOT
                                    └─ the rest  → gunicorn (config.wsgi: sync workers, one per core)
    Celery worker (nice 10) + Celery beat, on Redis; everything on PostgreSQL.

It checks PostgreSQL and Redis answer (DATABASE_URL / REDIS_URL, or the local defaults below; the
database is created if missing), migrates, collects static files, renders deploy/nginx/sampark.conf
into its run directory (.serve/: the nginx config, pid, temp files and sockets, so it runs as any user
on a high port), starts every process in its own session and waits. Ctrl-C (or SIGTERM) stops them,
front door first; if any of them dies, the rest are stopped too and the exit status says so.

The benchmarks and the browser test through the front door start the same thing (`Shape`).
"""

import argparse
import http.client
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
TEMPLATE = ROOT / "deploy" / "nginx" / "sampark.conf"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/sampark"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
WORKER_NICE = os.environ.get("WORKER_NICE", "10")  # as `make worker`: applying a webhook waits behind answering one

MAIN_CONFIG = """# Rendered by deploy/serve.py: nginx as an unprivileged foreground process with its own paths.
daemon off;
{user}worker_processes {workers};
pid {run}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
    include {mime_types};
    default_type application/octet-stream;
    access_log {access_log};
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    client_body_temp_path {run}/tmp/body;
    proxy_temp_path {run}/tmp/proxy;
    fastcgi_temp_path {run}/tmp/fastcgi;
    uwsgi_temp_path {run}/tmp/uwsgi;
    scgi_temp_path {run}/tmp/scgi;
    include {run}/sampark.conf;
}}
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(p)), None)


def render_site(listen: str, gunicorn: str, daphne: str, server_name: str = "_", static_root: str = "") -> str:
    """deploy/nginx/sampark.conf with its placeholders filled; the body limits come from Django's settings."""
    from django.conf import settings

    values = {
        "listen": listen,
        "server_name": server_name,
        "gunicorn": gunicorn,
        "daphne": daphne,
        "static_root": static_root or str(settings.STATIC_ROOT),
        "request_max_body": str(settings.REQUEST_MAX_BODY_BYTES),
        "webhook_max_body": str(settings.WEBHOOK_MAX_BODY_BYTES),
        "dialplan_max_body": str(settings.DIALPLAN_MAX_BODY_BYTES),
    }
    text = TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", value)
    if "{{" in text:
        raise ValueError(f"unfilled placeholder in {TEMPLATE}: {text[text.index('{{'):][:40]}")
    return text


class Shape:
    """nginx + gunicorn + daphne (+ Celery worker and beat) for `env`, on 127.0.0.1:`port`."""

    def __init__(self, env: dict, port: int = 8080, host: str = "127.0.0.1", run_dir: Path | None = None,
                 web_workers: int | None = None, celery: bool = True, beat: bool = True, logs_to_files: bool = False):
        self.host, self.port = host, port
        self.url = f"http://{host}:{port}"
        self.run_dir = Path(run_dir or ROOT / ".serve").resolve()
        self.logs_to_files = logs_to_files
        self.env = {
            # The local production shape speaks plain http: secure-only cookies would never come back.
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "PUBLIC_BASE_URL": self.url,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            **env,
            "PYTHONUNBUFFERED": "1",
        }
        self.web_workers = web_workers or int(self.env.get("WEB_CONCURRENCY") or multiprocessing.cpu_count())
        self.celery, self.beat = celery, beat
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self._pumps: list[threading.Thread] = []

    # ------------------------------------------------------------ preparing

    def prepare(self, demo: bool = False, migrate: bool = True) -> None:
        """Migrate, collect static files (and load the demo data), as a deploy would."""
        if migrate:
            self._manage("migrate", "--noinput")
        self._manage("collectstatic", "--noinput", "--verbosity=0")
        if demo:
            self._manage("seed_demo")

    def _manage(self, *args: str) -> None:
        subprocess.run([str(BIN / "python"), "manage.py", *args], cwd=ROOT, env=self.env, check=True)

    def write_nginx_config(self) -> Path:
        for sub in ("tmp", "logs"):
            (self.run_dir / sub).mkdir(parents=True, exist_ok=True)
        (self.run_dir / "sampark.conf").write_text(
            render_site(f"{self.host}:{self.port}", f"unix:{self.gunicorn_socket}", f"unix:{self.daphne_socket}",
                        static_root=self.env.get("STATIC_ROOT", ""))
        )
        config = self.run_dir / "nginx.conf"
        config.write_text(MAIN_CONFIG.format(
            run=self.run_dir, workers=1 if self.web_workers <= 2 else "auto",
            # Started as root, nginx's workers would switch to `nobody`, who cannot read a private run
            # directory: they stay the user who started it. (A system nginx runs its own way.)
            user="user root;\n" if os.geteuid() == 0 else "",
            mime_types="/etc/nginx/mime.types" if os.path.exists("/etc/nginx/mime.types") else f"{self.run_dir}/mime.types",
            access_log=self.env.get("NGINX_ACCESS_LOG", "off"),
        ))
        if not os.path.exists("/etc/nginx/mime.types"):
            (self.run_dir / "mime.types").write_text("types { text/css css; application/javascript js; image/svg+xml svg; image/png png; }\n")
        return config

    @property
    def gunicorn_socket(self) -> Path:
        return self.run_dir / "gunicorn.sock"

    @property
    def daphne_socket(self) -> Path:
        return self.run_dir / "daphne.sock"

    # ------------------------------------------------------------ running

    def commands(self) -> list[tuple[str, list[str], dict]]:
        nginx = nginx_binary()
        if not nginx:
            raise SystemExit("nginx is missing: apt-get install -y nginx")
        run = [
            ("gunicorn", [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"unix:{self.gunicorn_socket}",
                          "--workers", str(self.web_workers), "config.wsgi:application"], {}),
            # daphne runs each consumer step on a thread: the pool keeps its connections (a few suffice).
            ("daphne", [str(BIN / "daphne"), "-u", str(self.daphne_socket), "--proxy-headers", "config.asgi:application"],
             {"DATABASE_POOL": "true", "DATABASE_POOL_MAX": self.env.get("DATABASE_POOL_MAX", "8")}),
        ]
        if self.celery:
            run.append(("worker", ["nice", "-n", WORKER_NICE, str(BIN / "celery"), "-A", "config", "worker", "--loglevel=info",
                                   f"--concurrency={self.env.get('CELERY_CONCURRENCY', '4')}", "--without-gossip", "--without-mingle"],
                        {"CONN_MAX_AGE": self.env.get("CONN_MAX_AGE", "300"), "CONN_HEALTH_CHECKS": "true"}))
        if self.beat:
            run.append(("beat", [str(BIN / "celery"), "-A", "config", "beat", "--loglevel=info",
                                 f"--schedule={self.run_dir / 'celerybeat-schedule'}"], {}))
        run.append(("nginx", [nginx, "-p", str(self.run_dir), "-c", str(self.run_dir / "nginx.conf"), "-e", "stderr"], {}))
        return run

    def start(self, timeout: float = 60) -> "Shape":
        config = self.write_nginx_config()
        nginx = nginx_binary()
        if nginx:
            check = subprocess.run([nginx, "-t", "-q", "-p", str(self.run_dir), "-c", str(config), "-e", "stderr"],
                                   capture_output=True, text=True)
            if check.returncode:
                raise SystemExit(f"nginx refused {config}:\n{check.stderr}")
        for path in (self.gunicorn_socket, self.daphne_socket):
            path.unlink(missing_ok=True)
        try:
            for name, command, extra in self.commands():
                self._spawn(name, command, {**self.env, **extra})
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self, name: str, command: list[str], env: dict) -> None:
        if self.logs_to_files:
            log = open(self.run_dir / "logs" / f"{name}.log", "ab")
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, process_group=0)
            log.close()
        else:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       process_group=0)
            pump = threading.Thread(target=_prefix_lines, args=(name, process.stdout), daemon=True)
            pump.start()
            self._pumps.append(pump)
        self.processes.append((name, process))

    def wait_ready(self, timeout: float) -> None:
        """Until the front door answers /healthz from gunicorn and daphne's socket is up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if dead := self.dead():
                raise SystemExit(f"{dead} exited while starting (logs: {self.run_dir / 'logs'})")
            if self.daphne_socket.exists() and _healthz(self.host, self.port):
                return
            time.sleep(0.2)
        raise SystemExit(f"the production shape did not answer on {self.url} within {timeout:.0f} s")

    def dead(self) -> str | None:
        return next((name for name, process in self.processes if process.poll() is not None), None)

    def stop(self, timeout: float = 20) -> None:
        """Front door first (no new requests), then the servers, then the workers; SIGKILL after `timeout`."""
        order = {"nginx": 0, "gunicorn": 1, "daphne": 1, "beat": 2, "worker": 3}
        for name, process in sorted(self.processes, key=lambda item: order.get(item[0], 9)):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout
        for name, process in self.processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
        for pump in self._pumps:
            pump.join(2)
        self.processes.clear()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _prefix_lines(name: str, stream) -> None:
    for line in iter(stream.readline, b""):
        sys.stdout.write(f"{name:>8} | {line.decode(errors='replace')}")
        sys.stdout.flush()


def _healthz(host: str, port: int) -> bool:
    try:
        connection = http.client.HTTPConnection(host, port, timeout=2)
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def check_services(env: dict) -> None:
    """PostgreSQL and Redis answer (the database is created if missing); otherwise say what to set."""
    import psycopg
    import redis

    database_url = env["DATABASE_URL"]
    if not database_url.startswith("postgres"):
        raise SystemExit(f"DATABASE_URL must point at PostgreSQL for the production shape (got {database_url.split(':')[0]})")
    name = database_url.rsplit("/", 1)[1].split("?")[0]
    try:
        with psycopg.connect(database_url.rsplit("/", 1)[0] + "/postgres", autocommit=True, connect_timeout=5) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
                print(f"created database {name}")
    except psycopg.Error as exc:
        raise SystemExit(f"PostgreSQL is not reachable at DATABASE_URL={database_url}: {exc}") from None
    try:
        redis.Redis.from_url(env["REDIS_URL"], socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        raise SystemExit(f"Redis is not reachable at REDIS_URL={env['REDIS_URL']}: {exc}") from None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Run the production shape locally (nginx, gunicorn, daphne, Celery).")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SERVE_PORT", 8080)), help="the front door's port (8080)")
    parser.add_argument("--host", default=os.environ.get("SERVE_HOST", "127.0.0.1"))
    parser.add_argument("--demo", action="store_true", help="load the demo data after migrating")
    parser.add_argument("--render-nginx", action="store_true",
                        help="print deploy/nginx/sampark.conf for a system nginx (GUNICORN_BIND, DAPHNE_BIND, SERVER_NAME) and exit")
    args = parser.parse_args(argv)

    env = dict(os.environ)
    env.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    env.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    os.environ.update({"DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": env["DATABASE_URL"], "REDIS_URL": env["REDIS_URL"]})
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    if args.render_nginx:
        print(render_site(f"{args.port}", env.get("GUNICORN_BIND", "127.0.0.1:8001"), env.get("DAPHNE_BIND", "127.0.0.1:8002"),
                          env.get("SERVER_NAME", "_")))
        return 0

    check_services(env)
    shape = Shape(env, port=args.port, host=args.host)
    shape.prepare(demo=args.demo)

    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    shape.start()
    print(f"\n  Sampark (production shape) at {shape.url}/  (Ctrl-C stops it; run files in {shape.run_dir})\n", flush=True)
    dead = None
    while not stopping.is_set() and not (dead := shape.dead()):
        stopping.wait(0.5)
    if dead:
        print(f"{dead} exited: stopping the others", flush=True)
    shape.stop()
    return 1 if dead else 0


if __name__ == "__main__":
    sys.exit(main())
