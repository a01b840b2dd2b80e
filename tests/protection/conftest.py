"""Fixtures shared by the protection tests: the support-measure officer and a DV victim's household."""
import pytest

from juki.audit.gate import Actor

from .helpers import move_in_victim


@pytest.fixture
def support(support_user, terminal):
    return Actor(user=support_user, terminal=terminal)


@pytest.fixture
def victim(world):
    return move_in_victim(world)
