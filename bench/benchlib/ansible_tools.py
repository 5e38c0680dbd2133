"""ansible-playbook in three configurations: Ansible's defaults, pipelining, and Mitogen.

All three run the workload's ``playbook.yml`` unchanged with ``-f N``, from the venvs that
``bench/setup_tools.py`` creates (:mod:`benchlib.toolenv`), with an ``ansible.cfg`` the
harness writes beside the inventory (``ANSIBLE_CONFIG``; other ``ANSIBLE_*`` variables of the
caller's environment are dropped):

* ``ansible`` -- Ansible's defaults: no pipelining, and the default ``ssh_args``
  (``-C -o ControlMaster=auto -o ControlPersist=60s``), i.e. ControlPersist **on**, as a user
  gets it without configuration;
* ``ansible-pipelining`` -- the same plus ``pipelining = True`` (ControlPersist=60s written
  out explicitly);
* ``ansible-mitogen`` -- ``strategy = mitogen_linear`` with ``strategy_plugins`` pointing into
  the installed ``ansible_mitogen`` (Mitogen replaces the connection layer: one SSH connection
  and one Python interpreter per host, no ControlMaster).

Every host is the same sshd (same address, port and user), so the inventory gives each one
something of its own, as distinct machines would have: a ControlPath (else OpenSSH would
multiplex all N hosts over one master connection) and an ``-o SetEnv=FLEETBENCH_HOST=hN``
argument (else Mitogen, which de-duplicates connections by their parameters, would run all N
hosts through one interpreter). Host keys: the harness's known_hosts with
``StrictHostKeyChecking=yes``.

ControlPersist masters outlive ``ansible-playbook``: after each run they are measured and ended
(:mod:`benchlib.detached`), so each run starts without connections, like the other tools, and
pays for its masters. Counts come from the default callback's ``PLAY RECAP`` lines (a JSON
callback is not part of ansible-core).
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import yaml

from benchlib import toolenv
from benchlib.detached import end_matching
from benchlib.hosts import HostSet
from benchlib.toolbase import Detached, Outcome, Phase, ToolRunner, base_env
from benchlib.workloads import HOST_GROUP

RECAP_LINE = re.compile(r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+"
                        r"unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
DEFAULT_SSH_ARGS = "-C -o ControlMaster=auto -o ControlPersist=60s"  # ansible-core's default
CONTROL_DIR = "cp"  # beside the inventory; one socket per host
MAX_SOCKET_PATH = 107 - 17  # sun_path, less ssh's ".XXXXXXXXXXXXXXXX" temporary suffix


def parse_recap(text: str) -> dict[str, dict[str, int]] | None:
    """Per-host counts of the last ``PLAY RECAP`` in ``text`` (None when there is none)."""
    at = text.rfind("PLAY RECAP")
    if at < 0:
        return None
    hosts = {}
    for line in ANSI.sub("", text[at:]).splitlines()[1:]:
        found = RECAP_LINE.match(line.strip())
        if found:
            hosts[found["host"]] = {k: int(v) for k, v in found.groupdict().items() if k != "host"}
    return hosts


def shared_collections() -> Path | None:
    """The directory holding the ``ansible_collections`` that fleet's bridge uses (the ``ansible``
    package beside fleet), so every Ansible configuration runs the same collection code."""
    spec = importlib.util.find_spec("ansible_collections")
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]).parent if locations else None


class AnsibleRunner(ToolRunner):
    """``ansible-playbook`` with Ansible's default settings."""

    name = "ansible"
    venv_name = "ansible"

    def __init__(self, tools_dir: Path | None = None) -> None:
        self.env_spec = toolenv.ENVS[self.venv_name]
        self.venv = self.env_spec.path(tools_dir or toolenv.default_tools_dir())

    def unavailable(self) -> str | None:
        return toolenv.problem(self.env_spec, self.venv.parent)

    def version(self) -> str:
        installed = toolenv.installed_versions(self.venv)
        parts = [f"ansible-core {installed.get('ansible-core', '?')}"]
        if "mitogen" in installed and self.venv_name == "ansible-mitogen":
            parts.append(f"mitogen {installed['mitogen']}")
        return f"{' + '.join(parts)} (Python {toolenv.venv_python_version(self.venv)})"

    def config(self, workdir: Path) -> dict[str, dict[str, str]]:
        """The ``ansible.cfg`` sections and settings of this configuration."""
        defaults = {"host_key_checking": "True"}
        if collections := shared_collections():
            defaults["collections_path"] = str(collections)
        return {"defaults": defaults, "ssh_connection": {"control_path_dir": str(workdir / CONTROL_DIR)}}

    def write_inventory(self, hosts: HostSet, path: Path) -> Path:
        """The YAML inventory (with per-host ControlPath and SetEnv) and ``ansible.cfg`` beside it."""
        control_dir = path.parent / CONTROL_DIR
        if len(str(control_dir / f"h{hosts.count}")) > MAX_SOCKET_PATH:
            raise RuntimeError(f"{control_dir} is too long a path for ssh's control sockets: "
                               "use a shorter --workdir")
        connection = dict(hosts.connection)
        common = str(connection.get("ansible_ssh_common_args", ""))
        connection["ansible_ssh_common_args"] = f"{common} -o StrictHostKeyChecking=yes".strip()
        members = {name: {**hosts.host_vars(name), "ansible_control_path": f"%(directory)s/{name}",
                          "ansible_ssh_extra_args": f"-o SetEnv=FLEETBENCH_HOST={name}"}
                   for name in hosts.roots}
        data = {"all": {"children": {HOST_GROUP: {"hosts": members, "vars": connection}}}}
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        lines = []
        for section, settings in self.config(path.parent).items():
            lines += [f"[{section}]", *(f"{key} = {value}" for key, value in settings.items()), ""]
        (path.parent / "ansible.cfg").write_text("\n".join(lines))
        return path

    def command(self, phase: Phase, inventory: Path, playbook: Path, report: Path, forks: int) -> list[str]:
        check = ["--check"] if phase is Phase.CHECK else []
        return [str(self.venv / "bin" / "ansible-playbook"), "-i", str(inventory), "-f", str(forks), *check,
                str(playbook)]

    def env(self, inventory: Path) -> dict[str, str]:
        env = {k: v for k, v in base_env().items() if not k.startswith("ANSIBLE_")}
        env.update(ANSIBLE_CONFIG=str(inventory.parent / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   PATH=f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
        env.pop("VIRTUAL_ENV", None)
        return env

    def outcome(self, phase: Phase, exit_code: int, report: Path, log: Path) -> Outcome:
        text = log.read_text(errors="replace") if log.exists() else ""
        hosts = parse_recap(text)
        if not hosts:
            return Outcome(None, 0, 0, error=f"no PLAY RECAP in the output; it ends: {text[-400:]}")
        return Outcome(sum(h["changed"] for h in hosts.values()), sum(h["failed"] for h in hosts.values()),
                       sum(h["unreachable"] for h in hosts.values()), sum(h["ok"] for h in hosts.values()))

    def end_detached(self, inventory: Path) -> Detached:
        """Measure and end the ControlPersist masters of the last run."""
        return end_matching(str(inventory.parent / CONTROL_DIR) + os.sep)


class AnsiblePipeliningRunner(AnsibleRunner):
    """``ansible-playbook`` with ``pipelining = True`` and ControlPersist=60s."""

    name = "ansible-pipelining"

    def config(self, workdir: Path) -> dict[str, dict[str, str]]:
        config = super().config(workdir)
        config["ssh_connection"].update(pipelining="True", ssh_args=DEFAULT_SSH_ARGS)
        return config


class AnsibleMitogenRunner(AnsibleRunner):
    """``ansible-playbook`` with Mitogen's ``mitogen_linear`` strategy."""

    name = "ansible-mitogen"
    venv_name = "ansible-mitogen"

    def strategy_plugins(self) -> Path | None:
        site = toolenv.site_packages(self.venv)
        path = site / "ansible_mitogen" / "plugins" / "strategy" if site else None
        return path if path and (path / "mitogen_linear.py").exists() else None

    def unavailable(self) -> str | None:
        if problem := super().unavailable():
            return problem
        if self.strategy_plugins() is None:
            return f"no ansible_mitogen/plugins/strategy/mitogen_linear.py in {self.venv}: run bench/setup_tools.py"
        return None

    def config(self, workdir: Path) -> dict[str, dict[str, str]]:
        config = super().config(workdir)
        config["defaults"].update(strategy_plugins=str(self.strategy_plugins()), strategy="mitogen_linear")
        return config
