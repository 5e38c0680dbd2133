"""The oracle the templating tests compare with: ansible-core's own Templar (the test extra
installs it), so expected values come from Ansible, not from memory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture(scope="session")
def ansible_render() -> Callable[..., Any]:
    """``ansible_render(source, variables)``: what ansible-core renders for a templated string
    written in a playbook (a trusted template, as YAML from a playbook is)."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import init_plugin_loader
    from ansible.template import Templar, trust_as_template

    init_plugin_loader()  # collection filters (ansible.utils, community.general) by FQCN
    loader = DataLoader()

    def render(source: str, variables: dict[str, Any] | None = None, basedir: str | None = None) -> Any:
        if basedir is not None:
            loader.set_basedir(basedir)
        templar = Templar(loader=loader, variables=dict(variables or {}))
        return templar.template(trust_as_template(source))

    return render


def plain(value: Any) -> Any:
    """Tuples as lists, as ansible-core 2.19 returns them: what both tools mean by a value."""
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value
