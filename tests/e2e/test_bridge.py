"""Ansible's own modules through fleet's agent, over the loopback sshd (issue 19).

An agent is started as fleet starts one (SSH transport, the agent payload), and bridged calls go
to it in requests: ansible.builtin modules, a community.general module, a module that does not
support check mode, one that prints no JSON. The results are compared with what Ansible itself
returns for the same tasks, and the host CPU per task is measured on a warm fork server.
"""

from __future__ import annotations

import asyncio
import glob
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import require
from tests.e2e.conftest import Lab
from tests.unit.bridge.conftest import LIBRARY
from tests.unit.bridge.helpers import Driver

# The host's python3, and the oldest Python agents run on (a pyenv 3.8 where there is one).
INTERPRETERS = ["/usr/bin/python3", *sorted(glob.glob("/root/.pyenv/versions/3.8*/bin/python3.8"))[:1]]
# What Ansible's AnsiballZ and a module's own tmpdir would leave on a host, had they written anything.
TRACES = ("ansible_", "AnsiballZ", "ansible-moduletmp", "fleet-ansible")


@pytest.fixture(scope="module")
def core(tmp_path_factory: pytest.TempPathFactory):  # -> fleet.bridge.core.AnsibleCore
    require(importlib.util.find_spec("ansible") is not None, "ansible-core is not installed (pip install '.[test]')")
    require(importlib.util.find_spec("ansible_collections.community.general") is not None,
            "the 'ansible' package (collections) is not installed (pip install '.[test]')")
    # ansible-core's controller scratch space, away from the host's ~/.ansible and /tmp that this test watches
    os.environ.setdefault("ANSIBLE_LOCAL_TEMP", str(tmp_path_factory.mktemp("ansible-local")))
    from fleet.bridge.core import ansible_core

    return ansible_core()


@pytest.fixture(scope="module")
def resolver(core):  # -> fleet.bridge.resolve.Resolver
    from fleet.bridge.resolve import Resolver

    return Resolver(module_dirs=[str(LIBRARY)], core=core)


def _with_agent(lab: Lab, interpreter: str, scenario: Callable[[Any], Any]) -> Any:
    """Run ``scenario(session)`` against an agent started on h1 as fleet starts one."""
    from fleet.connection import AgentSession, ConnectionDefaults, agent_payload, ssh_options
    from fleet.transport.ssh import SSHTransport

    hostvars = yaml.safe_load(lab.inventory.read_text())["all"]["children"]["fleet"]["vars"]
    transport = SSHTransport(ssh_options("h1", hostvars, ConnectionDefaults()))

    async def main() -> Any:
        await transport.connect()
        try:
            session = await AgentSession.start(transport, "h1", interpreter, agent_payload(), timeout=60)
            try:
                return await scenario(session)
            finally:
                await session.close()
        finally:
            await transport.close()

    return asyncio.run(main())


def _traces() -> set[str]:
    """What the host's login user has under ~/.ansible, and AnsiballZ-like names in /tmp."""
    found: set[str] = set()
    home = Path.home() / ".ansible"
    if home.exists():
        found.update(str(p) for p in home.rglob("*") if "ansible-local-" not in str(p))
    found.update(str(p) for p in Path("/tmp").iterdir() if p.name.startswith(TRACES))
    return found


async def _lasting(traces: set[str]) -> set[str]:
    """The ``traces`` still there a while later. This machine is shared: Ansible run by another
    process (a test comparing with ansible-playbook) has its AnsiballZ directory in /tmp for the
    second its module runs; what the bridge left behind would stay."""
    deadline = time.monotonic() + 15
    while traces and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        traces = {t for t in traces if os.path.lexists(t)}
    return traces


