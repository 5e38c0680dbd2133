"""Options shared by the run commands, ``-e`` parsing, and turning errors into exit codes."""

from __future__ import annotations

import functools
import getpass
import json
import keyword
import math
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from fleet import yamlsrc
from fleet.cli.vaultopts import keyring_from_params, vault_options
from fleet.config import AnsibleConfig, load_config
from fleet.connection import ConnectionDefaults, env_accepts_new_host_keys, read_become_password
from fleet.errors import FleetError, InputError, Location
from fleet.executor import RunOptions, cache_from_config
from fleet.playbook import terminal_asker
from fleet.secrets import Secrets
from fleet.transport import MIB
from fleet.vault import VaultValue

EXIT_ERROR = 1
SECRETS_KEY = "fleet.secrets"
CONFIG_KEY = "fleet.ansible_cfg"


def parse_extra_vars(values: tuple[str, ...], secrets: Secrets | None = None) -> dict[str, Any]:
    """``-e`` values: ``k=v k2=v2`` (strings, as Ansible), JSON/YAML mappings, or ``@file``
    (vault-encrypted files are decrypted with ``secrets``)."""
    merged: dict[str, Any] = {}
    for value in values:
        text = value.strip()
        if text.startswith("@"):
            data = yamlsrc.load_file(text[1:], secrets)
            if not isinstance(data, dict):
                raise InputError(f"-e {value}: the file must contain a mapping", Location(text[1:]))
        elif text.startswith(("{", "[", "---")):
            data = _structured(value, text)
        else:
            from fleet.playbook import parse_kv

            try:
                data, rest = parse_kv(text)
            except ValueError as exc:
                raise InputError(f"-e {value!r}: {exc}") from None
            if rest:
                raise InputError(f"-e {value!r}: expected key=value pairs, JSON/YAML or @file")
        for key in data:
            if not isinstance(key, str):
                raise InputError(f"-e {value[:80]!r}: variable names must be strings, got {key!r:.40}",
                                 yamlsrc.location_of(data, Location(text[1:]) if text.startswith("@") else None))
        merged.update(data)
    return merged


def _structured(value: str, text: str) -> Any:
    """An ``-e`` value in JSON or YAML: a mapping, or InputError naming ``-e``. Text that is not
    JSON but reads as YAML must give variable names: ``{broken json}`` is YAML for the key
    ``broken json``, which is a typo, not a variable."""
    shown = f"{value[:80]!r}" + ("..." if len(value) > 80 else "")
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        raise InputError(f"-e {shown}: duplicate key {exc.args[0]!r:.60}") from None
    except ValueError as exc:
        if text.startswith("---"):
            data = yamlsrc.loads(text, "<-e>")
        else:
            try:
                data = yamlsrc.loads(text, "<-e>")
            except InputError as yaml_error:
                problem = yaml_error.message.removeprefix("YAML syntax error: ")
                raise InputError(f"-e {shown}: not valid JSON ({exc}) or YAML ({problem})") from None
            names = [key for key in data if not _variable_name(key)] if isinstance(data, dict) else []
            if names:
                raise InputError(f"-e {shown}: not valid JSON ({exc}), and as YAML {str(names[0])!r:.60} "
                                 f"is not a variable name") from None
    if not isinstance(data, dict):
        raise InputError(f"-e {shown}: expected a mapping (variable names and values), got "
                         f"{type(data).__name__}")
    return data


