"""ansible.cfg as Ansible reads it: which file, which settings, and their precedence.

The file is the first that exists and is readable of ``$ANSIBLE_CONFIG`` (a file, or a
directory holding ``ansible.cfg``), ``./ansible.cfg`` (skipped with Ansible's warning when the
working directory is world-writable), ``~/.ansible.cfg`` and ``/etc/ansible/ansible.cfg``. Each
setting comes from its ``ANSIBLE_*`` environment variable, else from the file, else from
Ansible's default; command-line options win over both (the caller decides that). Paths are
expanded (``~``, ``$VAR``); a relative path in the file is relative to the file's directory,
one from the environment to the working directory, as in Ansible.
"""

from __future__ import annotations

import configparser
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fleet.errors import InputError, Location

WORLD_WRITABLE = ("Ansible is being run in a world writable directory ({cwd}), ignoring it as an "
                  "ansible.cfg source.")
GATHERING = ("implicit", "explicit", "smart")
TRUE_WORDS = ("y", "yes", "on", "1", "true", "t", "1.0")  # Ansible's non-strict boolean


@dataclass(frozen=True)
class Setting:
    """One setting: where the file and the environment keep it, its type and default."""

    key: str
    section: str = "defaults"
    env: tuple[str, ...] = ()
    kind: str = "str"  # str, bool, int, path, pathspec (':'-separated), pathlist (','-separated)
    default: Any = None
    aliases: tuple[str, ...] = ()  # older ini keys, read when ``key`` is absent


def _home_default(tail: str) -> str:
    return "{home}" + tail


SETTINGS: dict[str, Setting] = {s.key: s for s in (
    Setting("home", env=("ANSIBLE_HOME",), kind="path", default="~/.ansible"),
    Setting("inventory", env=("ANSIBLE_INVENTORY",), kind="pathlist", default=["/etc/ansible/hosts"],
            aliases=("hostfile",)),
    Setting("roles_path", env=("ANSIBLE_ROLES_PATH",), kind="pathspec",
            default=_home_default("/roles:/usr/share/ansible/roles:/etc/ansible/roles")),
    Setting("collections_path", env=("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"), kind="pathspec",
            default=_home_default("/collections:/usr/share/ansible/collections"), aliases=("collections_paths",)),
    Setting("library", env=("ANSIBLE_LIBRARY",), kind="pathspec",
            default=_home_default("/plugins/modules:/usr/share/ansible/plugins/modules")),
    Setting("module_utils", env=("ANSIBLE_MODULE_UTILS",), kind="pathspec",
            default=_home_default("/plugins/module_utils:/usr/share/ansible/plugins/module_utils")),
    Setting("forks", env=("ANSIBLE_FORKS",), kind="int", default=5),
    Setting("remote_user", env=("ANSIBLE_REMOTE_USER",)),
    Setting("remote_port", env=("ANSIBLE_REMOTE_PORT",), kind="int"),
    Setting("private_key_file", env=("ANSIBLE_PRIVATE_KEY_FILE",), kind="path"),
    Setting("become", "privilege_escalation", ("ANSIBLE_BECOME",), "bool", False),
    Setting("become_user", "privilege_escalation", ("ANSIBLE_BECOME_USER",), default="root"),
    Setting("become_method", "privilege_escalation", ("ANSIBLE_BECOME_METHOD",), default="sudo"),
    Setting("become_ask_pass", "privilege_escalation", ("ANSIBLE_BECOME_ASK_PASS",), "bool", False),
    Setting("host_key_checking", env=("ANSIBLE_HOST_KEY_CHECKING",), kind="bool", default=True),
    Setting("timeout", env=("ANSIBLE_TIMEOUT",), kind="int", default=10),
    Setting("gathering", env=("ANSIBLE_GATHERING",), default="implicit"),
    Setting("fact_caching", env=("ANSIBLE_CACHE_PLUGIN",), default="memory"),
    Setting("fact_caching_connection", env=("ANSIBLE_CACHE_PLUGIN_CONNECTION",), kind="path"),
    Setting("fact_caching_timeout", env=("ANSIBLE_CACHE_PLUGIN_TIMEOUT",), kind="int", default=86400),
    Setting("fact_caching_prefix", env=("ANSIBLE_CACHE_PLUGIN_PREFIX",), default="ansible_facts"),
    Setting("ansible_managed", default="Ansible managed"),
    Setting("vault_password_file", env=("ANSIBLE_VAULT_PASSWORD_FILE",), kind="path"),
    Setting("retry_files_enabled", env=("ANSIBLE_RETRY_FILES_ENABLED",), kind="bool", default=False),
    Setting("stdout_callback", env=("ANSIBLE_STDOUT_CALLBACK",), default="default"),
)}  # fmt: skip


