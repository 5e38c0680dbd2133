"""One item's working directory: the playbook both tools run, their inventories, ansible.cfg.

Both tools get the same playbook text and the same inventory shape (group and host
``testhost``, the lab's key and known_hosts, root login); only the address differs. Roles
resolve from ``roles/`` beside the playbook: for a target a copy of the targets directory
(so ``dependencies: [setup_remote_tmp_dir]`` resolve, as ``roles_path`` does for
ansible-test), for a role a directory holding a copy of just that role. A collection item also
gets an ``ansible_collections/NS/NAME`` copy. Each tool has its own copies (``fleet-tree/`` is
fleet's): tasks delegated to localhost write into their role's files, and the tools run at once.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from compat.corpus import Item
from compat.twins import Host

CALLBACK_DIR = Path(__file__).with_name("callback")
HOST = "testhost"
# ansible-test's variables for a target (remote_tmp_dir is replaced by setup_remote_tmp_dir's
# set_fact when the target depends on it); both under /tmp, which the state comparison ignores.
TARGET_VARS = {"output_dir": "/tmp/compat-output", "remote_tmp_dir": "/tmp/compat-remote-tmp"}


@dataclass(frozen=True)
class Workspace:
    """Paths of one item's run."""

    root: Path
    playbook: Path
    ansible_inventory: Path
    fleet_inventory: Path
    ansible_cfg: Path
    collections: Path | None
    # fleet's own copy of the playbook, roles and collection: a task delegated to localhost
    # writes into its role's files (copy's symlinks, include_vars' test_symlink), and the two
    # tools run at once, so they must not share them (nor the source cache)
    fleet_playbook: Path | None = None
    fleet_collections: Path | None = None

    def ansible_env(self) -> dict[str, str]:
        """ANSIBLE_* settings for ansible-playbook (the rest of the environment is cleaned)."""
        env = {"ANSIBLE_CONFIG": str(self.ansible_cfg), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
        if self.collections is not None:
            env["ANSIBLE_COLLECTIONS_PATH"] = str(self.collections)
        return env


def playbook_text(item: Item) -> str:
    """The one-play playbook both tools run."""
    play: dict[str, Any] = {"hosts": HOST, "gather_facts": item.gather_facts}
    if item.become:
        play["become"] = True
    variables = {**(TARGET_VARS if item.kind == "target" else {}), **item.vars}
    if variables:
        play["vars"] = variables
    play["roles"] = [item.role_name]
    return yaml.safe_dump([play], sort_keys=False)


def inventory_text(host: Host) -> str:
    data = {"all": {"children": {HOST: {"hosts": {HOST: {"ansible_host": host.address}},
                                        "vars": {k: v for k, v in host.connection_vars().items()
                                                 if k != "ansible_host"}}}}}
    return yaml.safe_dump(data, sort_keys=False)


KEEP_SECONDS = 900  # how long each tool keeps a connection unused (ControlPersist, fleet --persist)


def control_dir(root: Path) -> Path:
    """Where ansible-playbook's ControlPersist sockets go: ``ROOT/cp``, or a short directory
    under the system's temp dir when that path is too long for a unix socket (ssh adds ~45
    characters, and the limit is 107: a deep --workdir made every host unreachable)."""
    own = root / "cp"
    if len(str(own)) <= 56:
        return own
    digest = hashlib.sha256(str(root).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"fleet-compat-cp-{digest}"


def ansible_cfg_text(root: Path) -> str:
    return "\n".join([
        "[defaults]",
        f"callback_plugins = {CALLBACK_DIR}",
        "callbacks_enabled = compat_record",
        "host_key_checking = True",
        "retry_files_enabled = False",
        "interpreter_python = /usr/bin/python3",
        "",
        "[ssh_connection]",
        f"control_path_dir = {control_dir(root)}",
        # both tools keep their connections across the wait for the slower one between applies
        # (runs.KEEP_SECONDS): a role that closes root login (geerlingguy.security) is re-applied
        # over the kept connection, as an operator's second run within ControlPersist would be
        f"ssh_args = -C -o ControlMaster=auto -o ControlPersist={KEEP_SECONDS}s",
        "",
    ])


def prepare(item: Item, repo_root: Path, item_dir: Path, root: Path, ansible: Host, fleet: Host) -> Workspace:
    """Write the item's playbook, inventories and ansible.cfg under ``root`` (made if missing)."""
    root.mkdir(parents=True, exist_ok=True)
    if (root / "roles").is_symlink() or (root / "roles").exists():
        raise FileExistsError(f"{root / 'roles'} exists: use a fresh work directory per item")
    playbook, collections = _tree(item, repo_root, item_dir, root)
    fleet_playbook, fleet_collections = _tree(item, repo_root, item_dir, root / "fleet-tree")
    (root / "ansible").mkdir()
    (root / "fleet").mkdir()
    ansible_inventory = root / "ansible" / "inventory.yml"
    ansible_inventory.write_text(inventory_text(ansible))
    fleet_inventory = root / "fleet" / "inventory.yml"
    fleet_inventory.write_text(inventory_text(fleet))
    ansible_cfg = root / "ansible" / "ansible.cfg"
    ansible_cfg.write_text(ansible_cfg_text(root / "ansible"))
    return Workspace(root, playbook, ansible_inventory, fleet_inventory, ansible_cfg, collections, fleet_playbook,
                     fleet_collections)


def _tree(item: Item, repo_root: Path, item_dir: Path, root: Path) -> tuple[Path, Path | None]:
    """One tool's playbook, roles (a copy: the whole targets folder for a target, whose
    setup_* dependencies live beside it) and collection under ``root``."""
    roles = root / "roles"
    roles.parent.mkdir(parents=True, exist_ok=True)
    if item.kind == "target":
        shutil.copytree(item_dir.parent, roles, symlinks=True)
    else:
        roles.mkdir()
        shutil.copytree(item_dir, roles / item.role_name, symlinks=True)
    collections = None
    if item.collection:
        namespace, _, name = item.collection.partition(".")
        collections = root / "collections"
        (collections / "ansible_collections" / namespace).mkdir(parents=True)
        shutil.copytree(repo_root, collections / "ansible_collections" / namespace / name, symlinks=True)
    playbook = root / "playbook.yml"
    playbook.write_text(playbook_text(item))
    return playbook, collections
