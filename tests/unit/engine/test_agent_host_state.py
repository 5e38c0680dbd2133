"""The agent's side of issue 13: the run lock, the pending handler store, the inbox that hears
``stop``/``detach``/end of input while a request runs, and a request that stops between tasks.
(The lab tests in tests/integration/test_interrupt.py and test_run_lock.py cover the whole.)"""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from pathlib import Path

import pytest

from fleet.agent import hoststate, wire
from fleet.agent.hostrun import HostRun
from fleet.agent.hoststate import HandlerStore, RunLock, StateError
from fleet.agent.inbox import Inbox
from fleet.agent.main import Agent

RUN_A = {"id": "a" * 32, "user": "ops", "controller": "ctl1", "pid": 123, "since": 1.0, "command": "fleet apply"}
RUN_B = dict(RUN_A, id="b" * 32, user="dev", pid=456)


def test_the_lock_is_taken_shared_by_its_own_run_and_refused_to_another(tmp_path: Path) -> None:
    first, second, third = RunLock(), RunLock(), RunLock()
    never = threading.Event()
    assert first.acquire(str(tmp_path), RUN_A, 0, never, print)["held"] is True
    assert stat.S_IMODE((tmp_path / "lock").stat().st_mode) == 0o600
    assert json.loads((tmp_path / "lock").read_text())["pid"] == 123
    assert second.acquire(str(tmp_path), RUN_A, 0, never, print) == {"shared": True}  # another agent of run A
    told: list[tuple[dict, bool]] = []
    started = time.monotonic()
    refused = third.acquire(str(tmp_path), RUN_B, 4.5, never, lambda holder, again: told.append((holder, again)))
    assert 4.5 <= time.monotonic() - started < 10
    assert refused["held_by"]["user"] == "ops" and refused["held_by"]["pid"] == 123
    # said once, then "still waiting" every 2 s (it keeps the controller's answer timeout from firing)
    assert [(h["controller"], again) for h, again in told] == [("ctl1", False), ("ctl1", True), ("ctl1", True)]
    first.release()
    assert (tmp_path / "lock").read_text() == ""  # nobody is named once it is let go
    assert third.acquire(str(tmp_path), RUN_B, 0, never, print)["held"] is True
    third.release()


def test_a_stopped_run_stops_waiting_for_the_lock(tmp_path: Path) -> None:
    holder, waiter = RunLock(), RunLock()
    stopped = threading.Event()
    holder.acquire(str(tmp_path), RUN_A, 0, stopped, print)
    threading.Timer(0.3, stopped.set).start()
    started = time.monotonic()
    assert waiter.acquire(str(tmp_path), RUN_B, 60, stopped, lambda holder, again: None) == {"stopped": True}
    assert time.monotonic() - started < 5
    holder.release()


def test_a_planted_or_shared_directory_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(StateError, match="cannot use .*link"):
        hoststate.open_dir(str(tmp_path / "link"))
    open_to_all = tmp_path / "open"
    open_to_all.mkdir()
    open_to_all.chmod(0o777)
    with pytest.raises(StateError, match="is not a private directory"):
        hoststate.open_dir(str(open_to_all))
    made = tmp_path / "new" / "state"
    os.close(hoststate.open_dir(str(made)))
    assert stat.S_IMODE(made.stat().st_mode) == 0o700


