"""A host cannot exhaust the controller's memory: what an agent sends is bounded per task
(--max-host-output / fleet_max_host_output), the flooding host fails with a clear error, the
others finish, and the controller's peak RSS stays near that of a quiet run.

h1 floods over the real sshd: a hostile module that takes over its agent's output stream
(progress frames without end; one frame that inflates to 512 MiB), or a command that prints
64 MiB. The controller runs under an address-space limit, so a regression fails the test
instead of the machine.
"""

from __future__ import annotations

import asyncio
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from fleet.connection import ConnectionDefaults, ssh_options
from fleet.connection.pyinstall import raw
from fleet.errors import ConnectionFailed
from tests.e2e.conftest import Lab

SITE = Path(__file__).parent / "hostile" / "site.yml"
MIB = 1024 * 1024
LIMIT_MIB = 8
ADDRESS_SPACE = 2 << 30  # the controller's virtual memory cap: a regression fails, the box does not
GROWTH_MAX = 128 * MIB  # peak RSS above the quiet run's, allowed for 8 MiB per task


def fleet_measured(*args: str, timeout: float = 300) -> tuple[subprocess.CompletedProcess[str], int]:
    """``fleet ARGS`` under the address-space cap; its result and peak RSS in bytes."""
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", TERM="dumb")
    limit = (ADDRESS_SPACE, ADDRESS_SPACE)
    with open(os.devnull, "rb") as stdin, _temp() as out, _temp() as err:
        proc = subprocess.Popen([sys.executable, "-m", "fleet", *args], stdin=stdin, stdout=out, stderr=err,
                                env=env, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, limit))
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                pytest.fail(f"fleet {' '.join(args)} ran longer than {timeout:.0f} s")
            time.sleep(0.1)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        done = subprocess.CompletedProcess(proc.args, proc.returncode, out.read(), err.read())
    return done, usage.ru_maxrss * 1024


def _temp():  # noqa: ANN202
    import tempfile

    return tempfile.TemporaryFile("w+")


def _inventory(lab: Lab, h1_vars: dict[str, object] | None = None) -> Path:
    data = yaml.safe_load(lab.inventory.read_text())
    hosts = data["all"]["children"]["fleet"]["hosts"]
    hosts["h1"].update(h1_vars or {})
    path = lab.workdir / "limits.yml"
    path.write_text(yaml.safe_dump(data))
    for root in lab.roots.values():
        root.mkdir(parents=True, exist_ok=True)
    return path


def _apply(inventory: Path, lab: Lab, mode: str, mib: int, calls: int, *extra: str
           ) -> tuple[subprocess.CompletedProcess[str], dict, int]:
    report = lab.workdir / f"{mode}.json"
    done, rss = fleet_measured("apply", "-i", str(inventory), str(SITE), "-e", f"mode={mode}", "-e", f"mib={mib}",
                               "-e", f"calls={calls}", "--json", str(report), *extra)
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done, yaml.safe_load(report.read_text()), rss


@pytest.mark.parametrize(("mode", "mib", "calls", "where"), [
    ("progress", 256, 300, "inventory"),  # 256 progress frames of 1 MiB, for a loop of 300 items
    ("bomb", 512, 1, "cli"),  # one answer of a few hundred KiB that inflates to 512 MiB
    ("command", 64, 1, "cli"),  # a real command printing 64 MiB
])
def test_a_flooding_host_fails_alone_and_the_controller_stays_small(
        lab: Lab, mode: str, mib: int, calls: int, where: str) -> None:
    inventory = _inventory(lab, {"fleet_max_host_output": LIMIT_MIB} if where == "inventory" else None)
    option = ("--max-host-output", str(LIMIT_MIB)) if where == "cli" else ()
    quiet, _, quiet_rss = _apply(inventory, lab, "quiet", 1, 0, *option)
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    (lab.roots["h1"] / "after").unlink()

    done, report, rss = _apply(inventory, lab, mode, mib, calls, *option)
    assert done.returncode == 1, done.stdout + done.stderr
    h1 = report["hosts"]["h1"]
    assert h1["status"] == "failed"
    failed = h1["results"][-1]
    messages = [failed["msg"]] + [item["msg"] for item in failed.get("items") or []]
    if mode == "command":  # an honest agent fails the task itself: the tasks after it never run
        expected = [m for m in messages if m.startswith("the output of this task (")
                    and m.endswith(f"more than the controller accepts for one task ({LIMIT_MIB} MiB: "
                                   f"--max-host-output or fleet_max_host_output)")]
        assert not (lab.roots["h1"] / "after").exists()
    else:  # a hostile one is cut off by the controller
        expected = [m for m in messages if m.startswith(f"host h1 sent more than {LIMIT_MIB} MiB")
                    or m.startswith(f"host h1 sent more than {2 * LIMIT_MIB} MiB")]
        assert expected and expected[0].endswith(
            "the limit is set by --max-host-output or fleet_max_host_output (MiB): the agent was stopped")
    assert expected, messages[:3]
    assert expected[0] in done.stdout
    assert [r["task"] for r in h1["results"]][-1] != "after"  # h1 stopped there
    for host in ("h2", "h3"):
        assert report["hosts"][host]["status"] in ("ok", "changed")
        assert (lab.roots[host] / "after").read_text() == "done\n"
    assert rss - quiet_rss < GROWTH_MAX, f"peak RSS {rss / MIB:.0f} MiB, a quiet run {quiet_rss / MIB:.0f} MiB"


def test_raw_output_is_bounded(lab: Lab) -> None:
    """The raw transport (the python3 bootstrap script) stops a command that prints too much."""
    from fleet.transport.ssh import SSHTransport

    hostvars = yaml.safe_load(lab.inventory.read_text())["all"]["children"]["fleet"]["vars"]
    transport = SSHTransport(ssh_options("h1", hostvars, ConnectionDefaults()))

    async def scenario() -> None:
        await transport.connect()
        try:
            code, out, _ = await raw(transport, "head -c 1000 /dev/zero | tr '\\0' x", 60, LIMIT_MIB * MIB, "h1")
            assert code == 0 and out == "x" * 1000
            with pytest.raises(ConnectionFailed) as info:
                await raw(transport, "head -c 64M /dev/zero", 120, LIMIT_MIB * MIB, "h1")
            assert str(info.value).startswith(f"host h1 sent more than {LIMIT_MIB} MiB of output while installing "
                                              f"python3"), info.value
        finally:
            await transport.close()

    asyncio.run(scenario())


def test_bad_limit_in_the_inventory_is_a_clear_host_error(lab: Lab) -> None:
    inventory = _inventory(lab, {"fleet_max_host_output": "lots"})
    done, report, _ = _apply(inventory, lab, "quiet", 1, 0)
    assert done.returncode == 1
    assert report["hosts"]["h1"]["status"] == "unreachable"
    message = report["hosts"]["h1"]["results"][-1]["msg"]
    assert message == "fleet_max_host_output must be a whole number of MiB (1 or more), got 'lots'", message
    assert report["hosts"]["h2"]["status"] in ("ok", "changed")
