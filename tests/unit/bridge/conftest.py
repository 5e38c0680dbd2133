"""Fixtures for the Ansible bridge: the real ansible-core (a test dependency), its controller
files in a private directory."""

from __future__ import annotations

import importlib.util
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require

LIBRARY = Path(__file__).with_name("library")


@pytest.fixture(scope="session")
def core():  # -> fleet.bridge.core.AnsibleCore
    require(importlib.util.find_spec("ansible") is not None,
            "ansible-core is not installed (pip install -e '.[test]' installs it)")
    # ansible-core's controller scratch directory (ansible-local-*), read when it is first imported
    os.environ.setdefault("ANSIBLE_LOCAL_TEMP", tempfile.mkdtemp(prefix="fleet-test-ansible-local-"))
    from fleet.bridge.core import ansible_core

    return ansible_core()


@pytest.fixture(scope="session")
def resolver(core):  # -> fleet.bridge.resolve.Resolver
    from fleet.bridge.resolve import Resolver

    return Resolver(module_dirs=[str(LIBRARY)], core=core)


@pytest.fixture(scope="session")
def collections_installed() -> bool:
    """The 'ansible' package (community collections) is a test dependency too."""
    found = importlib.util.find_spec("ansible_collections.community.general") is not None
    require(found, "the 'ansible' package (collections) is not installed (pip install -e '.[test]')")
    return found


@pytest.fixture
def agent() -> Iterator[object]:
    """An in-process agent (fleet.agent.main.Agent) whose fork server is stopped afterwards."""
    from fleet.agent.main import Agent

    made = Agent()
    yield made
    bridge = made.bridge[1]
    if bridge is not None:
        bridge.stop()
