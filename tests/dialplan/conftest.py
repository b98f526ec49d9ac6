import pytest

from tests.dialplan.factories import DialplanFactory, make_rule


@pytest.fixture
def plan():
    """A dialplan with only its failover rule: every call goes to IVR 22590."""
    plan = DialplanFactory()
    make_rule(plan, "fallback", is_failover=True, action="transfer", transfer_type="ivr", transfer_to="22590")
    return plan
