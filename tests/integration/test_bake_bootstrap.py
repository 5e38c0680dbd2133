"""fleet bake on an image whose python3 was removed: a clear error naming the option, then
--bootstrap-python installs python3 with apt (from the image's own apt sources, the mirror
the lab image was built from) and --purge-python removes it again before the commit."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.bakehelp import bake_containers, remove_images
from tests.integration.conftest import ITLab, output, run_fleet

PLAY = ('- hosts: all\n  gather_facts: true\n  tasks:\n'
        '    - name: marker\n      copy: {dest: /etc/bake-marker, content: "{{ ansible_facts.os_family }}\\n"}\n')
PURGE = ("DEBIAN_FRONTEND=noninteractive apt-get purge -y -q --autoremove 'python3*' 'libpython3*' >/dev/null "
         "&& ! command -v python3")


@pytest.fixture(scope="module")
def nopython(itlab: ITLab) -> Iterator[str]:
    """The lab base image with every python3 package purged (same command: /sbin/init)."""
    from fleet.lab.image import image_tag

    client = itlab.lab.client
    tag = f"fleet-itest-nopython:{uuid.uuid4().hex[:8]}"
    box = client.containers.run(image_tag(), entrypoint=["/bin/sh", "-c", "sleep 600"], detach=True,
                                labels={"fleet.itest.bake": "1"})
    try:
        code, out = box.exec_run(["/bin/sh", "-c", PURGE])
        assert code == 0, out.decode(errors="replace")[-800:]
        box.kill()
        repository, _, version = tag.partition(":")
        box.commit(repository=repository, tag=version, conf={"Entrypoint": [], "Cmd": ["/sbin/init"]})
    finally:
        box.remove(force=True)
    yield tag
    remove_images(client, tag)


@pytest.fixture
def made(itlab: ITLab) -> Iterator[list[str]]:
    tags: list[str] = []
    yield tags
    remove_images(itlab.lab.client, *tags)


def _run_in(client: Any, tag: str, command: str) -> tuple[int, str]:
    box = client.containers.run(tag, entrypoint=["/bin/sh", "-c", "sleep 600"], detach=True,
                                labels={"fleet.itest.bake": "1"})
    try:
        code, out = box.exec_run(["/bin/sh", "-c", command])
        return code, out.decode(errors="replace")
    finally:
        box.remove(force=True)


def test_python_less_image_without_the_option_is_one_clear_error(itlab: ITLab, nopython: str, made: list[str],
                                                                 tmp_path: Path) -> None:
    (tmp_path / "play.yml").write_text(PLAY)
    made.append(f"fleet-itest-bake:nopy-{uuid.uuid4().hex[:8]}")
    result = run_fleet("bake", "--from", nopython, "--tag", made[-1], str(tmp_path / "play.yml"))
    assert result.returncode == 1
    assert "python3 not found on the host" in result.stderr, output(result)
    assert "or set bootstrap_python: true (fleet bake --bootstrap-python) to have fleet install it" in result.stderr
    assert not itlab.lab.client.images.list(filters={"reference": made[-1]})
    assert bake_containers(itlab.lab.client) == []


def test_bootstrap_then_purge_bakes_a_python_less_image(itlab: ITLab, nopython: str, made: list[str],
                                                        tmp_path: Path) -> None:
    (tmp_path / "play.yml").write_text(PLAY)
    client = itlab.lab.client
    made.append(f"fleet-itest-bake:purged-{uuid.uuid4().hex[:8]}")
    purged = run_fleet("bake", "--bootstrap-python", "--purge-python", "--from", nopython, "--tag", made[-1],
                       str(tmp_path / "play.yml"), timeout=600)
    assert purged.returncode == 0, output(purged)
    assert "python3 was missing: installed with apt" in purged.stderr
    assert "removed the bootstrapped python3 (" in purged.stderr
    code, out = _run_in(client, made[-1], "cat /etc/bake-marker; command -v python3; "
                                          "dpkg-query -W -f '${Status}\\n' python3 2>/dev/null | grep -c '^install ok installed'")
    assert out.split()[:1] == ["Debian"] and "/python3" not in out and out.split()[-1] == "0", out

    made.append(f"fleet-itest-bake:kept-{uuid.uuid4().hex[:8]}")
    kept = run_fleet("bake", "--bootstrap-python", "--from", nopython, "--tag", made[-1],
                     str(tmp_path / "play.yml"), timeout=600)
    assert kept.returncode == 0, output(kept)
    code, out = _run_in(client, made[-1], "python3 -c 'print(42)'")
    assert (code, out.strip()) == (0, "42")
    assert client.images.get(made[-1]).attrs["Config"]["Cmd"] == ["/sbin/init"]
