"""The cast: an admin, a supervisor, and agents in two teams — who may see what is tested with them."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import Role
from tests.factories import PASSWORD, TeamFactory, UserFactory


@pytest.fixture(autouse=True)
def _no_drain_left_queued():
    """A test whose on-commit callbacks never ran must not leave the next test's webhooks waiting on a
    drain that was 'already queued'."""
    from inbox.ingest.drain import DRAIN_FLAG

    cache.delete(DRAIN_FLAG)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="asha", role=Role.ADMIN)


@pytest.fixture
def supervisor(db):
    return UserFactory(username="priya", role=Role.SUPERVISOR)


@pytest.fixture
def sales_team(db):
    return TeamFactory(name="Sales")


@pytest.fixture
def support_team(db):
    return TeamFactory(name="Support")


@pytest.fixture
def agent(sales_team):
    user = UserFactory(username="rahul", role=Role.AGENT)
    sales_team.members.add(user)
    return user


@pytest.fixture
def teammate(sales_team):
    user = UserFactory(username="ananya", role=Role.AGENT)
    sales_team.members.add(user)
    return user


@pytest.fixture
def other_agent(support_team):
    """An agent of another team: sees nothing of the Sales team's work."""
    user = UserFactory(username="vikram", role=Role.AGENT)
    support_team.members.add(user)
    return user


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def logged_in(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def api():
    def make(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make