def test_pending_handlers_are_kept_atomically_and_cleared(tmp_path: Path) -> None:
    store = HandlerStore(str(tmp_path))
    record = {"host": "web1", "play": "site.yml: web", "handler": "restart nginx", "since": 10.0, "task": "config",
              "by": "ops@ctl1"}
    store.add([record, dict(record, host="web2")])
    store.add([dict(record, since=99.0)])  # notified again: the first time stays
    assert [r["since"] for r in store.pending("web1")] == [10.0]
    assert stat.S_IMODE((tmp_path / "handlers.json").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["handlers.json"]  # no temp file left
    store.clear("web1", [("site.yml: web", "restart nginx")])
    assert store.pending("web1") == [] and len(store.pending("web2")) == 1
    store.clear("web2", [("site.yml: web", "restart nginx")])
    assert not (tmp_path / "handlers.json").exists()


def test_a_damaged_or_planted_state_file_is_named_not_trusted(tmp_path: Path) -> None:
    (tmp_path / "handlers.json").write_text("{not json")
    with pytest.raises(StateError, match=r"handlers.json is not a fleet state file"):
        HandlerStore(str(tmp_path)).pending("web1")
    (tmp_path / "handlers.json").unlink()
    (tmp_path / "elsewhere").write_text('{"pending": []}')
    (tmp_path / "handlers.json").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(StateError, match="cannot read"):
        HandlerStore(str(tmp_path)).pending("web1")


def test_a_run_begins_with_the_lock_and_what_is_pending_and_check_mode_writes_nothing(tmp_path: Path) -> None:
    HandlerStore(str(tmp_path)).add([{"host": "web1", "play": "p", "handler": "h", "since": 5.0}])
    run = HostRun()
    began = run.begin({"run": RUN_A, "host": "web1", "keep": True, "dir": str(tmp_path), "lock": {"wait": 0}},
                      threading.Event(), print)
    assert began["lock"]["held"] and [r["handler"] for r in began["pending"]] == ["h"]
    assert run.remember("p", ["other"], "config") == ""
    assert {r["handler"] for r in HandlerStore(str(tmp_path)).pending("web1")} == {"h", "other"}
    run.end()
    assert (tmp_path / "lock").read_text() == ""
    agent = Agent()
    assert agent.hostrun.begin({"run": RUN_B, "host": "web1", "keep": False}, threading.Event(), print) == \
        {"pending": [], "warnings": []}  # an agent of another become user keeps nothing


def _frames(*messages: dict) -> bytes:
    return b"".join(wire.encode(m) for m in messages)


def test_the_inbox_hears_stop_and_detach_at_once_and_keeps_requests_in_order() -> None:
    read, write = os.pipe()
    inbox = Inbox(os.fdopen(read, "rb"))
    os.write(write, _frames({"op": "run", "id": 1}, {"op": "stop"}))
    assert inbox.get() == {"op": "run", "id": 1}
    deadline = time.monotonic() + 5
    while not inbox.stopped.is_set() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert inbox.stopped.is_set()
    os.write(write, _frames({"op": "ping", "id": 2, "begin": {}}))  # a new run's first request
    assert inbox.get()["id"] == 2 and not inbox.stopped.is_set()
    os.write(write, _frames({"op": "detach"}))
    assert inbox.get() == {"op": "detach"} and inbox.stopped.is_set()
    os.write(write, _frames({"op": "ping", "id": 3, "begin": {}}, {"op": "bye"}))
    assert inbox.get()["id"] == 3 and inbox.get() == {"op": "bye"} and inbox.stopped.is_set()
    os.close(write)
    assert inbox.get() is None and inbox.closed.is_set() and inbox.error == ""


class _Stopper:
    """An inbox stand-in whose stop comes while the first task runs."""

    def __init__(self) -> None:
        self.stopped = threading.Event()


def test_a_stopped_request_finishes_the_task_in_flight_and_starts_no_other(tmp_path: Path) -> None:
    import types

    stopper = _Stopper()
    agent = Agent(stopper)  # type: ignore[arg-type]
    module = types.ModuleType("probe")
    source = ("from dataclasses import dataclass\n"
              "@dataclass\nclass Params:\n    n: int\n"
              "def run(p, host):\n"
              "    open(RAN, 'a').write(str(p.n))\n"
              "    STOPPER.set()  # the controller says stop while this task runs\n"
              "    return {'changed': True}\n")
    exec(compile(source, "<probe>", "exec", dont_inherit=True), module.__dict__)
    module.RAN = str(tmp_path / "ran")  # type: ignore[attr-defined]
    module.STOPPER = stopper.stopped  # type: ignore[attr-defined]
    agent.modules["sha"] = module
    calls = [{"module": "probe", "sha": "sha", "params": {"n": n}, "task": n} for n in (1, 2, 3)]
    answer = agent.handle({"op": "run", "id": 9, "calls": calls})
    assert [r["status"] for r in answer["results"]] == ["changed"] and answer["stopped"] is True
    assert (tmp_path / "ran").read_text() == "1"