class _DuplicateKey(ValueError):
    """A JSON object names a key twice (YAML's loader refuses that too)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, item in pairs:
        if key in data:
            raise _DuplicateKey(key)
        data[key] = item
    return data


def _variable_name(key: Any) -> bool:
    return isinstance(key, str) and key.isidentifier() and not keyword.iskeyword(key)


def split_tags(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(t.strip() for value in values for t in value.split(",") if t.strip())


def _finite(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """A number of seconds, not inf or nan (click's FloatRange lets nan through)."""
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number of seconds")
    return value


def run_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options every command that talks to hosts accepts (Ansible's names)."""
    options = [
        click.option("-i", "--inventory", "inventory", multiple=True, metavar="PATH",
                     help="Inventory file, directory, script or 'host1,host2,' (repeatable)."),
        click.option("-l", "--limit", metavar="PATTERN", help="Further limit the selected hosts."),
        click.option("-e", "--extra-vars", "extra_vars", multiple=True, metavar="VARS",
                     help="k=v pairs, JSON/YAML, or @file (repeatable; highest precedence)."),
        click.option("-f", "--forks", type=click.IntRange(1), default=None,
                     help="Hosts worked on at the same time (default: ansible.cfg's forks, else 100)."),
        click.option("-C", "--check", is_flag=True, help="Change nothing; report what would change."),
        click.option("-D", "--diff", is_flag=True, help="Show diffs of what changes."),
        click.option("-u", "--user", metavar="USER", help="SSH login user (ansible_user wins)."),
        click.option("-b", "--become", is_flag=True, help="Run with sudo."),
        click.option("--become-user", metavar="USER", help="User to become (default root)."),
        click.option("-K", "--ask-become-pass", is_flag=True, help="Ask for the sudo password."),
        click.option("--become-password-file", metavar="FILE",
                     help="Read the sudo password from the first line of FILE (chmod 600 it)."),
        click.option("--private-key", metavar="FILE", help="SSH private key file."),
        click.option("--known-hosts", metavar="FILE", help="known_hosts file (default ~/.ssh/known_hosts)."),
        click.option("--accept-new-host-keys", is_flag=True,
                     help="Accept and record unknown host keys (changed keys are still refused)."),
        click.option("-c", "--connection", default="ssh", show_default=True, help="Default connection type."),
        click.option("-M", "--module-path", "module_dirs", multiple=True, metavar="DIR",
                     help="Also look for modules here (fleet's, then Ansible's; repeatable)."),
        click.option("--timeout", type=float, metavar="SECONDS", help="Fail a task that runs longer than this."),
        click.option("--persist", type=click.FloatRange(0), callback=_finite, metavar="SECONDS",
                     help="Keep connections and agents this long after the run for the next one "
                          "(default $FLEET_PERSIST or 60; 0 = off)."),
        click.option("--max-host-output", type=click.IntRange(1), metavar="MIB",
                     help="Stop a host's agent when it sends more than MIB MiB for one task "
                          "(default 64; the fleet_max_host_output variable wins)."),
        click.option("--no-pipelining", is_flag=True,
                     help="Send one task per agent request: strict lockstep of hosts in linear plays."),
        click.option("--lock-wait", type=click.FloatRange(0), callback=_finite, metavar="SECONDS",
                     help="How long to wait for another run's lock on a host before failing that host "
                          "(default 60)."),
        click.option("--no-lock", is_flag=True,
                     help="Do not take the hosts' run lock: this run may interleave with another one."),
        click.option("--json", "json_path", metavar="PATH", help="Write the run report as JSON ('-' = stdout)."),
        click.option("-v", "--verbose", count=True, help="More output (-vvv for module tracebacks)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return vault_options(fn)


def command_vault(params: dict[str, Any]) -> Secrets:
    """The command's secrets, with the vault keyring its options give (if any) set."""
    secrets = command_secrets()
    if secrets.keyring is None:
        secrets.keyring = keyring_from_params(params, config_file=command_config().get("vault_password_file"))
    return secrets


def build_options(params: dict[str, Any], check: bool | None = None, tags: tuple[str, ...] = (),
                  skip_tags: tuple[str, ...] = (), strategy: str | None = None) -> RunOptions:
    """The run's options: the command line, then ansible.cfg and ``ANSIBLE_*`` (fleet.config)."""
    cfg = command_config()
    password = None
    warnings: list[str] = []
    if params.get("become_password_file"):
        password, warning = read_become_password(params["become_password_file"])
        warnings += [warning] if warning else []
    elif params.get("ask_become_pass") or cfg.get("become_ask_pass"):
        if not sys.stdin.isatty():
            raise InputError("-K needs a terminal to ask for the sudo password")
        password = getpass.getpass("BECOME password: ")
    command_vault(params).add(password)  # redacted from everything shown, from now on
    if cfg.is_set("become_method") and cfg.get("become_method") != "sudo":
        raise InputError(f"become_method {cfg.get('become_method')!r} ({cfg.origin('become_method')}) is not "
                         f"supported (only 'sudo')")
    connection = ConnectionDefaults(
        user=params.get("user") or cfg.get("remote_user"),
        private_key=params.get("private_key") or cfg.get("private_key_file"),
        connection=params.get("connection") or "ssh",
        known_hosts=params.get("known_hosts"),
        accept_new_host_keys=bool(params.get("accept_new_host_keys")) or env_accepts_new_host_keys(os.environ)
        or (cfg.origin("host_key_checking") == str(cfg.path) and not cfg.get("host_key_checking")),
        connect_timeout=float(cfg.get("timeout")),
        become_password=password,
        **({"max_output": params["max_host_output"] * MIB} if params.get("max_host_output") else {}),
    )
    return RunOptions(
        check=params.get("check", False) if check is None else check,
        diff=bool(params.get("diff")),
        forks=params.get("forks") or (cfg.get("forks") if cfg.is_set("forks") else 100),
        limit=params.get("limit"),
        tags=split_tags(tags),
        skip_tags=split_tags(skip_tags),
        extra_vars=parse_extra_vars(params.get("extra_vars") or (), command_vault(params)),
        timeout=params.get("timeout"),
        become=bool(params.get("become")) or bool(cfg.get("become")),
        become_user=params.get("become_user") or (cfg.get("become_user") if cfg.is_set("become_user") else None),
        role_dirs=list(cfg.get("roles_path")),
        collection_dirs=list(cfg.get("collections_path")),
        gathering=cfg.get("gathering"),
        fact_cache=cache_from_config(cfg),
        strategy=strategy,
        connection=connection,
        module_dirs=list(params.get("module_dirs") or ()),
        library_dirs=list(cfg.get("library")),
        module_utils_dirs=list(cfg.get("module_utils")),
        verbosity=params.get("verbose") or 0,
        pipelining=not params.get("no_pipelining"),
        secrets=command_vault(params),
        warnings=warnings,
        **({"persist": params["persist"]} if params.get("persist") is not None else {}),
        lock=not params.get("no_lock"),
        **({"lock_wait": params["lock_wait"]} if params.get("lock_wait") is not None else {}),
        ask=terminal_asker(click.prompt) if sys.stdin.isatty() else None,
    )


def command_config() -> AnsibleConfig:
    """The ansible.cfg of the running command (read once; its warnings and notes shown once)."""
    context = click.get_current_context(silent=True)
    if context is not None and CONFIG_KEY in context.meta:
        return context.meta[CONFIG_KEY]
    cfg = load_config()
    for line in cfg.warnings:
        click.echo(click.style("[WARNING]: ", fg="yellow") + line, err=True)
    for line in cfg.notes():
        click.echo(f"NOTE: ansible.cfg: {line}", err=True)
    if context is not None:
        context.meta[CONFIG_KEY] = cfg
    return cfg


def command_secrets() -> Secrets:
    """The secrets of the running command (one per command, kept in click's context)."""
    context = click.get_current_context(silent=True)
    if context is None:
        return Secrets()
    return context.meta.setdefault(SECRETS_KEY, Secrets())


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    from fleet.report import visible

    message = visible(command_secrets().redact(message))  # it may quote a host's output
    click.echo(click.style("ERROR: ", fg="red", bold=True) + message, err=True)
    sys.exit(code)


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Bad input and other fleet errors become one clear line on stderr and exit 1; a crash
    prints its traceback (secrets redacted) and exits 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except FleetError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except Exception:  # noqa: BLE001 - a bug: show it, but never a secret in it
            from fleet.report import visible

            click.echo(visible(command_secrets().redact(traceback.format_exc())), err=True)
            fail("internal error (the traceback above); please report it")

    return wrapper


def _plain(data: Any) -> Any:
    """``data`` with inline vault values shown as what they are, for JSON and YAML output."""
    if isinstance(data, VaultValue):
        return str(data)
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_plain(v) for v in data]
    return data


def dump(data: Any, as_yaml: bool = False) -> str:
    data = _plain(data)
    if as_yaml:
        import yaml

        return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    return json.dumps(data, indent=2, sort_keys=False, default=str)


def inventory_required(inventory: tuple[str, ...]) -> list[str]:
    """``-i`` sources; else ansible.cfg's ``inventory`` (or ``ANSIBLE_INVENTORY``), else
    ``./inventory``, else Ansible's default ``/etc/ansible/hosts`` when it exists."""
    if not inventory:
        cfg = command_config()
        if cfg.is_set("inventory"):
            return list(cfg.get("inventory"))
        for default in (Path("inventory"), Path("/etc/ansible/hosts")):
            if default.exists():
                return [str(default)]
        raise InputError("no inventory given: use -i PATH (a file, directory, script or 'host1,host2,'), "
                         "or set inventory in ansible.cfg")
    return list(inventory)
