"""``bootstrap_python: true`` on a host without python3: check mode installs nothing (the
host is reported, with what applying would do), apply installs it and converges."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import output, report, run_fleet

NAME = "i13firsthournopy"
PURGE = ("DEBIAN_FRONTEND=noninteractive apt-get purge -y -q --autoremove 'python3*' 'libpython3*' >/dev/null "
         "&& ! command -v python3")
PLAY = ('- hosts: all\n  gather_facts: false\n  tasks:\n'
        '    - name: marker\n      copy: {dest: /etc/bootstrap-marker, content: "converged\\n"}\n')


@dataclass
class PythonLess:
    lab: object  # fleet.lab.lab.Lab
    container: object  # docker container of the host
    inventory: Path  # as `fleet lab up` wrote it
    bootstrap_inventory: Path  # the same with bootstrap_python: true

    def sh(self, command: str) -> tuple[int, str]:
        code, out = self.container.exec_run(["sh", "-c", command])  # type: ignore[attr-defined]
        return code, out.decode(errors="replace")

    def diff(self) -> list[tuple[str, int]]:
        """docker diff, less the journal (systemd may rotate it any time)."""
        changes = self.container.diff() or []  # type: ignore[attr-defined]
        return sorted((c["Path"], c["Kind"]) for c in changes if not c["Path"].startswith("/var/log/journal"))


@pytest.fixture
def pythonless(lab_client: object, tmp_path: Path) -> Iterator[PythonLess]:
    """A lab host of its own whose python3 packages are purged."""
    from fleet.lab.lab import Lab, LabSpec

    lab = Lab(LabSpec(name=NAME, hosts=1, directory=tmp_path / "lab"), client=lab_client, say=print)
    lab.down()
    try:
        inventory = lab.up(inventory_out=tmp_path / "inventory.yml")
        container = lab.client.containers.get(lab.spec.container(1))
        code, out = container.exec_run(["sh", "-c", PURGE])
        assert code == 0, out.decode(errors="replace")[-800:]
        data = yaml.safe_load(inventory.read_text())
        data["all"]["children"][NAME]["vars"]["bootstrap_python"] = True
        bootstrap = tmp_path / "bootstrap.yml"
        bootstrap.write_text(yaml.safe_dump(data))
        yield PythonLess(lab, container, inventory, bootstrap)
    finally:
        lab.down()


def test_check_mode_never_installs_python_and_apply_does(pythonless: PythonLess, tmp_path: Path) -> None:
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAY)
    # Without the variable: the message names it (and this first login does sshd's bookkeeping).
    plain = run_fleet("check", "-i", str(pythonless.inventory), str(playbook))
    assert plain.returncode == 1, output(plain)
    assert "python3 not found on the host" in plain.stdout, output(plain)
    assert "bootstrap_python: true" in plain.stdout
    before = pythonless.diff()

    for command in ("check", "drift"):
        checked = run_fleet(command, "-i", str(pythonless.bootstrap_inventory), str(playbook),
                            "--json", str(tmp_path / f"{command}.json"), timeout=600)
        assert checked.returncode == 1, output(checked)
        assert pythonless.sh("command -v python3")[0] != 0, f"fleet {command} installed python3"
        assert pythonless.diff() == before, f"fleet {command} wrote to the host"
        if command == "check":
            data = report(tmp_path / "check.json")
            host = next(iter(data["hosts"].values()))
            assert host["status"] == "unreachable" and data["summary"]["changed"] == 0, host
            message = host["results"][0]["msg"]
            assert "python3 not found on the host" in message
            assert "not installed in check mode" in message and "bootstrap_python: true installs it" in message
    assert pythonless.sh("test -e /etc/bootstrap-marker")[0] != 0

    applied = run_fleet("apply", "-i", str(pythonless.bootstrap_inventory), str(playbook), timeout=900)
    assert applied.returncode == 0, output(applied)
    assert pythonless.sh("python3 -c 'print(6 * 7)'") == (0, "42\n")
    assert pythonless.sh("cat /etc/bootstrap-marker") == (0, "converged\n")
