"""The production shape's configuration: nginx's site, gunicorn's sizing and connections, PgBouncer mode."""

import json
import os
import re
import runpy
import subprocess
import sys

import pytest

from deploy.serve import ROOT, Shape, nginx_binary, render_site


def test_the_site_routes_websockets_to_daphne_and_the_rest_to_gunicorn_with_the_settings_limits(settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 1234
    settings.DIALPLAN_MAX_BODY_BYTES = 567
    settings.REQUEST_MAX_BODY_BYTES = 8910
    site = render_site("8080", "unix:/run/g.sock", "unix:/run/d.sock", static_root="/srv/static")

    assert "{{" not in site
    assert re.search(r"upstream sampark_http \{\s+server unix:/run/g.sock;", site)
    assert re.search(r"upstream sampark_ws \{\s+server unix:/run/d.sock;", site)
    assert re.search(r"location /ws/ \{\s+proxy_pass http://sampark_ws;", site)
    assert re.search(r"location /webhooks/ \{\s+client_max_body_size 1234;\s+proxy_pass http://sampark_http;", site)
    assert re.search(r"location /dialplan/ \{\s+client_max_body_size 567;", site)
    assert re.search(r"^    client_max_body_size 8910;", site, re.M)
    assert "alias /srv/static/;" in site
    assert "/media" not in site.replace("/media/ included", "")  # uploads never served from disk
    for header in ("X-Forwarded-For $remote_addr", "X-Forwarded-Proto $scheme", "Upgrade $http_upgrade", "Host $http_host"):
        assert f"proxy_set_header {header};" in site


def test_nginx_accepts_the_rendered_config(tmp_path):
    if not nginx_binary():
        if os.environ.get("CI"):
            pytest.fail("nginx is missing: .ci/run installs it")
        pytest.skip("nginx is not installed (apt-get install -y nginx)")
    shape = Shape({"STATIC_ROOT": str(tmp_path / "static")}, port=18999, run_dir=tmp_path)
    config = shape.write_nginx_config()
    check = subprocess.run([nginx_binary(), "-t", "-p", str(tmp_path), "-c", str(config), "-e", "stderr"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_gunicorn_runs_a_sync_worker_per_core_keeping_checked_connections(monkeypatch):
    for name in ("WEB_CONCURRENCY", "CONN_MAX_AGE", "CONN_HEALTH_CHECKS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_POOL", "true")
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["workers"] == os.cpu_count() and config["worker_class"] == "sync" and config["threads"] == 1
    assert config["preload_app"] is True
    assert os.environ["CONN_MAX_AGE"] == "300" and os.environ["CONN_HEALTH_CHECKS"] == "true"
    assert os.environ["DATABASE_POOL"] == "false"  # the pool is daphne's

    monkeypatch.setenv("WEB_CONCURRENCY", "5")
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"] == 5


def _database_settings(**env) -> dict:
    code = "import django, json; django.setup(); from django.conf import settings; print(json.dumps(settings.DATABASES['default'], default=str))"
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": "postgres://u@db:5432/sampark", **env}
    return json.loads(subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, check=True).stdout)


def test_kept_connections_prepare_statements_unless_pgbouncer_sits_in_between():
    kept = _database_settings(CONN_MAX_AGE="300", CONN_HEALTH_CHECKS="true")
    assert kept["CONN_MAX_AGE"] == 300 and kept["CONN_HEALTH_CHECKS"] is True
    assert kept["OPTIONS"]["prepare_threshold"] == 5 and kept["DISABLE_SERVER_SIDE_CURSORS"] is False

    pooled = _database_settings(DATABASE_POOL="true")
    assert pooled["CONN_MAX_AGE"] == 0 and "pool" in pooled["OPTIONS"] and pooled["OPTIONS"]["prepare_threshold"] == 5

    assert "prepare_threshold" not in _database_settings(CONN_MAX_AGE="0")["OPTIONS"]  # a new connection per request

    bouncer = _database_settings(CONN_MAX_AGE="300", DATABASE_PGBOUNCER="true")
    assert "prepare_threshold" not in bouncer["OPTIONS"] and bouncer["DISABLE_SERVER_SIDE_CURSORS"] is True
