import pytest


@pytest.fixture(autouse=True)
def _fresh_agent_directory():
    """The process keeps agent lookups for a while; each test starts with none (ids repeat across tests)."""
    from telephony.agent_directory import AgentDirectory

    AgentDirectory.forget()


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """Runs a block's on-commit work (the webhook's drain, recording downloads, events) as a real commit would."""

    def run(block, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return block(*args, **kwargs)

    return run


@pytest.fixture
def client(client, committing):
    """The test client, with each request's on-commit work run as after a real commit."""

    class Committing:
        def __getattr__(self, name):
            method = getattr(client, name)
            if name not in ("get", "post", "put", "patch", "delete"):
                return method
            return lambda *args, **kwargs: committing(method, *args, **kwargs)

    return Committing()


@pytest.fixture
def published(monkeypatch):
    """What telephony publishes to browsers: (event, payload, groups)."""
    sent = []
    from telephony import events, live

    record = lambda event, payload, groups: sent.append((event, payload, set(groups)))  # noqa: E731
    monkeypatch.setattr(events, "publish", record)
    monkeypatch.setattr(live, "publish", record)
    return sent
