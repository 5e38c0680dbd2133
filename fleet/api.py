"""fleet's Python API: the same engine the CLI runs, without the CLI.

    from fleet import api
    report = api.apply("site.yml", inventory=["inventories/prod"], check=True)
    print(report.exit_code(), report.summary())

Every function validates all of its input first (inventory, playbook, module parameters,
templates, variables) and raises :class:`fleet.errors.InputError` before connecting anywhere.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleet.bridge import Bridge
from fleet.errors import InputError, Location
from fleet.executor import (
    NullReporter,
    Reporter,
    RunOptions,
    RunState,
    run_playbook,
    run_with_signals,
)
from fleet.inventory import Inventory
from fleet.playbook import (
    Play,
    Playbook,
    Task,
    TaskFileLoader,
    answer_prompts,
    load_playbook,
    module_args,
)
from fleet.preflight import check_hosts, check_playbook, check_ssh_settings
from fleet.registry import ModuleRegistry, builtin_dir
from fleet.result import RunReport
from fleet.secrets import Secrets
from fleet.templating import Templar
from fleet.templating.filters import password_hash
from fleet.vars import HostVars, Layer

__all__ = ["Prepared", "RunOptions", "prepare", "apply", "run_module", "gather_facts", "host_vars", "load_inventory"]


def load_inventory(sources: Sequence[str | Path], secrets: Secrets | None = None) -> Inventory:
    """Load and merge inventory sources (``-i``); InputError with file:line on bad input.
    ``secrets`` decrypts vault-encrypted vars files (and collects what they hold)."""
    if not sources:
        raise InputError("no inventory given (use -i PATH)")
    return Inventory.load([str(s) for s in sources], secrets=secrets)


@dataclass
class Prepared:
    """A validated run: inventory, playbook and the tools to run it. Nothing has connected yet."""

    inventory: Inventory
    playbook: Playbook
    options: RunOptions
    registry: ModuleRegistry
    templar: Templar
    loader: TaskFileLoader
    bridge: Bridge | None = None

    def state(self, reporter: Reporter | None = None) -> RunState:
        return RunState(self.inventory, self.options, self.templar, self.registry, self.loader,
                        self.playbook.base_dir, reporter or NullReporter(), self.bridge)


def _tools(base_dir: Path, options: RunOptions) -> tuple[ModuleRegistry, Templar]:
    module_dirs = [Path(d) for d in options.module_dirs] + [base_dir / "modules"]
    registry = ModuleRegistry(module_dirs)
    templar = Templar([base_dir, base_dir / "files", base_dir / "templates"], secrets=options.secrets)
    return registry, templar


def make_bridge(base_dir: Path, options: RunOptions, registry: ModuleRegistry) -> Bridge:
    """Ansible's modules for this run, where Ansible would look for them: ``-M``, the
    playbook's ``library/``, ``module_utils/`` and ``collections/``, ansible.cfg's
    ``library``, ``module_utils`` and ``collections_path`` (then ansible-core's own paths)."""
    return Bridge(module_dirs=[Path(d) for d in options.module_dirs] + [base_dir / "library"]
                  + [Path(d) for d in options.library_dirs],
                  collection_paths=[base_dir / "collections"] + [Path(d) for d in options.collection_dirs],
                  module_utils_dirs=[base_dir / "module_utils"] + [Path(d) for d in options.module_utils_dirs],
                  native=registry.names)


def _add_warnings(options: RunOptions, warnings: list[str]) -> None:
    options.warnings.extend(w for w in warnings if w not in options.warnings)


def prepare(playbook: str | Path, inventory: Sequence[str | Path] | Inventory,
            options: RunOptions | None = None) -> Prepared:
    """Load and validate everything a playbook run needs."""
    options = options or RunOptions()
    inv = inventory if isinstance(inventory, Inventory) else load_inventory(inventory, options.secrets)
    if inv.secrets is None:
        inv.secrets = options.secrets
    path = Path(playbook)
    if not path.is_file():
        raise InputError(f"playbook not found: {path}")
    inv.add_playbook_vars(path.resolve().parent)
    registry, templar = _tools(path.resolve().parent, options)
    bridge = make_bridge(path.resolve().parent, options, registry)
    templar.plugins = bridge.jinja()
    role_dirs = [Path(d) for d in options.role_dirs]
    book = load_playbook(path, role_paths=role_dirs, module_exists=lambda name: registry.find(name) is not None,
                         secrets=options.secrets, module_names=registry.names, foreign=bridge)
    for play in book.plays:  # vars_prompt: answered (or refused) before anything is checked or connects
        answer_prompts(play, options.extra_vars, options.ask, password_hash, options.secrets)
    _add_warnings(options, check_playbook(book, registry, templar, inv, options.extra_vars, bridge))
    _add_warnings(options, check_hosts(book, inv, options.limit, templar))
    check_ssh_settings(book, inv, templar, options.extra_vars, options.limit, options.connection)
    loader = TaskFileLoader(book.base_dir, role_paths=role_dirs,
                            module_exists=lambda name: registry.find(name) is not None, secrets=options.secrets,
                            module_names=registry.names, foreign=bridge)
    _add_warnings(options, bridge.warnings)
    return Prepared(inv, book, options, registry, templar, loader, bridge)


async def apply_async(prepared: Prepared, reporter: Reporter | None = None) -> RunReport:
    """Run a prepared playbook; the report says what happened on every host."""
    return await run_playbook(prepared.state(reporter), prepared.playbook)


async def apply_interruptible(prepared: Prepared, reporter: Reporter | None,
                              aborted: Callable[[RunReport], Any]) -> RunReport:
    """As :func:`apply_async`, with SIGINT and SIGTERM stopping the run cleanly (see
    :mod:`fleet.executor.interrupt`): the report then says ``interrupted``. ``aborted(report)``
    gets the report so far when a second signal aborts the run, and must not return."""
    return await run_with_signals(prepared.state(reporter), prepared.playbook, aborted)


def apply(playbook: str | Path, inventory: Sequence[str | Path] | Inventory,
          options: RunOptions | None = None, reporter: Reporter | None = None, **option_values: Any) -> RunReport:
    """Validate and run a playbook (``check=True`` for a dry run) and return its report."""
    options = options or RunOptions(**option_values)
    return asyncio.run(apply_async(prepare(playbook, inventory, options), reporter))


def adhoc_playbook(pattern: str, module: str, args: dict[str, Any], base_dir: Path,
                   gather_facts: bool = False) -> Playbook:
    """A one-task playbook, as ``fleet run PATTERN -m MODULE -a ARGS`` runs it."""
    location = Location("<command line>")
    task = Task(module=module, args=args, location=location, name=module, base_dir=base_dir)
    play = Play(hosts=pattern, location=location, name=f"ad-hoc {module}", tasks=[task],
                gather_facts=gather_facts, base_dir=base_dir)
    return Playbook(base_dir / "<ad-hoc>", [play])


def prepare_module(pattern: str, module: str, args: str | dict[str, Any],
                   inventory: Sequence[str | Path] | Inventory, options: RunOptions | None = None) -> Prepared:
    """Validate an ad-hoc module run (``args`` as ``k=v`` text, free-form, or a dict)."""
    options = options or RunOptions()
    inv = inventory if isinstance(inventory, Inventory) else load_inventory(inventory)
    base_dir = Path.cwd()
    registry, templar = _tools(base_dir, options)
    bridge = make_bridge(base_dir, options, registry)
    templar.plugins = bridge.jinja()
    if isinstance(args, str):
        args = module_args(module, args, Location("<command line -a>")) if args.strip() else {}
    book = adhoc_playbook(pattern, module, args, base_dir)
    known = registry.find(module) is not None or module in ("debug", "set_fact", "assert", "fail")
    if not known and not bridge.exists(module):
        raise bridge.unknown(module, location=Location("<command line -m>"))
    _add_warnings(options, check_playbook(book, registry, templar, inv, options.extra_vars, bridge))
    _add_warnings(options, check_hosts(book, inv, options.limit, templar, adhoc=True))
    check_ssh_settings(book, inv, templar, options.extra_vars, options.limit, options.connection)
    loader = TaskFileLoader(base_dir, role_paths=[], module_exists=lambda name: registry.find(name) is not None,
                            foreign=bridge)
    _add_warnings(options, bridge.warnings)
    return Prepared(inv, book, options, registry, templar, loader, bridge)


def run_module(pattern: str, module: str, args: str | dict[str, Any], inventory: Sequence[str | Path] | Inventory,
               options: RunOptions | None = None, reporter: Reporter | None = None) -> RunReport:
    """Run one module on the hosts ``pattern`` selects (ad hoc)."""
    return asyncio.run(apply_async(prepare_module(pattern, module, args, inventory, options), reporter))


def gather_facts(pattern: str, inventory: Sequence[str | Path] | Inventory,
                 options: RunOptions | None = None) -> tuple[RunReport, dict[str, dict[str, Any]]]:
    """Facts of every selected host (one agent call each) plus the run report."""
    report = run_module(pattern, "setup", {}, inventory, options)
    facts = {}
    for name, host in report.hosts.items():
        for result in host.results:
            if result.status == "ok":
                facts[name] = result.data.get("ansible_facts", {})
    return report, facts


def host_vars(inventory: Inventory, host: str, playbook: Prepared | None = None,
              extra_vars: dict[str, Any] | None = None) -> HostVars:
    """A host's variables as its tasks would see them at play level (lazy; use ``explain``)."""
    if inventory.get_host(host) is None:
        raise InputError(f"host {host!r} is not in the inventory")
    layers = list(inventory.host_layers(host))
    templar = playbook.templar if playbook else Templar([], secrets=inventory.secrets)
    if playbook is not None:
        for play in playbook.playbook.plays:
            if host in {h.name for h in inventory.select(play.hosts)}:
                below = [lay for lay in play.vars_layers if lay.kind == "role defaults"]
                above = [lay for lay in play.vars_layers if lay.kind != "role defaults"]
                layers = below + layers + above
                break
    if extra_vars:
        layers.append(Layer("extra vars", "command line (-e)", extra_vars))
    magic = dict(inventory.magic_vars(host)) if hasattr(inventory, "magic_vars") else {}
    magic.setdefault("inventory_hostname", host)
    layers.append(Layer("magic vars", "fleet", magic))
    return HostVars(layers, templar)


def builtin_roles_dir() -> Path:
    """Where fleet's built-in roles are."""
    return builtin_dir("roles")
