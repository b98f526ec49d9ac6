"""The embedded default runs Celery beat's schedule itself (core.runtime.PeriodicJobs)."""

import datetime
import threading

import pytest
from django.conf import settings as django_settings

from core import runtime


@pytest.fixture
def started(monkeypatch):
    """Record the tasks the scheduler starts instead of running them; each 'run' stays alive until released."""
    runs, release = [], threading.Event()

    def fake_run_in_background(task, args=(), kwargs=None):
        runs.append((task.name, tuple(args)))
        thread = threading.Thread(target=release.wait, daemon=True)
        thread.start()
        return thread

    monkeypatch.setattr("core.tasks.run_in_background", fake_run_in_background)
    yield runs
    release.set()


def jobs_for(schedule):
    jobs = runtime.PeriodicJobs(schedule)
    jobs.app.loader.import_default_modules()
    return jobs


def test_every_job_of_the_beat_schedule_runs_at_start_then_on_its_schedule(started):
    jobs = jobs_for(django_settings.CELERY_BEAT_SCHEDULE)
    assert sorted(jobs.run_due()) == sorted(django_settings.CELERY_BEAT_SCHEDULE)
    assert {name for name, _ in started} == {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert jobs.run_due() == []  # nothing is due again at once


def test_a_job_runs_again_when_its_interval_passed_and_its_last_run_ended(started):
    jobs = jobs_for({"drain": {"task": "inbox.drain_webhook_events", "schedule": 60.0},
                     "prune": {"task": "dialplan.prune_requests", "schedule": datetime.timedelta(hours=24)}})
    jobs.run_due()
    jobs.last_run["drain"] -= datetime.timedelta(seconds=61)
    jobs.last_run["prune"] -= datetime.timedelta(seconds=61)
    assert jobs.run_due() == []  # the first drain is still running: never two of one job at once
    jobs.running["drain"].join(0)
    jobs.running = {}
    assert jobs.run_due() == ["drain"]  # the daily job is not due after a minute


def test_a_job_another_app_adds_to_the_schedule_runs_with_its_arguments(started, settings):
    settings.CELERY_BEAT_SCHEDULE = {**settings.CELERY_BEAT_SCHEDULE, "extra": {"task": "campaigns.run_campaign", "schedule": 30.0, "args": (7,)}}
    jobs_for(settings.CELERY_BEAT_SCHEDULE).run_due()
    assert ("campaigns.run_campaign", (7,)) in started


def test_an_unknown_task_is_logged_and_the_others_still_run(started, monkeypatch):
    errors = []
    monkeypatch.setattr(runtime.logger, "error", lambda message, *args: errors.append(message % args))
    jobs = jobs_for({"typo": {"task": "inbox.no_such_task", "schedule": 60.0},
                     "wake": {"task": "inbox.wake_snoozed_conversations", "schedule": 60.0}})
    assert jobs.run_due() == ["wake"]
    assert errors == ["periodic job typo names an unknown task inbox.no_such_task"]


def test_the_scheduler_starts_only_on_embedded_defaults(settings, monkeypatch):
    monkeypatch.setattr(runtime, "_periodic_jobs", None)
    monkeypatch.setattr(runtime.PeriodicJobs, "start", lambda self: None)
    settings.TASKS_INLINE = True  # tests drive time themselves
    assert runtime.start_embedded_runtime() is None
    settings.TASKS_INLINE, settings.CELERY_TASK_ALWAYS_EAGER = False, False  # a broker: Celery beat runs them
    assert runtime.start_embedded_runtime() is None
    settings.CELERY_TASK_ALWAYS_EAGER = True  # embedded: no broker, tasks in-process
    jobs = runtime.start_embedded_runtime()
    assert isinstance(jobs, runtime.PeriodicJobs)
    assert runtime.start_embedded_runtime() is jobs  # once per process
