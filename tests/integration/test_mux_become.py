"""A root agent kept by the persistence daemon serves only runs that know the sudo password."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import fleet
from tests.integration.conftest import ITLab, output


@pytest.fixture
def persist(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {"FLEET_PERSIST": "120", "FLEET_MUX_DIR": str(tmp_path / "mux")}
    yield env
    fleet("mux", "stop", env=env)


def _run(inventory: Path, env: dict[str, str], *extra: str) -> tuple[int, str]:
    """``id -un`` and the agent's pid on itest1 with become; (exit code, output)."""
    result = fleet("run", "-i", str(inventory), "itest1", "-b", "-m", "shell", "-a", "echo agent=$PPID; id -un",
                   *extra, env=env, timeout=180)
    text = output(result)
    assert "Traceback" not in text, text
    return result.returncode, text


def _agent(text: str) -> int:
    return int(text.split("agent=")[1].split()[0])


def test_a_kept_root_agent_needs_the_same_sudo_password(lab: ITLab, tmp_path: Path,
                                                         persist: dict[str, str]) -> None:
    from fleet.lab.image import PWSUDO_PASSWORD

    inventory = lab.derived(tmp_path / "inv.yml", group_vars={"ansible_user": "pwsudo"})
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.write_text(PWSUDO_PASSWORD + "\n")
    bad.write_text("not-the-password\n")

    code, text = _run(inventory, persist, "--become-password-file", str(good))
    assert code == 0, text
    assert "root" in text.split("agent=")[1]
    kept = _agent(text)
    mine = fleet("mux", "status", env=persist).stdout
    assert f"agent pid {kept}" in mine and "become root, with a sudo password" in mine, mine

    # no password: sudo -n on the host, which asks for one; the kept root agent is not lent
    code, text = _run(inventory, persist)
    assert code == 1, text
    assert "password is required" in text and "-K" in text, text
    assert "agent=" not in text

    # a wrong password: refused by sudo on the host, the kept agent is not lent
    code, text = _run(inventory, persist, "--become-password-file", str(bad))
    assert code == 1, text
    assert "incorrect password" in text and "agent=" not in text, text
    assert "not-the-password" not in text

    # the right password again: the kept agent, still root
    code, text = _run(inventory, persist, "--become-password-file", str(good))
    assert code == 0, text
    assert _agent(text) == kept and "root" in text.split("agent=")[1]
    assert PWSUDO_PASSWORD not in text
    assert PWSUDO_PASSWORD not in (Path(persist["FLEET_MUX_DIR"]) / "mux.log").read_text()
