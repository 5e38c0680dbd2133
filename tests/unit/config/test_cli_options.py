"""What the run commands take from ansible.cfg: the command line wins, then ANSIBLE_*, then the file."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from fleet.cli.common import build_options, inventory_required
from fleet.errors import InputError

CFG = """\
[defaults]
inventory = ./hosts.yml
roles_path = ./galaxy
collections_path = ./colls
library = ./lib
module_utils = ./utils
forks = 7
remote_user = deploy
private_key_file = keys/id
timeout = 21
host_key_checking = false
gathering = explicit
fact_caching = jsonfile
fact_caching_connection = ./facts
fact_caching_timeout = 60

[privilege_escalation]
become = true
become_user = admin
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in [n for n in __import__("os").environ if n.startswith("ANSIBLE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    proj = tmp_path / "proj"
    proj.mkdir(mode=0o755)
    (proj / "ansible.cfg").write_text(CFG)
    monkeypatch.chdir(proj)
    return proj


def _options(**params: object):  # noqa: ANN202
    with click.Context(click.Command("apply")):
        return build_options(dict(params))


def test_settings_from_the_file(project: Path) -> None:
    options = _options()
    assert options.forks == 7
    assert options.connection.user == "deploy"
    assert options.connection.private_key == str(project / "keys/id")
    assert options.connection.connect_timeout == 21
    assert options.connection.accept_new_host_keys  # host_key_checking = false: new keys accepted
    assert options.become and options.become_user == "admin"
    assert options.role_dirs == [str(project / "galaxy")]
    assert options.collection_dirs == [str(project / "colls")]
    assert (options.library_dirs, options.module_utils_dirs) == ([str(project / "lib")], [str(project / "utils")])
    assert options.gathering == "explicit"
    assert options.fact_cache is not None and options.fact_cache.directory == project / "facts"
    assert options.fact_cache.timeout == 60
    with click.Context(click.Command("apply")):
        assert inventory_required(()) == [str(project / "hosts.yml")]
        assert inventory_required(("other",)) == ["other"]


def test_command_line_then_environment_win(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANSIBLE_FORKS", "3")
    monkeypatch.setenv("ANSIBLE_REMOTE_USER", "envuser")
    monkeypatch.setenv("ANSIBLE_HOST_KEY_CHECKING", "true")
    monkeypatch.setenv("ANSIBLE_INVENTORY", "env.ini")
    options = _options()
    assert (options.forks, options.connection.user) == (3, "envuser")
    assert not options.connection.accept_new_host_keys
    options = _options(forks=11, user="cli", become_user="root2")
    assert (options.forks, options.connection.user, options.become_user) == (11, "cli", "root2")
    with click.Context(click.Command("apply")):
        assert inventory_required(()) == [str(project / "env.ini")]


def test_without_a_file_fleet_keeps_its_defaults(project: Path) -> None:
    (project / "ansible.cfg").unlink()
    options = _options()
    assert options.forks == 100 and options.connection.user is None and not options.become
    assert options.gathering == "implicit" and options.fact_cache is None
    assert options.role_dirs[0] == str(project.parent / ".ansible/roles")  # where ansible-galaxy installs


def test_unsupported_become_method_is_refused(project: Path) -> None:
    (project / "ansible.cfg").write_text("[privilege_escalation]\nbecome_method = su\n")
    with pytest.raises(InputError, match="become_method 'su'.*only 'sudo'"):
        _options()
