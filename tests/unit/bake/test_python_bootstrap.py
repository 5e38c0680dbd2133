"""Installing python3 on a host without it: the raw shell script against fake package
managers (local transport), and ``bootstrap_python`` in an inventory end to end."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from fleet.connection.pyinstall import Bootstrap, ensure_python, parse, purge_python
from fleet.errors import ConnectionFailed
from fleet.transport.local import LocalTransport
from tests.conftest import fleet

FAKE_PY = "fleet-fake-python3"


def _fake_apt(bin_dir: Path, state: Path, python: str = "/bin/true") -> None:
    """apt-get/dpkg-query stand-ins: install 'adds' python3 + libpython3-stdlib and links the
    interpreter into bin_dir; purge records its arguments."""
    bin_dir.mkdir()
    state.mkdir()
    scripts = {
        "id": "#!/bin/sh\necho 0\n",
        "apt-get": f"""#!/bin/sh
echo "apt-get $*" >> {state}/log
case "$*" in
  *install*) touch {state}/installed; ln -sf {python} {bin_dir}/{FAKE_PY} ;;
  *purge*) rm -f {state}/installed {bin_dir}/{FAKE_PY} ;;
esac
""",
        "dpkg-query": f"""#!/bin/sh
echo "install ok installed base-files"
echo "deinstall ok config-files oldpkg"
[ -e {state}/installed ] && printf 'install ok installed python3\\ninstall ok installed libpython3-stdlib\\n'
exit 0
""",
    }
    for name, text in scripts.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)


@pytest.fixture
def fake_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    bin_dir, state = tmp_path / "bin", tmp_path / "state"
    _fake_apt(bin_dir, state, sys.executable)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return bin_dir, state


def test_missing_python_is_installed_and_purged_exactly(fake_host: tuple[Path, Path]) -> None:
    bin_dir, state = fake_host
    done = asyncio.run(_run(ensure_python(LocalTransport(), FAKE_PY)))
    assert done == Bootstrap("apt", ["python3", "libpython3-stdlib"])
    assert "apt-get install -y -q --no-install-recommends python3" in (state / "log").read_text()
    assert (bin_dir / FAKE_PY).exists()

    again = asyncio.run(_run(ensure_python(LocalTransport(), FAKE_PY)))
    assert again == Bootstrap() and not again.installed  # present now: nothing to do

    asyncio.run(_run(purge_python(LocalTransport(), done)))
    assert "apt-get purge -y -q python3 libpython3-stdlib" in (state / "log").read_text()
    assert not (bin_dir / FAKE_PY).exists()


def test_no_known_package_manager_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "id").write_text("#!/bin/sh\necho 0\n")
    (bin_dir / "id").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(ConnectionFailed, match=r"python3 is missing and fleet could not install it: "
                                               r"no package manager fleet knows \(apt-get, dnf, yum, apk\)"):
        asyncio.run(_run(ensure_python(LocalTransport(), "python3")))


def test_parse_ignores_package_manager_noise() -> None:
    assert parse("Reading...\nfleet-bootstrap installed apk\nfleet-bootstrap added python3\nnoise added x\n") \
        == Bootstrap("apk", ["python3"])


async def _run(work):  # noqa: ANN001, ANN202 - any coroutine
    return await work


def test_inventory_bootstrap_python_end_to_end(fake_host: tuple[Path, Path], tmp_path: Path) -> None:
    bin_dir, _ = fake_host
    inventory = tmp_path / "inv.yml"
    host = {"ansible_connection": "local", "ansible_python_interpreter": str(bin_dir / FAKE_PY)}
    inventory.write_text(json.dumps({"all": {"hosts": {"without": host}}}))
    env = {"PATH": os.environ["PATH"]}

    refused = fleet("run", "-i", str(inventory), "all", "-m", "ping", env=env)
    assert refused.returncode == 1
    assert "not found on the host" in refused.stdout
    assert "or set bootstrap_python: true (fleet bake --bootstrap-python) to have fleet install it" in refused.stdout

    host["bootstrap_python"] = True
    inventory.write_text(json.dumps({"all": {"hosts": {"without": host}}}))
    installed = fleet("run", "-i", str(inventory), "all", "-m", "ping", env=env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert (bin_dir / FAKE_PY).resolve() == Path(sys.executable).resolve()


def test_check_mode_never_runs_the_package_manager(fake_host: tuple[Path, Path], tmp_path: Path) -> None:
    bin_dir, state = fake_host
    inventory = tmp_path / "inv.yml"
    host = {"ansible_connection": "local", "ansible_python_interpreter": str(bin_dir / FAKE_PY),
            "bootstrap_python": True}
    inventory.write_text(json.dumps({"all": {"hosts": {"without": host}}}))
    playbook = tmp_path / "play.yml"
    playbook.write_text("- hosts: all\n  gather_facts: false\n  tasks:\n    - ping:\n")
    for args in (("check",), ("apply", "--check")):
        checked = fleet(*args, "-i", str(inventory), str(playbook), env={"PATH": os.environ["PATH"]})
        assert checked.returncode == 1, checked.stdout + checked.stderr
        assert "not installed in check mode" in checked.stdout
        assert not (state / "log").exists() and not (bin_dir / FAKE_PY).exists()
