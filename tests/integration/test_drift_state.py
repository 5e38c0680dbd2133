"""``fleet drift``'s state directory and reports on a lab host: a 0600 file holding a secret
drifts; the state directory is made private (0700, files 0600, an older 0755 one tightened
with a warning), no state file holds the file's content without ``--diff`` while the drift is
still classified (persisting; new again when the content changes), ``--diff`` keeps it, and
the reports are 0600 unless ``--report-mode`` opens one."""

from __future__ import annotations

import secrets
import stat
from pathlib import Path
from typing import Any

from tests.integration.conftest import HOSTS, ITLab, output, report, run_fleet

HOST = HOSTS[0]
SECRET_FILE = "/etc/fleet-drift-secret.conf"
PLAYBOOK = f"""\
- name: a private file
  hosts: all
  gather_facts: false
  tasks:
    - name: api credentials
      copy:
        dest: {SECRET_FILE}
        content: "api_token = {{{{ api_token }}}}\\n"
        mode: "0600"
"""


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def state_texts(state: Path) -> dict[str, str]:
    """Every file under the state directory, by relative path, as text."""
    return {str(p.relative_to(state)): p.read_text(errors="replace") for p in state.rglob("*") if p.is_file()}


def drifted(data: dict[str, Any]) -> dict[str, Any]:
    tasks = data["drift"]["hosts"][HOST]["tasks"]
    [task] = [t for t in tasks if t["status"] == "drift"]
    return dict(task["drift"])


def test_drift_state_is_private_and_keeps_no_content(lab: ITLab, tmp_path: Path) -> None:
    token, edited, again = (f"sk-{secrets.token_hex(16)}" for _ in range(3))
    playbook = tmp_path / "secret.yml"
    playbook.write_text(PLAYBOOK)
    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    state.chmod(0o755)  # what an earlier fleet left: readable by everyone
    reports = {fmt: tmp_path / "out" / f"drift.{fmt}" for fmt in ("json", "junit", "prom", "html")}

    def drift(*extra: str, expect: int) -> tuple[dict[str, Any], str]:
        run = run_fleet("drift", "-i", str(lab.inventory), "--limit", HOST, str(playbook), "-e",
                        f"api_token={token}", "--state-dir", str(state), "--json", str(reports["json"]),
                        "--junit", str(reports["junit"]), "--prom", str(reports["prom"]),
                        "--html", str(reports["html"]), *extra)
        assert run.returncode == expect, output(run)
        return report(reports["json"]), output(run)

    try:
        applied = run_fleet("apply", "-i", str(lab.inventory), "--limit", HOST, str(playbook), "-e",
                            f"api_token={token}")
        assert applied.returncode == 0, output(applied)
        assert lab.stat(HOST, SECRET_FILE)[0] == "0600"
        lab.sh(HOST, f"sed -i 's/{token}/{edited}/' {SECRET_FILE}")

        first, text = drift("--report-mode", "prom=0644", expect=2)
        item = drifted(first)
        assert item["state"] == "new" and item["fields"] == ["content"], item
        assert f"-api_token = {edited}" in item["unified"]["content"]  # the report is complete
        assert f"--state-dir {state} was 0755 (others could read it): now 0700" in text
        assert f"--state-dir {state} was 0755" in " ".join(first["warnings"])
        assert mode(state) == 0o700 and mode(state / "runs") == 0o700
        files = state_texts(state)
        assert {"known.json", "digest.key", ".lock"} <= set(files) and len(list((state / "runs").iterdir())) == 1
        assert all(mode(state / name) == 0o600 for name in files), {n: oct(mode(state / n)) for n in files}
        for name, body in files.items():
            assert edited not in body and token not in body, f"{name} holds the file's content"
        assert {fmt: mode(path) for fmt, path in reports.items()} == {
            "json": 0o600, "junit": 0o600, "prom": 0o644, "html": 0o600}

        second, _ = drift(expect=2)
        assert drifted(second)["state"] == "persisting"
        assert drifted(second)["first_seen"] == item["first_seen"]
        assert all(edited not in body for body in state_texts(state).values())

        kept, _ = drift("--diff", "--report-mode", "0640", expect=2)
        assert drifted(kept)["state"] == "persisting"
        newest = sorted((state / "runs").iterdir())[-1]
        assert edited in newest.read_text() and mode(newest) == 0o600  # --diff keeps the values
        assert all(mode(path) == 0o640 for path in reports.values())

        lab.sh(HOST, f"sed -i 's/{edited}/{again}/' {SECRET_FILE}")
        changed, text = drift(expect=2)
        item = drifted(changed)
        assert item["state"] == "new" and item["earlier_first_seen"] == first["drift"]["started"], item
        assert "unlike the drift known since" in text
        assert all(again not in body for body in state_texts(state).values())
    finally:
        lab.sh(HOST, f"rm -f {SECRET_FILE}", check=False)
