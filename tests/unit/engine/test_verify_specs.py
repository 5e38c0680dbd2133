"""fleet verify's testinfra host specs follow fleet's ssh settings, or refuse what they cannot."""

from __future__ import annotations

import pytest

from fleet.connection import ConnectionDefaults
from fleet.errors import InputError
from fleet.verify.specs import host_spec


def test_ssh_spec_carries_the_host_key_policy_and_known_hosts() -> None:
    spec = host_spec("web1", {"ansible_host": "10.0.0.5", "ansible_port": 2222, "ansible_user": "ops",
                              "ansible_ssh_common_args": "-o UserKnownHostsFile=/kh -o StrictHostKeyChecking=no"},
                     ConnectionDefaults())
    assert spec.spec == "paramiko://ops@10.0.0.5:2222"
    assert (spec.known_hosts, spec.host_key_policy) == ("/kh", "accept-new")
    insecure = host_spec("web1", {"fleet_insecure_no_host_key_checking": True}, ConnectionDefaults())
    assert insecure.host_key_policy == "off"


@pytest.mark.parametrize(("args", "named"), [
    ("-o ProxyCommand='nc %h %p'", "ProxyCommand"),
    ("-J bastion", "ProxyJump"),
    ("-o HostKeyAlias=web", "HostKeyAlias"),
    ("-F none", "-F"),
])
def test_settings_the_paramiko_backend_cannot_honour_are_refused(args: str, named: str) -> None:
    with pytest.raises(InputError, match=f"fleet verify cannot reach web1 as fleet does: its ssh settings use {named}"):
        host_spec("web1", {"ansible_ssh_extra_args": args}, ConnectionDefaults())
    assert host_spec("web1", {"ansible_ssh_extra_args": "-J none -o ServerAliveInterval=5"}, ConnectionDefaults())
