"""The persistence daemon itself fails: stopped (SIGSTOP) or killed, before or during a run.

A dead or stopped daemon is reported as the daemon, never as the hosts: a new run falls back to
direct connections with one warning; during a run, the task that was under way through it
fails naming the daemon (what it did on the host is unknown, so it is not sent again) and the
other hosts go on over direct connections. Each test prints the time from the fault to the exit.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.integration.conftest import HOSTS, ITLab, output
from tests.integration.faultkit import Mode, Strike, alive, converged, faulted_run, make_mode, warm

ANSWER_LIMIT = 5  # seconds a daemon has to answer a ping or a status
SILENCE_LIMIT = 30  # seconds of silence during a lease after which the daemon is given up


@dataclass
class Kept(Mode):
    """The default mode with a daemon of the test's own, and the agents it keeps (host: pid)."""

    agents: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def kept(lab: ITLab, tmp_path: Path) -> Iterator[Kept]:
    """Kept agents on every host, in a daemon of this test's own; whatever the test did to the
    daemon, it is ended afterwards."""
    base = make_mode("kept", tmp_path / "mux")
    mode = Kept(base.name, base.env, base.args)
    mode.agents = warm(lab, mode)
    pid = int(mode.status()["pid"])
    yield mode
    if alive(pid):
        os.kill(pid, signal.SIGCONT)
        os.kill(pid, signal.SIGKILL)
    mode.fleet("mux", "stop", timeout=60)  # one a later run of the test started, if any


def _daemon_pid(mode: Mode) -> int:
    return int(mode.status()["pid"])


@pytest.mark.parametrize("persist", ["kept", "direct"])
def test_a_new_run_beside_a_stopped_daemon_connects_directly_with_one_warning(
        lab: ITLab, kept: Kept, tmp_path: Path, persist: str) -> None:
    pid = _daemon_pid(kept)
    mode = kept if persist == "kept" else Mode("direct", kept.env, ("--persist", "0"))
    os.kill(pid, signal.SIGSTOP)
    started = time.monotonic()
    result = mode.fleet("run", "-i", str(lab.inventory), "all", "-m", "shell", "-a", "echo agent=$PPID",
                        "--json", str(tmp_path / "r.json"), timeout=180)
    took = time.monotonic() - started
    print(f"\nFAULT daemon SIGSTOPped before a run ({persist}): exit {result.returncode} after {took:.1f} s")
    assert result.returncode == 0, output(result)
    report = json.loads((tmp_path / "r.json").read_text())
    assert [report["hosts"][h]["status"] for h in HOSTS] == ["changed"] * 3
    if persist == "kept":
        warning = (f"the persistence daemon (pid {pid}) did not answer within {ANSWER_LIMIT} s (stopped? "
                   f"'kill -CONT {pid}' resumes it, 'fleet mux stop' ends it); connecting directly")
        assert report["warnings"] == [warning]
        assert " ".join(output(result).split()).count(f"[WARNING] {warning}") == 1, output(result)
        assert took < 60 + ANSWER_LIMIT
    else:  # --persist 0 never asks the daemon
        assert report["warnings"] == [] and "persistence daemon" not in output(result)
        assert took < 60


def test_status_and_stop_of_a_stopped_daemon_answer_in_one_line(lab: ITLab, kept: Mode) -> None:
    pid = _daemon_pid(kept)
    os.kill(pid, signal.SIGSTOP)
    started = time.monotonic()
    status = kept.fleet("mux", "status", timeout=60)
    took = time.monotonic() - started
    print(f"\nFAULT daemon SIGSTOPped, fleet mux status: exit {status.returncode} after {took:.1f} s: {status.stderr}")
    assert status.returncode == 1
    assert status.stdout == ""
    assert status.stderr.strip().splitlines() == [
        f"ERROR: the persistence daemon (pid {pid}) did not answer within {ANSWER_LIMIT} s (stopped? "
        f"'kill -CONT {pid}' resumes it, 'fleet mux stop' ends it)"]
    assert took < 30
    stop = kept.fleet("mux", "stop", timeout=60)
    assert stop.returncode == 0, output(stop)
    assert f"the persistence daemon (pid {pid}) did not answer: sent it SIGTERM" in stop.stdout
    deadline = time.monotonic() + 30
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(pid), "fleet mux stop left the stopped daemon running"
    assert "no persistence daemon is running" in kept.fleet("mux", "status", timeout=60).stdout


@pytest.mark.parametrize("sig", ["SIGKILL", "SIGSTOP"])
def test_a_daemon_lost_mid_run_is_named_and_the_hosts_are_not_blamed(
        lab: ITLab, kept: Kept, tmp_path: Path, sig: str) -> None:
    """itest2 is in a task when the daemon is lost; itest1 and itest3 are between tasks (they
    finished theirs) and go on over direct connections, with new agents."""
    pid = _daemon_pid(kept)
    name = f"daemon-{sig.lower()}"
    outcome = faulted_run(lab, kept, tmp_path, name, Strike(lambda: os.kill(pid, signal.Signals[sig])),
                          seconds=4, others=0.1)
    text = output(outcome.result)
    failed = outcome.host("itest2")["results"][-1]
    print(f"\nFAULT daemon {sig} mid-run: exit {outcome.result.returncode} {outcome.fault_to_exit:.1f} s after the "
          f"fault; itest2: {failed['msg']}; warnings: {outcome.report['warnings']}")
    assert outcome.result.returncode == 1, text
    converged(lab, outcome, name, ("itest1", "itest3"))
    for host in ("itest1", "itest3"):  # the task after the loss ran in an agent fleet started itself
        assert int(lab.read(host, f"/srv/test-{name}/agent")) != kept.agents[host]
    assert outcome.host("itest2")["status"] == "failed"
    assert failed["task"] == "slow" and failed["status"] == "failed"
    why = (f"the persistence daemon (pid {pid}) closed the connection (killed, or crashed?)" if sig == "SIGKILL" else
           f"the persistence daemon (pid {pid}) sent nothing for {SILENCE_LIMIT} s (stopped, or overloaded?)")
    assert failed["msg"] == f"{why}: whether the request reached the host, and what it did there, is unknown"
    assert outcome.report["summary"]["unreachable"] == 0  # no host is blamed
    assert "connection to the host lost" not in text and "unreachable: [" not in text
    assert outcome.report["warnings"] == [f"{why} during the run: any task under way through it failed; "
                                          f"connecting directly"]
    assert outcome.fault_to_exit < (30 if sig == "SIGKILL" else SILENCE_LIMIT + 40)
    if sig == "SIGSTOP":
        os.kill(pid, signal.SIGCONT)
    # the next run is fine: a new daemon after a killed one, direct after a stuck one
    again = kept.fleet("run", "-i", str(lab.inventory), "all", "-a", "true", timeout=120)
    assert again.returncode == 0, output(again)
