"""A host that dies or freezes mid-run, with kept agents (the default) and without.

Each fault strikes itest2 while a task sleeps there: its agent killed (``kill -9``), its
container killed, every sshd process killed, or the container frozen (``docker pause``). The
run must end on its own (no ``--timeout``), report the other hosts' results, exit 1, and name
itest2 with the cause. Each test prints the time from the fault to the run's exit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.conftest import ITLab, output
from tests.integration.faultkit import Mode, Strike, converged, faulted_run, make_mode, warm

FROZEN_NOTICE = 40  # seconds: SSH keepalives every 10 s, the connection closed when the 4th is due


@dataclass(frozen=True)
class Fault:
    """What strikes the host, what the run must say about it, and how long it may take."""

    strike: Callable[[ITLab], object]
    heal: Callable[[ITLab], object]
    cause: str
    bound: float  # seconds from the fault to the run's exit, on a loaded machine


def _pkill_agent(lab: ITLab) -> None:
    code, out = lab.container("itest2").exec_run(["pkill", "-KILL", "-f", "FLEET-AGENT-READY"])
    assert code == 0, f"no agent to kill on itest2: {out!r}"


def _kill_sshd(lab: ITLab) -> None:
    # The service first (systemd would restart a killed listener), then every sshd, sessions too.
    lab.sh("itest2", "systemctl stop ssh && pkill -KILL -x sshd")


def _unpause(lab: ITLab) -> None:
    container = lab.container("itest2")
    container.reload()
    if container.status == "paused":
        container.unpause()


def _nothing(lab: ITLab) -> None:
    return None  # the lab fixture recreates a stopped container


FAULTS = {
    "agent-kill-9": Fault(_pkill_agent, _nothing, "the agent on the host was killed (SIGKILL)", 30),
    "docker-kill": Fault(lambda lab: lab.container("itest2").kill(), _nothing, "connection to the host lost", 30),
    "sshd-killed": Fault(_kill_sshd, lambda lab: lab.sh("itest2", "systemctl start ssh"),
                         "connection to the host lost", 30),
    "docker-pause": Fault(lambda lab: lab.container("itest2").pause(), _unpause,
                          f"connection to the host lost (no answer within {FROZEN_NOTICE} s to SSH keepalives)",
                          FROZEN_NOTICE + 30),
}


@pytest.fixture(params=["kept", "direct"])
def mode(request: pytest.FixtureRequest, lab: ITLab, tmp_path: Path) -> Iterator[Mode]:
    chosen = make_mode(str(request.param), tmp_path / "mux")
    yield chosen
    if chosen.kept:
        chosen.fleet("mux", "stop", timeout=60)  # this test's own daemon directory


@pytest.mark.parametrize("fault_name", list(FAULTS))
def test_a_host_that_dies_mid_run_is_named_and_the_run_ends(lab: ITLab, mode: Mode, tmp_path: Path,
                                                           fault_name: str) -> None:
    fault = FAULTS[fault_name]
    warm(lab, mode)
    name = f"{fault_name}-{mode.name}"
    try:
        outcome = faulted_run(lab, mode, tmp_path, name, Strike(lambda: fault.strike(lab)))
    finally:
        fault.heal(lab)
    text = output(outcome.result)
    print(f"\nFAULT {fault_name} ({mode.name}): exit {outcome.result.returncode} "
          f"{outcome.fault_to_exit:.1f} s after the fault; itest2: {outcome.host('itest2')['results'][-1]['msg']}")
    assert outcome.result.returncode == 1, text
    converged(lab, outcome, name, ("itest1", "itest3"))
    dead = outcome.host("itest2")
    assert dead["status"] == "unreachable", dead
    assert [r["task"] for r in dead["results"]] == ["directory", "slow"]
    message = dead["results"][-1]["msg"]
    assert message.startswith(fault.cause), message
    assert f"unreachable: [itest2] => {fault.cause}" in " ".join(outcome.result.stdout.split()), text
    assert outcome.report["summary"]["unreachable"] == 1
    assert outcome.fault_to_exit < fault.bound, f"{outcome.fault_to_exit:.0f} s from the fault to the exit"
    assert not outcome.report["warnings"], outcome.report["warnings"]  # nothing is the daemon's fault


def test_after_sshd_died_a_kept_connection_is_not_lent_again(lab: ITLab, tmp_path: Path) -> None:
    """The daemon drops the dead connection: the next run tries a new one, which is refused."""
    mode = make_mode("kept", tmp_path / "mux")
    warm(lab, mode)
    try:
        outcome = faulted_run(lab, mode, tmp_path, "sshd-again", Strike(lambda: _kill_sshd(lab)))
        assert outcome.host("itest2")["status"] == "unreachable"
        again = mode.fleet("run", "-i", str(lab.inventory), "all", "-a", "true", "--json", str(tmp_path / "again.json"),
                           timeout=120)
        assert again.returncode == 1, output(again)
        dead = json.loads((tmp_path / "again.json").read_text())["hosts"]["itest2"]
        assert dead["status"] == "unreachable"
        assert dead["results"][0]["msg"].startswith(f"cannot connect to {lab.ip('itest2')}:22: "), dead
        assert "itest2 | UNREACHABLE!" in again.stdout, output(again)
    finally:
        lab.sh("itest2", "systemctl start ssh")
        mode.fleet("mux", "stop", timeout=60)