def find_config(environ: Mapping[str, str], cwd: Path | None = None) -> tuple[Path | None, list[str]]:
    """The ansible.cfg Ansible would read (or None) and the warnings finding it gave."""
    warnings: list[str] = []
    candidates: list[Path] = []
    if "ANSIBLE_CONFIG" in environ:
        given = Path(_expand(environ["ANSIBLE_CONFIG"], environ))
        candidates.append(given / "ansible.cfg" if given.is_dir() else given)
    try:
        here = cwd or Path.cwd()
        if os.stat(here).st_mode & stat.S_IWOTH:
            if (here / "ansible.cfg").exists():
                warnings.append(WORLD_WRITABLE.format(cwd=here))
        else:
            candidates.append(here / "ansible.cfg")
    except OSError:
        pass
    candidates += [Path(_expand("~/.ansible.cfg", environ)), Path("/etc/ansible/ansible.cfg")]
    for path in candidates:
        if path.is_file() and os.access(path, os.R_OK):
            return path, warnings
    return None, warnings


def _expand(value: str, environ: Mapping[str, str]) -> str:
    home = environ.get("HOME") or os.path.expanduser("~")
    if value == "~" or value.startswith("~/"):
        value = home + value[1:]
    else:
        value = os.path.expanduser(value)
    for name in sorted(environ, key=len, reverse=True):  # $VAR and ${VAR} from the given environment
        value = value.replace("${" + name + "}", environ[name]).replace("$" + name, environ[name])
    return value


