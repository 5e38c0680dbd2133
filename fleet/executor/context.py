"""Assembling the variable layers a task sees on a host, in the documented precedence order.

role defaults < inventory (all < groups < host) < facts < play vars < vars_files < role vars
< block vars < task vars < include_vars < set_fact/register < role params < include params
< extra vars < magic vars. Each task gets a fresh lazy view (:class:`fleet.vars.HostVars`),
so templates in low layers see overrides from higher ones, as in Ansible.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from fleet.playbook import Play, RoleContext, Task
from fleet.templating import UnsafeDict, wrap
from fleet.vars import HostVars, Layer


@dataclass
class HostRuntime:
    """Per-host variables that change during a run (they outlive a play, as in Ansible)."""

    facts: dict[str, Any] = field(default_factory=dict)
    set_facts: dict[str, Any] = field(default_factory=dict)  # set_fact and register
    include_vars: dict[str, Any] = field(default_factory=dict)
    gathered: bool = False  # facts gathered this run, or read from a cache that says so
    cacheable: dict[str, Any] = field(default_factory=dict)  # set_fact cacheable: kept in the fact cache

    def update_facts(self, ansible_facts: Mapping[str, Any], as_returned: bool = False) -> None:
        """Store gathered facts as ``ansible_facts`` and, as Ansible does, as ``ansible_*`` vars
        (``as_returned``: under the names the module gave, as Ansible injects the facts of its
        modules: ``getent_passwd``); facts are host data (:mod:`fleet.templating.unsafe`)."""
        merged = UnsafeDict(self.facts.get("ansible_facts", {}))
        for key, value in ansible_facts.items():
            short = key[len("ansible_"):] if key.startswith("ansible_") else key
            value = wrap(value)
            merged[wrap(short)] = value
            self.facts[key if key.startswith("ansible_") or as_returned else f"ansible_{key}"] = value
        self.facts["ansible_facts"] = merged


class PlayVars:
    """Builds HostVars views for the hosts of one play."""

    def __init__(self, play: Play, inventory: Any, templar: Any, runtimes: Mapping[str, HostRuntime],
                 extra_vars: Mapping[str, Any], magic: Mapping[str, Any], connection: str = "ssh") -> None:
        self.play = play
        self.connection = play.connection or connection  # the run's (--connection), as Ansible's
        self.inventory = inventory
        self.templar = templar
        self.runtimes = runtimes
        self.extra = Layer("extra vars", "command line (-e)", extra_vars)
        self._play_magic = magic
        self._below_inventory = tuple(lay for lay in play.vars_layers if lay.kind == "role defaults")
        self._above_facts = tuple(lay for lay in play.vars_layers if lay.kind != "role defaults")
        self._inventory_layers: dict[str, list[Layer]] = {}
        self._host_magic: dict[str, dict[str, Any]] = {}
        self._context_layers: dict[str, Layer] = {}

    def set_hosts(self, play_hosts: list[str], batch: list[str]) -> None:
        """``ansible_play_hosts`` (the play's hosts still running) and ``ansible_play_batch``."""
        self._play_magic = {**self._play_magic, "ansible_play_hosts": list(play_hosts),
                            "play_hosts": list(play_hosts), "ansible_play_batch": list(batch)}
        self._host_magic.clear()

    def inventory_changed(self) -> None:
        """A task changed the inventory (``add_host``, ``group_by``): ``groups``, ``group_names``
        and group variables are read again, as Ansible reads them for every task."""
        self._play_magic = {**self._play_magic, "groups": self.inventory.groups_map()}
        self._inventory_layers.clear()
        self._host_magic.clear()

    def _inventory(self, host: str) -> list[Layer]:
        layers = self._inventory_layers.get(host)
        if layers is None:  # a delegated host the inventory does not know has no inventory vars
            known = self.inventory.get_host(host) is not None
            layers = self._inventory_layers[host] = self.inventory.host_layers(host) if known else []
        return layers

    def magic(self, host: str, role: RoleContext | None, task: Task | None = None) -> Layer:
        base = self._host_magic.get(host)
        if base is None:
            roles = list(dict.fromkeys(r.name for r in self.play.roles))
            known = self.inventory.get_host(host) is not None
            inventory = (self.inventory.magic_vars(host) if known else
                         {"inventory_hostname": host, "inventory_hostname_short": host.split(".", 1)[0],
                          "group_names": []})
            base = self._host_magic[host] = {**self._play_magic, **inventory,
                                             "hostvars": HostvarsView(self), "role_names": roles,
                                             "ansible_role_names": roles, "ansible_play_role_names": roles}
        values = dict(base)
        if role is not None:
            values["role_name"] = role.name
            values["ansible_role_name"] = role.name  # as the role was named (a collection's: its FQCN)
            values["role_path"] = str(role.path)
        if task is not None:  # where lookups find files (Ansible's Task.get_search_path + basedir)
            base_dir = self._play_magic.get("playbook_dir")
            values["ansible_search_path"] = list(dict.fromkeys(
                ([str(role.path)] if role is not None else []) + [str(task.base_dir)]
                + ([str(base_dir)] if base_dir else [])))
        return Layer("magic vars", "fleet", values)

    def layers(self, host: str, role: RoleContext | None, task: Task | None = None,
               include_params: Mapping[str, Any] | None = None) -> list[Layer]:
        runtime = self.runtimes.get(host) or HostRuntime()
        layers: list[Layer] = [self._play_context(host), *self._below_inventory]
        if role is not None:
            layers.append(role.defaults)
        layers.extend(self._inventory(host))
        layers.append(Layer("facts", "gathered facts", runtime.facts))
        layers.extend(self._above_facts)
        if role is not None:
            layers.append(role.vars)
        if task is not None:
            layers.extend(task.vars_layers)
        layers.append(Layer("include_vars", "include_vars", runtime.include_vars))
        layers.append(Layer("set_fact / register", "set_fact / register", runtime.set_facts))
        if role is not None:
            layers.append(role.params)
        if include_params:
            layers.append(Layer("include params", "include", include_params))
        layers.append(self.extra)
        layers.append(self.magic(host, role, task))
        return layers

    def _play_context(self, host: str) -> Layer:
        """What Ansible's PlayContext.update_vars adds to a task's variables when unset: the
        connection's name (the play's, else the run's: ssh) and the host's address (its name)."""
        layer = self._context_layers.get(host)
        if layer is None:
            layer = self._context_layers[host] = Layer("play context", "play context",
                                                       {"ansible_connection": self.connection, "ansible_host": host})
        return layer

    def for_task(self, host: str, task: Task | None, include_params: Mapping[str, Any] | None = None) -> HostVars:
        role = task.role if task is not None else None
        return HostVars(self.layers(host, role, task, include_params), self.templar)

    def for_delegate(self, host: str, task: Task) -> HostVars:
        """The variables of ``host`` as a task delegated to it sees them (Ansible's delegated
        vars: its inventory, facts, the play's and the task's vars): its connection settings.
        ``host`` need not be in the inventory (it then has none of the inventory's vars)."""
        return HostVars(self.layers(host, task.role, task), self.templar)

    def for_host(self, host: str) -> HostVars:
        """The play-level view of a host (no task or role layers): ``hostvars[host]``."""
        return HostVars(self.layers(host, None), self.templar)


class HostvarsView(Mapping[str, Any]):
    """``hostvars``: every inventory host's variables, each resolved lazily on access."""

    def __init__(self, play_vars: PlayVars) -> None:
        self._play_vars = play_vars

    def __getitem__(self, host: str) -> HostVars:
        if self._play_vars.inventory.get_host(host) is None:
            raise KeyError(host)
        return self._play_vars.for_host(host)

    def __iter__(self) -> Iterator[str]:
        return iter(self._play_vars.inventory.hosts)

    def __len__(self) -> int:
        return len(self._play_vars.inventory.hosts)