@pytest.mark.parametrize("interpreter", INTERPRETERS)
def test_ansible_modules_run_through_the_agent(lab: Lab, core, resolver, interpreter: str) -> None:
    require(os.access(interpreter, os.X_OK), f"{interpreter} is not installed")
    if interpreter.endswith("python3.8") and core.release >= (2, 20):
        pytest.skip(f"ansible-core {core.version}'s modules need Python >= 3.9 on the host")
    from fleet.bridge.channel import send

    driver = Driver(core, resolver)
    root = lab.roots["h1"]
    root.mkdir(parents=True, exist_ok=True)
    ini = root / "app.ini"
    ini_args = {"path": str(ini), "section": "main", "option": "level", "value": "3"}
    general = ("community.general",)
    before = _traces()

    async def scenario(session: Any) -> dict[str, Any]:
        async def one(call: Any, check: bool = False) -> dict[str, Any]:
            driver.sent.append(driver.channel.message([call], check, False, 60, session.max_output))
            return (await send(session, driver.channel, [call], check, False, 60))[0]

        out: dict[str, Any] = {}
        out["getent"] = await one(driver.call("getent", {"database": "passwd", "key": "root"}))
        out["getent_again"] = await one(driver.call("getent", {"database": "group", "key": "root"}))
        out["find"] = await one(driver.call("ansible.builtin.find", {"paths": str(root), "patterns": "*.ini"}))
        out["check_ini"] = await one(driver.call("ini_file", ini_args, True, general), check=True)
        out["ini_exists_after_check"] = ini.exists()
        out["apply_ini"] = await one(driver.call("ini_file", ini_args, collections=general))
        out["ini_text"] = ini.read_text()
        out["reapply_ini"] = await one(driver.call("ini_file", ini_args, collections=general))
        out["check_change"] = await one(driver.call("ini_file", dict(ini_args, value="4"), True, general), check=True)
        out["ini_text_after_check"] = ini.read_text()
        out["find_after"] = await one(driver.call("ansible.builtin.find", {"paths": str(root), "patterns": "*.ini"}))
        out["tempfile_check"] = await one(driver.call("ansible.builtin.tempfile", {"path": str(root)}, True),
                                          check=True)
        out["junk"] = await one(driver.call("fleet_test_junk", {"mode": "text"}))
        out["traces"] = await _lasting(_traces() - before)  # before the tempfile module writes one on purpose
        out["tempfile"] = await one(driver.call("ansible.builtin.tempfile", {"path": str(root), "prefix": "made."}))
        cpu = []
        for _ in range(20):
            result = await one(driver.call("getent", {"database": "passwd", "key": "root"}))
            cpu.append(result["ansible"]["cpu"])
        out["cpu"] = cpu
        return out

    out = _with_agent(lab, interpreter, scenario)
    getent = driver.shape(out["getent"], "getent")
    assert getent.status == "ok" and getent.result["ansible_facts"]["getent_passwd"]["root"][:3] == ["x", "0", "0"]
    assert driver.shape(out["getent_again"], "getent").result["ansible_facts"]["getent_group"]["root"][1] == "0"
    assert driver.shape(out["find"], "find").result["matched"] == 0
    # check mode: reported as a change, nothing written
    assert out["check_ini"]["status"] == "changed" and out["ini_exists_after_check"] is False
    assert out["apply_ini"]["status"] == "changed" and "[main]\nlevel = 3\n" in out["ini_text"]
    assert out["reapply_ini"]["status"] == "ok"
    assert out["check_change"]["status"] == "changed" and out["ini_text_after_check"] == out["ini_text"]
    assert [f["path"] for f in driver.shape(out["find_after"], "find").result["files"]] == [str(ini)]
    skipped = driver.shape(out["tempfile_check"], "ansible.builtin.tempfile")
    assert skipped.status == "skipped"
    assert skipped.result["msg"] == "remote module (ansible.builtin.tempfile) does not support check mode"
    junk = driver.shape(out["junk"], "fleet_test_junk")
    assert junk.status == "failed" and junk.result["module_stdout"] == "this is not JSON\n"
    made = driver.shape(out["tempfile"], "ansible.builtin.tempfile").result["path"]
    assert Path(made).parent == root and Path(made).name.startswith("made.")
    # each payload went once: the server's source and getent's zip with the first request only
    blobs = [set(m["blobs"]) for m in driver.sent]
    server = driver.channel.code.server_sha
    assert server in blobs[0] and all(server not in b for b in blobs[1:])
    getent_zip = driver.sent[0]["calls"][0]["ansible"]["zip"]
    assert sum(getent_zip in b for b in blobs) == 1
    assert [bool(m["sources"]) for m in driver.sent].count(True) == 1
    assert out["traces"] == set(), "written on the host by the bridge"
    # host CPU per task on a warm fork server: the module's child plus the server's fork
    per_task = [c["module"] + c["server"] for c in out["cpu"]]
    median = statistics.median(per_task)
    print(f"\n{interpreter}: getent per task, host CPU median {median * 1000:.1f} ms "
          f"(module {statistics.median(c['module'] for c in out['cpu']) * 1000:.1f}, server "
          f"{statistics.median(c['server'] for c in out['cpu']) * 1000:.1f}, agent "
          f"{statistics.median(c['agent'] for c in out['cpu']) * 1000:.1f}), max {max(per_task) * 1000:.1f} ms")
    assert median < 0.1  # generous on a loaded 2-core machine; the target (15 ms) is reported above


