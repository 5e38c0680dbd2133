"""A throwaway site for executor semantics tests: local-connection hosts, each with its own root.

``site`` writes an inventory of three hosts (``h1``, ``h2`` in group ``web``; ``h3`` in
``db``), all ``ansible_connection: local`` with a ``root`` variable pointing at a private
directory under tmp_path. ``site.run(playbook_text)`` writes the playbook and runs it with the
real engine and the real agent (a local subprocess); ``site.cli(...)`` runs the CLI in-process.
"""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from fleet import api
from fleet.cli import cli as fleet_cli
from fleet.errors import InputError
from fleet.executor.options import RunOptions
from fleet.result import RunReport, TaskResult

HOSTS = ("h1", "h2", "h3")
GROUPS = {"web": ("h1", "h2"), "db": ("h3",)}


@dataclass
class Run:
    """The outcome of one run: the report plus shortcuts the tests use."""

    report: RunReport

    @property
    def json(self) -> dict[str, Any]:
        """The documented ``--json`` form of the report."""
        return json.loads(json.dumps(self.report.to_dict(), default=str))

    @property
    def exit_code(self) -> int:
        return self.report.exit_code()

    def results(self, host: str) -> list[TaskResult]:
        return self.report.host(host).results

    def result(self, host: str, task: str) -> TaskResult:
        """The first result of the task named ``task`` on ``host``."""
        for result in self.results(host):
            if result.task == task:
                return result
        raise AssertionError(f"no result for task {task!r} on {host}: {self.tasks(host)}")

    def status(self, host: str, task: str) -> str:
        return self.result(host, task).status

    def tasks(self, host: str) -> list[str]:
        """Names of the tasks that produced a result on ``host``, in order."""
        return [r.task for r in self.results(host)]

    def statuses(self, host: str) -> list[tuple[str, str]]:
        return [(r.task, r.status) for r in self.results(host)]

    def counts(self, host: str) -> dict[str, int]:
        return self.report.host(host).counts()


@dataclass
class CliResult:
    """What an in-process CLI call produced."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Site:
    """A directory with an inventory of local hosts, playbooks, roles and files."""

    dir: Path
    host_vars: dict[str, dict[str, Any]] = field(default_factory=dict)
    group_vars: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def inventory(self) -> Path:
        return self.dir / "inventory.yml"

    def root(self, host: str) -> Path:
        return self.dir / "hosts" / host

    def read(self, host: str, rel: str) -> str:
        return (self.root(host) / rel).read_text()

    def exists(self, host: str, rel: str) -> bool:
        return (self.root(host) / rel).exists()

    def write(self, rel: str, text: str) -> Path:
        """Write dedented ``text`` at ``rel`` under the site directory."""
        path = self.dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def write_inventory(self) -> Path:
        children: dict[str, Any] = {}
        for group, members in GROUPS.items():
            hosts = {h: {"root": str(self.root(h)), **self.host_vars.get(h, {})} for h in members}
            children[group] = {"hosts": hosts, "vars": dict(self.group_vars.get(group, {}))}
        data = {"all": {"vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                                 **self.group_vars.get("all", {})},
                        "children": children}}
        self.inventory.write_text(yaml.safe_dump(data, sort_keys=False))
        return self.inventory

    def playbook(self, text: str, name: str = "site.yml") -> Path:
        return self.write(name, text)

    def prepare(self, text: str | None = None, name: str = "site.yml", **options: Any) -> api.Prepared:
        if text is not None:
            self.playbook(text, name)
        self.write_inventory()
        for host in HOSTS:
            self.root(host).mkdir(parents=True, exist_ok=True)
        return api.prepare(self.dir / name, [self.inventory], RunOptions(**options))

    def run(self, text: str | None = None, name: str = "site.yml", **options: Any) -> Run:
        """Write the playbook (unless None), run it with RunOptions(**options), return the Run."""
        prepared = self.prepare(text, name, **options)
        return Run(asyncio.run(api.apply_async(prepared)))

    def input_error(self, text: str | None = None, name: str = "site.yml", **options: Any) -> InputError:
        """Expect preparing the playbook to fail; nothing may have been applied."""
        with pytest.raises(InputError) as info:
            self.prepare(text, name, **options)
        applied = [p for h in HOSTS for p in self.root(h).rglob("*")]
        assert not applied, f"bad input but something was applied: {applied}"
        return info.value

    def cli(self, *args: str) -> CliResult:
        """Run ``fleet ARGS`` in-process (cwd is the site directory)."""
        self.write_inventory()
        for host in HOSTS:
            self.root(host).mkdir(parents=True, exist_ok=True)
        runner = CliRunner()
        with _chdir(self.dir):
            outcome = runner.invoke(fleet_cli, list(args), catch_exceptions=False)
        return CliResult(outcome.exit_code, outcome.stdout, outcome.stderr)


class _chdir:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.old: Path | None = None

    def __enter__(self) -> None:
        import os

        self.old = Path.cwd()
        os.chdir(self.path)

    def __exit__(self, *exc: object) -> None:
        import os

        os.chdir(self.old or "/")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """Three local hosts with private roots under tmp_path (empty directories once a run starts)."""
    yield Site(tmp_path)


def play(tasks: str, hosts: str = "all", extra: str = "") -> str:
    """A one-play playbook (no fact gathering) with ``tasks`` (YAML, indented freely)."""
    body = textwrap.indent(textwrap.dedent(tasks).strip("\n"), "    ")
    head = textwrap.indent(textwrap.dedent(extra).strip("\n"), "  ")
    return f"- hosts: {hosts}\n  gather_facts: false\n{head + chr(10) if head else ''}  tasks:\n{body}\n"
