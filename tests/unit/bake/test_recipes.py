"""The example inventories load with fleet's inventory loader and mean what their comments
say; the Vagrantfile is valid Ruby."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from fleet.api import host_vars, load_inventory
from fleet.connection import ConnectionDefaults, ssh_options, transport_spec
from fleet.errors import InputError
from fleet.inventory import Inventory
from tests.conftest import REPO, require

INVENTORIES = REPO / "inventories"


def _vars(inventory: Inventory, host: str) -> dict:
    hv = host_vars(inventory, host)
    return {key: hv[key] for key in hv}


def test_every_example_inventory_loads() -> None:
    examples = [p for p in INVENTORIES.iterdir() if p.is_dir() and p.name not in ("examples", "dynamic")]
    examples += [INVENTORIES / "examples" / "docs", INVENTORIES / "dynamic" / "docker_containers.py"]
    assert {p.name for p in examples} >= {"lab", "vagrant", "production", "staging", "docker_containers.py"}
    for path in examples:
        inventory = load_inventory([path])
        assert inventory.hosts or path.suffix == ".py", path  # the script lists what runs now


def test_lab_inventory_reaches_the_lab_containers_with_docker() -> None:
    inventory = load_inventory([INVENTORIES / "lab"])
    assert [h.name for h in inventory.select("lab")] == ["lab1", "lab2", "lab3"]
    hv = host_vars(inventory, "lab2")
    spec = transport_spec("lab2", hv, ConnectionDefaults())
    assert (spec.kind, spec.params["container"], spec.params["user"]) == ("docker", "fleet-lab-2", "root")


def test_production_and_staging_share_groups_not_values() -> None:
    prod = load_inventory([INVENTORIES / "production"])
    staging = load_inventory([INVENTORIES / "staging"])
    assert [h.name for h in prod.select("web")] == ["web1.prod.example.com", "web2.prod.example.com"]
    assert [h.name for h in staging.select("db")] == ["db1.staging.example.com"]
    web = _vars(prod, "web2.prod.example.com")
    assert (web["env"], web["app_workers"], web["app_port"]) == ("production", 8, 8080)
    assert web["base_pam_limits"][0]["value"] == 262144  # group_vars/web.yml
    assert "PRODUCTION" in web["base_motd"] and "web2.prod.example.com" in web["base_motd"]
    replica = _vars(prod, "db2.prod.example.com")
    assert (replica["db_role"], replica["db_replicate_from"]) == ("replica", "db1.prod.example.com")
    assert _vars(prod, "db1.prod.example.com")["db_role"] == "primary"  # host_vars beat group_vars
    assert "app_workers" not in replica
    stage = _vars(staging, "web1.staging.example.com")
    assert (stage["env"], stage["app_workers"], stage["network_dns_search"]) == ("staging", 2, ["staging.example.com"])


def test_vagrant_inventory_matches_the_vagrantfile() -> None:
    inventory = load_inventory([INVENTORIES / "vagrant"])
    assert [h.name for h in inventory.select("all")] == ["vm1", "vm2", "vm3"]
    hv = host_vars(inventory, "vm3")
    assert hv["bootstrap_python"] is True and hv["ansible_user"] == "vagrant"
    options = ssh_options("vm3", hv, ConnectionDefaults())
    assert (options.host, options.host_key_policy) == ("192.168.56.13", "accept-new")
    vagrantfile = (REPO / "vagrant" / "Vagrantfile").read_text()
    assert 'NET = ENV.fetch("FLEET_NET", "192.168.56")' in vagrantfile and '"#{NET}.#{10 + index}"' in vagrantfile


def test_vagrantfile_is_valid_ruby() -> None:
    require(shutil.which("ruby") is not None,
            "ruby is not installed (tests/run installs it): vagrant/Vagrantfile's syntax is not checked")
    result = subprocess.run(["ruby", "-c", str(REPO / "vagrant" / "Vagrantfile")], capture_output=True, text=True)
    assert result.returncode == 0 and "Syntax OK" in result.stdout, result.stderr


def test_dynamic_inventory_groups_labelled_containers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "docker").write_text(
        "#!/bin/sh\n"
        "echo \"$*\" > " + str(tmp_path / "args") + "\n"
        "printf 'fleet-lab-2\\tlab\\tlab2\\nfleet-lab-1\\tlab\\tlab1\\nfleet-web-1\\tweb-1.x\\t\\n'\n")
    (fake / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    inventory = load_inventory([INVENTORIES / "dynamic" / "docker_containers.py"])
    assert [h.name for h in inventory.select("lab")] == ["lab1", "lab2"]
    assert [h.name for h in inventory.select("web_1_x")] == ["fleet-web-1"]
    spec = transport_spec("lab1", host_vars(inventory, "lab1"), ConnectionDefaults())
    assert (spec.kind, spec.params["container"]) == ("docker", "fleet-lab-1")
    assert "--filter label=fleet.lab" in (tmp_path / "args").read_text()

    (fake / "docker").write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    with pytest.raises(InputError, match="docker ps failed: Cannot connect to the Docker daemon"):
        load_inventory([INVENTORIES / "dynamic" / "docker_containers.py"])
