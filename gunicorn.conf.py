"""gunicorn for Sampark's HTTP (config/wsgi.py): `gunicorn config.wsgi` reads this file from the repo root.

Sync workers, one process per core (WEB_CONCURRENCY overrides), one thread each: a request is a few
milliseconds of CPU plus PostgreSQL round trips on the same machine, so more processes than cores only
queue on the CPU; and sync workers need no thread hop, which is what daphne paid per request. Slow
clients never hold a worker: nginx (deploy/nginx/sampark.conf) reads the whole request before passing
it on and buffers the answer. See docs/serving.md.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8001")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = "sync"
threads = 1
preload_app = True  # Django loads once in the master; workers fork with it (and its frozen objects)
timeout = 30  # a worker stuck longer than this is killed and replaced
graceful_timeout = 20
max_requests = 10_000  # recycle workers now and then (a slow leak never grows unbounded)
max_requests_jitter = 1_000
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Each sync worker keeps one PostgreSQL connection between requests (checked before reuse), so the
# database sees `workers` connections from gunicorn, not one per request. The pool is for daphne's
# threads (DATABASE_POOL), never for these processes.
os.environ.setdefault("CONN_MAX_AGE", "300")
os.environ.setdefault("CONN_HEALTH_CHECKS", "true")
os.environ["DATABASE_POOL"] = "false"
