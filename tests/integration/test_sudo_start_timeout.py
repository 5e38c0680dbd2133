"""A sudo that never lets the agent start: the timeout says it was sudo and where it waited
(before asking for the password, or after it), never only "agent did not start"; the become
password is never shown. The hang is a PAM module that does not return (/bin/sleep through
pam_exec), before or after pam_unix asks for the password."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import ITLab, output, run_fleet
from tests.secretforms import assert_hidden

PAM = "/etc/pam.d/sudo"
HANG = "auth optional pam_exec.so /bin/sleep 600"


@contextlib.contextmanager
def _hanging_pam(lab: ITLab, host: str, before_password: bool) -> Iterator[None]:
    saved = f"{PAM}.test-saved"
    body = f"echo '{HANG}'; cat {saved}" if before_password else f"cat {saved}; echo '{HANG}'"
    lab.sh(host, f"cp -p {PAM} {saved} && {{ {body}; }} > {PAM}")
    try:
        yield
    finally:
        lab.sh(host, f"mv {saved} {PAM}; pkill -f '/bin/sleep 600'", check=False)


@pytest.mark.parametrize(("before_password", "expected"), [
    (True, "sudo to root did not start the agent within 30 s: sudo printed nothing and never asked for the "
           "password (a PAM module before the password hung?)"),
    (False, "sudo to root did not start the agent within 30 s after it was given the become password: sudo or "
            "a PAM module did not answer, or it asks for more than the password"),
], ids=["before-the-password", "after-the-password"])
def test_a_sudo_that_hangs_is_named(lab: ITLab, tmp_path: Path, before_password: bool, expected: str) -> None:
    from fleet.lab.image import PWSUDO_PASSWORD

    inventory = lab.derived(tmp_path / "inv.yml", group_vars={"ansible_user": "pwsudo"})
    password = tmp_path / "pw"
    password.write_text(PWSUDO_PASSWORD + "\n")
    password.chmod(0o600)
    with _hanging_pam(lab, "itest1", before_password):
        result = run_fleet("run", "-i", str(inventory), "itest1", "-b", "--become-password-file", str(password),
                           "-m", "ping", "--json", str(tmp_path / "r.json"), timeout=300)
    assert result.returncode == 1, output(result)
    assert expected in result.stdout, output(result)
    assert_hidden(PWSUDO_PASSWORD, "the output", output(result))
    assert_hidden(PWSUDO_PASSWORD, "the JSON report", (tmp_path / "r.json").read_text())
