"""How the persistence daemon names agents, caps their lifetime, and is started."""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys

import pytest

from fleet.connection.mux.client import daemon_command, daemon_params
from fleet.connection.mux.protocol import Keyer, lease_persist, valid_persist
from fleet.connection.mux.server import main as daemon_main

SSH = {"host": "web1", "port": 22, "user": "ops", "key_files": [], "password": None}
PAYLOAD = b"agent code"


def _agent(keyer: Keyer, user: str | None = "root", password: str | None = None, **params: object) -> str:
    return keyer.agent("ssh", {**SSH, **params}, "python3", user, password, PAYLOAD)


def test_a_become_agent_is_found_again_only_with_the_same_password() -> None:
    keyer = Keyer()
    kept = _agent(keyer, password="s3cret-sudo")
    assert _agent(keyer, password="s3cret-sudo") == kept
    assert _agent(keyer, password=None) != kept
    assert _agent(keyer, password="") != kept
    assert _agent(keyer, password="wrong") != kept
    assert _agent(keyer, user="postgres", password="s3cret-sudo") != kept


def test_names_are_keyed_by_a_secret_of_the_daemon_not_a_bare_hash() -> None:
    password = "s3cret-sudo"
    one, other = Keyer(), Keyer()
    assert one.secret != other.secret and len(one.secret) >= 32
    assert _agent(one, password=password) != _agent(other, password=password)
    assert one.transport("ssh", {**SSH, "password": password}) != other.transport("ssh", {**SSH, "password": password})
    bare = {hashlib.sha256(password.encode()).hexdigest(), hashlib.sha1(password.encode()).hexdigest()}
    assert not bare & {_agent(one, password=password), one.transport("ssh", {**SSH, "password": password})}
    assert password not in repr(one) and one.secret.hex() not in repr(one)


def test_connections_are_named_by_every_setting_ssh_password_included() -> None:
    keyer = Keyer()
    base = keyer.transport("ssh", SSH)
    assert keyer.transport("ssh", dict(SSH)) == base
    assert keyer.transport("ssh", {**SSH, "password": "x"}) != base
    assert keyer.transport("ssh", {**SSH, "port": 2222}) != base
    assert keyer.transport("docker", SSH) != base


@pytest.mark.parametrize(("requested", "kept"), [
    (30, 30.0), (60, 60.0), (3600, 60.0), (1e300, 60.0), ("10", 10.0),
    (math.inf, 60.0), (math.nan, 60.0), (-5, 60.0), (0, 60.0), (None, 60.0), ("soon", 60.0), (True, 60.0),
])
def test_a_lease_is_kept_no_longer_than_the_daemons_cap(requested: object, kept: float) -> None:
    assert lease_persist(requested, 60.0) == kept


def test_valid_persist_takes_only_finite_positive_seconds() -> None:
    assert valid_persist("2.5") == 2.5
    assert [valid_persist(v) for v in ("inf", "nan", "0", "-1", "", [])] == [None] * 6


def test_the_daemon_is_started_without_the_callers_directory_on_its_path() -> None:
    argv = daemon_command(45.0)
    assert argv[:4] == [sys.executable, "-P", "-m", "fleet.connection.mux.server"]
    assert argv[4:] == ["--persist", "45.0"]


@pytest.mark.parametrize("cap", ["inf", "nan", "0", "-3", "an hour"])
def test_the_daemon_refuses_a_cap_that_is_not_finite_seconds(cap: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        daemon_main(["--persist", cap])
    assert stopped.value.code == 2
    assert "finite number of seconds" in capsys.readouterr().err


def test_paths_sent_to_the_daemon_mean_what_they_meant_in_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/ops")
    ssh = daemon_params("ssh", {**SSH, "key_files": ["keys/id", "~/.ssh/id", "/etc/id"],
                                "known_hosts": ["kh", "/etc/kh"], "config_file": "ssh.cfg",
                                "ssh_config": {"CertificateFile": ["c.pub"], "GlobalKnownHostsFile": ["g"],
                                               "IdentityAgent": "agent.sock", "ProxyCommand": "./relay %h"}},
                        "/srv/project")
    assert ssh["key_files"] == ["/srv/project/keys/id", "/home/ops/.ssh/id", "/etc/id"]
    assert ssh["known_hosts"] == ["/srv/project/kh", "/etc/kh"]
    assert ssh["config_file"] == "/srv/project/ssh.cfg"
    assert ssh["ssh_config"] == {"CertificateFile": ["/srv/project/c.pub"], "GlobalKnownHostsFile": ["/srv/project/g"],
                                 "IdentityAgent": "/srv/project/agent.sock", "ProxyCommand": "./relay %h"}
    assert ssh["proxy_cwd"] == "/srv/project"  # the command runs where the run started
    assert daemon_params("ssh", {**SSH, "ssh_config": {"IdentityAgent": "$SSH_AUTH_SOCK"}},
                         "/srv/project")["ssh_config"] == {"IdentityAgent": "$SSH_AUTH_SOCK"}
    assert "known_hosts" not in daemon_params("ssh", SSH, "/srv/project")  # the default stays the default
    assert daemon_params("chroot", {"root": "tree"}, "/srv/project")["root"] == "/srv/project/tree"
    assert daemon_params("local", {}, "/srv/project") == {"cwd": "/srv/project"}
    assert daemon_params("docker", {"container": "web"}, "/srv/project") == {"container": "web"}


def test_memory_protection_takes_effect_in_the_process_itself() -> None:
    script = ("import json; from fleet.connection.mux import memory; before = memory.protection(); memory.protect(); "
              "print(json.dumps([before, memory.protection()]))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    before, after = json.loads(result.stdout)
    assert before["dumpable"] is True
    assert after == {"dumpable": False, "core_limit": [0, 0]}
