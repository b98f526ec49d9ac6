"""core.tasks.named: producer threads that name a task before any of them imported the tasks modules."""

import threading
import time

from core.tasks import named


def _discovered_late():
    pass


def test_threads_naming_an_undiscovered_task_wait_for_one_discovery(monkeypatch):
    from config.celery import app

    inside, most_inside = [0], [0]

    def slow_discovery():
        inside[0] += 1
        most_inside[0] = max(most_inside[0], inside[0])
        time.sleep(0.05)  # importing every app's tasks module takes a while
        if "tests.discovered_late" not in app.tasks:
            app.task(name="tests.discovered_late")(_discovered_late)
        inside[0] -= 1

    monkeypatch.setattr(app.loader, "import_default_modules", slow_discovery)
    start, found = threading.Barrier(4), []

    def producer():
        start.wait()
        found.append(named("tests.discovered_late").name)

    threads = [threading.Thread(target=producer) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        app.tasks.pop("tests.discovered_late", None)
    assert found == ["tests.discovered_late"] * 4
    assert most_inside[0] == 1