def _ansible(core, module: str, args: dict[str, Any], tmp: Path, check: bool = False) -> dict[str, Any]:
    """What ``ansible localhost -c local -m MODULE`` returns (json callback), internal keys dropped."""
    ansible = Path(sys.executable).with_name("ansible")
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
               ANSIBLE_HOME=str(tmp / "home"), ANSIBLE_REMOTE_TMP=str(tmp / "remote"),
               ANSIBLE_LOCAL_TEMP=str(tmp / "local"), ANSIBLE_PYTHON_INTERPRETER="/usr/bin/python3",
               ANSIBLE_LIBRARY=str(LIBRARY))
    command = [str(ansible), "localhost", "-i", "localhost,", "-c", "local", "-m", module, "-a", json.dumps(args)]
    done = subprocess.run(command + (["--check"] if check else []), capture_output=True, text=True, env=env,
                          timeout=300, check=False)
    start = done.stdout.find("{")
    assert start >= 0, done.stdout + done.stderr
    host = json.loads(done.stdout[start:])["plays"][0]["tasks"][0]["hosts"]["localhost"]
    return {k: v for k, v in host.items() if not k.startswith("_ansible") and k != "action"}


def test_results_match_ansibles_own(lab: Lab, core, resolver, tmp_path: Path) -> None:
    """The same tasks through Ansible and through fleet's bridge give the same result data."""
    from fleet.bridge.channel import send

    driver = Driver(core, resolver)
    ini = tmp_path / "same.ini"
    ini.write_text("[main]\nlevel = 3\n")
    cases = [
        ("getent", {"database": "passwd", "key": "root"}, False),
        ("community.general.ini_file", {"path": str(ini), "section": "main", "option": "level", "value": "3"}, False),
        ("community.general.ini_file", {"path": str(ini), "section": "main", "option": "level", "value": "9"}, True),
        ("ansible.builtin.stat", {"path": str(ini), "get_checksum": True}, False),
        ("fleet_test_junk", {"mode": "text"}, False),
    ]
    theirs = [_ansible(core, name, args, tmp_path, check) for name, args, check in cases]

    async def scenario(session: Any) -> list[dict[str, Any]]:
        return [(await send(session, driver.channel, [driver.call(name, args, check)], check, False, 60))[0]
                for name, args, check in cases]

    ours = _with_agent(lab, "/usr/bin/python3", scenario)
    for (name, _, _), mine, reference in zip(cases, ours, theirs, strict=True):
        result = driver.shape(mine, name)
        shaped = result.shown()  # as Ansible's callbacks get it; the json callback adds failed: true
        if result.status == "failed":
            shaped["failed"] = True
        if name == "ansible.builtin.stat":  # times of the last access differ between two reads
            for each in (shaped, reference):
                each["stat"].pop("atime", None)
        if name == "fleet_test_junk":  # Ansible words the failure with its own exception text
            assert shaped["module_stdout"] == reference["module_stdout"] and shaped["failed"] == reference["failed"]
            assert shaped["msg"].split(".")[0] in reference["msg"], (shaped["msg"], reference["msg"])
            continue
        assert shaped == reference, name