@dataclass
class AnsibleConfig:
    """The settings fleet takes from ansible.cfg and ``ANSIBLE_*`` variables.

    ``get(name)`` gives the effective value (environment > file > Ansible's default);
    ``origin(name)`` says where it came from (``env: NAME``, the file's path, or ``default``);
    ``is_set(name)`` whether the environment or the file gave it (fleet keeps its own default
    otherwise where it differs from Ansible's, e.g. ``forks``)."""

    path: Path | None = None
    environ: Mapping[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    cwd: Path = field(default_factory=Path.cwd)
    _parser: configparser.ConfigParser | None = None
    _cache: dict[str, tuple[Any, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.path is None:
            return
        if self.path.suffix not in (".cfg", ".ini"):  # as Ansible (YAML is not implemented there either)
            raise InputError(f"unsupported configuration file extension for {self.path}: {self.path.suffix!r} "
                             f"(ansible.cfg is an INI file: .cfg or .ini)", Location(str(self.path)))
        parser = configparser.ConfigParser(inline_comment_prefixes=(";",), interpolation=None)
        try:
            parser.read_string(self.path.read_text(encoding="utf-8"), str(self.path))
        except (configparser.Error, UnicodeDecodeError, OSError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(f"cannot read {self.path}: {first}", Location(str(self.path))) from None
        self._parser = parser

    def get(self, name: str) -> Any:
        return self._resolve(name)[0]

    def origin(self, name: str) -> str:
        return self._resolve(name)[1]

    def is_set(self, name: str) -> bool:
        return self.origin(name) != "default"

    def _resolve(self, name: str) -> tuple[Any, str]:
        if name in self._cache:
            return self._cache[name]
        setting = SETTINGS[name]
        found: tuple[Any, str] | None = None
        for env in setting.env:
            if env in self.environ and not (self.environ[env] == "" and setting.kind != "str"):
                found = (self._convert(setting, self.environ[env], None, f"env: {env}"), f"env: {env}")
                break
        if found is None and self._parser is not None and self._parser.has_section(setting.section):
            for key in (setting.key, *setting.aliases):
                if self._parser.has_option(setting.section, key):
                    raw = self._parser.get(setting.section, key)
                    found = (self._convert(setting, raw, self.path, str(self.path), key), str(self.path))
                    break
        if found is None:
            default = setting.default
            if isinstance(default, str) and "{home}" in default:
                default = default.replace("{home}", str(self.get("home")))
            found = (self._convert(setting, default, None, "default") if default is not None else None, "default")
        self._cache[name] = found
        return found

    def _convert(self, setting: Setting, raw: Any, cfg: Path | None, origin: str, key: str = "") -> Any:
        base = cfg.parent if cfg is not None else self.cwd
        kind = setting.kind
        if kind == "bool":
            return raw if isinstance(raw, bool) else str(raw).strip().lower() in TRUE_WORDS
        if kind == "int":
            if isinstance(raw, int):
                return raw
            try:
                return int(str(raw).strip())
            except ValueError:
                raise InputError(f"ansible.cfg setting {setting.key} from {origin!r} has an invalid value: "
                                 f"{raw!r} is not an integer", self._where(cfg, setting, key)) from None
        if kind == "path":
            return self._path(str(raw), base)
        if kind == "pathspec":
            parts = raw if isinstance(raw, list) else str(raw).split(os.pathsep)
            return [self._path(p, base) for p in parts if p.strip()]
        if kind == "pathlist":
            parts = raw if isinstance(raw, list) else str(raw).split(",")
            return [self._path(p.strip(), base) for p in parts if p.strip()]
        text = str(raw)
        if setting.key == "gathering" and text not in GATHERING:
            raise InputError(f"ansible.cfg setting gathering from {origin!r}: {text!r} is not one of "
                             f"{', '.join(GATHERING)}", self._where(cfg, setting, key))
        return text

    def _path(self, value: str, base: Path) -> str:
        expanded = _expand(value.replace("{{CWD}}", str(self.cwd)), self.environ)
        return os.path.normpath(os.path.join(base, expanded))

    @staticmethod
    def _where(cfg: Path | None, setting: Setting, key: str) -> Location | None:
        if cfg is None:
            return None
        section, line_no = "", 0
        for number, line in enumerate(cfg.read_text(encoding="utf-8").splitlines(), 1):
            text = line.strip()
            if text.startswith("[") and text.endswith("]"):
                section = text[1:-1].strip()
            elif section == setting.section and text.split("=", 1)[0].split(":", 1)[0].strip() == key:
                line_no = number
        return Location(str(cfg), line_no)

    def notes(self) -> list[str]:
        """What fleet reads from the file but does differently (one line each)."""
        notes: list[str] = []
        if self.get("retry_files_enabled"):
            notes.append(f"retry_files_enabled ({self.origin('retry_files_enabled')}) is ignored: fleet "
                         f"writes no .retry files (the --json report lists the failed hosts)")
        if self.get("stdout_callback") not in ("default", ""):
            notes.append(f"stdout_callback = {self.get('stdout_callback')} ({self.origin('stdout_callback')}) "
                         f"is ignored: fleet has its own output (--json for machine-readable results)")
        return notes


def load_config(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> AnsibleConfig:
    """The ansible.cfg Ansible would read from here, with ``environ`` (default os.environ)."""
    env = dict(os.environ if environ is None else environ)
    here = cwd or Path.cwd()
    path, warnings = find_config(env, here)
    return AnsibleConfig(path, env, warnings, here)
