"""``throttle`` (issue 15, item 9): at most N hosts run the task at once, on a task or inherited
from its block, a number or a template; the run's result is as without it."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

from fleet import api
from fleet.executor.options import RunOptions
from fleet.playbook import load_playbook, walk
from tests.conftest import REPO

FIXTURE = REPO / "tests" / "fixtures" / "throttle"
HOSTS = ("h1", "h2", "h3")


def _spans(out: Path, suffix: str) -> list[tuple[float, float]]:
    spans = []
    for host in HOSTS:
        lines = dict(line.split() for line in (out / f"{host}-{suffix}").read_text().splitlines())
        spans.append((float(lines["start"]), float(lines["end"])))
    return sorted(spans)


def test_one_host_at_a_time(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(FIXTURE, site)
    out = site / "out"
    out.mkdir()
    inventory = site / "hosts.ini"
    inventory.write_text("".join(f"{h} ansible_connection=local ansible_python_interpreter={sys.executable} "
                                 f"out={out}\n" for h in HOSTS))
    report = asyncio.run(api.apply_async(api.prepare(site / "site.yml", [inventory], RunOptions(forks=10))))
    assert report.exit_code() == 0
    for suffix in ("a", "b"):
        spans = _spans(out, suffix)
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert start >= end, f"two hosts ran the throttled task at once: {spans}"


def test_throttle_is_inherited_and_keeps_tasks_out_of_pipelined_requests() -> None:
    from fleet.executor.pipeline import groupable

    book = load_playbook(FIXTURE / "site.yml", module_exists=lambda name: True)
    tasks = [t for t in walk(book.plays[0].tasks) if t.module == "shell"]
    assert [t.throttle for t in tasks] == [1, "{{ one }}"]
    assert not any(groupable(t) for t in tasks)
