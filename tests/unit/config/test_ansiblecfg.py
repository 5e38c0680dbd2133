"""ansible.cfg as Ansible reads it: which file, precedence (env > file > default), types, paths.

Expected values come from ansible-core itself (``ansible-config dump``) where a setting's
resolution is at stake."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fleet.config import find_config, load_config
from fleet.errors import InputError

ANSIBLE_CONFIG_BIN = Path(sys.executable).with_name("ansible-config")
CFG = """\
[defaults]
inventory = hosts.ini, /srv/other
roles_path = roles:~/galaxy-roles ; a comment
forks = 7
library = mylib:/srv/modules
remote_user = deploy
private_key_file = keys/id_ed25519
timeout = 33
host_key_checking = False
gathering = smart
fact_caching = jsonfile
fact_caching_connection = facts
fact_caching_timeout = 600

[privilege_escalation]
become = yes
become_user = admin
"""


def _env(home: Path, **extra: str) -> dict[str, str]:
    return {"HOME": str(home), "PATH": os.environ.get("PATH", ""), **extra}


def _ansible_dump(cwd: Path, env: dict[str, str]) -> dict[str, str]:
    """``ansible-config dump`` (Ansible's own resolution): NAME -> value text."""
    out = subprocess.run([str(ANSIBLE_CONFIG_BIN), "dump"], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=120, check=True).stdout
    values = {}
    for line in out.splitlines():
        name, sep, rest = line.partition("(")
        if sep and ") = " in rest:
            values[name.strip()] = rest.split(") = ", 1)[1].strip()
    return values


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    proj = tmp_path / "proj"
    proj.mkdir(mode=0o755)
    (proj / "ansible.cfg").write_text(CFG)
    return proj


def test_settings_match_ansible(project: Path) -> None:
    home = project.parent / "home"
    env = _env(home, ANSIBLE_FORKS="9")
    cfg = load_config(env, project)
    dumped = _ansible_dump(project, env)
    assert cfg.path == project / "ansible.cfg"
    assert str(cfg.get("forks")) == dumped["DEFAULT_FORKS"] == "9"  # env wins over the file
    assert cfg.origin("forks") == "env: ANSIBLE_FORKS"
    assert cfg.get("remote_user") == dumped["DEFAULT_REMOTE_USER"] == "deploy"
    assert cfg.get("private_key_file") == dumped["DEFAULT_PRIVATE_KEY_FILE"]  # relative to the file
    assert cfg.get("private_key_file") == str(project / "keys/id_ed25519")
    assert str(cfg.get("roles_path")).replace('"', "'") == dumped["DEFAULT_ROLES_PATH"]
    assert str(cfg.get("inventory")).replace('"', "'") == dumped["DEFAULT_HOST_LIST"]
    assert str(cfg.get("timeout")) == dumped["DEFAULT_TIMEOUT"] == "33"
    assert str(cfg.get("host_key_checking")) == dumped["HOST_KEY_CHECKING"] == "False"
    assert cfg.get("gathering") == dumped["DEFAULT_GATHERING"] == "smart"
    assert str(cfg.get("become")) == dumped["DEFAULT_BECOME"] == "True"
    assert cfg.get("become_user") == dumped["DEFAULT_BECOME_USER"] == "admin"
    assert str(cfg.get("fact_caching_timeout")) == dumped["CACHE_PLUGIN_TIMEOUT"] == "600"
    assert cfg.get("fact_caching") == dumped["CACHE_PLUGIN"] == "jsonfile"
    assert str(cfg.get("library")).replace('"', "'") == dumped["DEFAULT_MODULE_PATH"]
    assert cfg.get("library") == [str(project / "mylib"), "/srv/modules"]


def test_defaults_match_ansible(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = _env(home)
    cfg = load_config(env, tmp_path)
    dumped = _ansible_dump(tmp_path, env)
    if cfg.path is not None:
        pytest.fail(f"this machine has {cfg.path}: the defaults cannot be compared")
    for name, key in (("forks", "DEFAULT_FORKS"), ("timeout", "DEFAULT_TIMEOUT"), ("gathering", "DEFAULT_GATHERING"),
                      ("become_user", "DEFAULT_BECOME_USER"), ("fact_caching", "CACHE_PLUGIN")):
        assert str(cfg.get(name)) == dumped[key], name
        assert not cfg.is_set(name)
    assert str(cfg.get("roles_path")).replace('"', "'") == dumped["DEFAULT_ROLES_PATH"]
    assert str(cfg.get("collections_path")).replace('"', "'") == dumped["COLLECTIONS_PATHS"]
    assert str(cfg.get("library")).replace('"', "'") == dumped["DEFAULT_MODULE_PATH"]
    assert str(cfg.get("module_utils")).replace('"', "'") == dumped["DEFAULT_MODULE_UTILS_PATH"]
    assert cfg.get("roles_path")[0] == str(home / ".ansible/roles")


def test_which_file(tmp_path: Path) -> None:
    home, cwd, other = tmp_path / "home", tmp_path / "cwd", tmp_path / "other"
    for d in (home, cwd, other):
        d.mkdir(mode=0o755)
    assert find_config(_env(home), cwd)[0] in (None, Path("/etc/ansible/ansible.cfg"))
    (home / ".ansible.cfg").write_text("[defaults]\n")
    assert find_config(_env(home), cwd)[0] == home / ".ansible.cfg"
    (cwd / "ansible.cfg").write_text("[defaults]\n")
    assert find_config(_env(home), cwd)[0] == cwd / "ansible.cfg"
    (other / "ansible.cfg").write_text("[defaults]\n")
    assert find_config(_env(home, ANSIBLE_CONFIG=str(other)), cwd)[0] == other / "ansible.cfg"  # a directory
    assert find_config(_env(home, ANSIBLE_CONFIG=str(other / "ansible.cfg")), cwd)[0] == other / "ansible.cfg"


def test_world_writable_cwd_is_skipped_with_ansibles_warning(tmp_path: Path) -> None:
    home, cwd = tmp_path / "home", tmp_path / "open"
    home.mkdir()
    cwd.mkdir()
    cwd.chmod(0o777)
    (cwd / "ansible.cfg").write_text("[defaults]\nforks = 3\n")
    path, warnings = find_config(_env(home), cwd)
    assert path != cwd / "ansible.cfg"
    out = subprocess.run([str(ANSIBLE_CONFIG_BIN), "dump", "--only-changed"], cwd=cwd, env=_env(home),
                         capture_output=True, text=True, timeout=120)
    assert warnings and warnings[0].split(" For more")[0] in " ".join((out.stdout + out.stderr).split())


def test_bad_values_name_the_file_and_line(project: Path) -> None:
    (project / "ansible.cfg").write_text("[defaults]\n\nforks = many\n")
    with pytest.raises(InputError) as info:
        load_config(_env(project.parent / "home"), project).get("forks")
    assert str(info.value.location) == f"{project / 'ansible.cfg'}:3"
    assert "forks" in info.value.message and "'many'" in info.value.message
    (project / "ansible.cfg").write_text("[defaults]\ngathering = sometimes\n")
    with pytest.raises(InputError, match="gathering"):
        load_config(_env(project.parent / "home"), project).get("gathering")
    (project / "ansible.cfg").write_text("forks = 3\n")  # no section header
    with pytest.raises(InputError, match="cannot read"):
        load_config(_env(project.parent / "home"), project)


def test_notes_for_settings_fleet_ignores(project: Path) -> None:
    (project / "ansible.cfg").write_text("[defaults]\nretry_files_enabled = True\nstdout_callback = yaml\n")
    notes = load_config(_env(project.parent / "home"), project).notes()
    assert any("retry_files_enabled" in n for n in notes) and any("stdout_callback = yaml" in n for n in notes)
    (project / "ansible.cfg").write_text("[defaults]\nretry_files_enabled = False\n")
    assert load_config(_env(project.parent / "home"), project).notes() == []


def test_env_paths_are_relative_to_the_working_directory(project: Path) -> None:
    env = _env(project.parent / "home", ANSIBLE_ROLES_PATH="r1:$HOME/r2", ANSIBLE_PRIVATE_KEY_FILE="~/k")
    cfg = load_config(env, project)
    dumped = _ansible_dump(project, env)
    assert cfg.get("roles_path") == [str(project / "r1"), str(project.parent / "home/r2")]
    assert str(cfg.get("roles_path")).replace('"', "'") == dumped["DEFAULT_ROLES_PATH"]
    assert cfg.get("private_key_file") == dumped["DEFAULT_PRIVATE_KEY_FILE"]


def test_a_config_file_that_is_not_ini_is_refused(tmp_path: Path) -> None:
    odd = tmp_path / "settings.conf"
    odd.write_text("[defaults]\n")
    with pytest.raises(InputError, match="unsupported configuration file extension"):
        load_config(_env(tmp_path, ANSIBLE_CONFIG=str(odd)), tmp_path)
    out = subprocess.run([str(ANSIBLE_CONFIG_BIN), "dump"], cwd=tmp_path, env=_env(tmp_path, ANSIBLE_CONFIG=str(odd)),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "Unsupported configuration file extension" in out.stderr
